package adaptersdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// echo plans by reporting exactly what it received.
type echo struct{ fake }

func (echo) Plan(_ context.Context, r *deploy.PlanRequest) (*deploy.PlanResponse, error) {
	b, _ := json.Marshal(r)
	return &deploy.PlanResponse{Summary: string(b)}, nil
}

// TestOverlongLineAnswered: a line over the limit gets an answer that says
// so plainly, and the adapter keeps serving (PromptKit's SDK exits with
// "bufio.Scanner: token too long", which the client sees as a broken pipe).
func TestOverlongLineAnswered(t *testing.T) {
	long := `{"jsonrpc":"2.0","id":1,"method":"plan","params":{"pack_json":"` + strings.Repeat("x", MaxRequestBytes) + `"}}`
	in := long + "\n" + `{"jsonrpc":"2.0","id":2,"method":"get_provider_info"}` + "\n"
	resps := serve(t, fake{}, in)
	if len(resps) != 2 {
		t.Fatalf("%d answers, want 2", len(resps))
	}
	if e := resps[0].Error; e == nil || e.Code != deploy.CodeParseError || !strings.Contains(e.Message, "longer than this adapter reads (64.00 MiB") {
		t.Fatalf("overlong line answered %+v", resps[0])
	}
	var info deploy.ProviderInfo
	if err := json.Unmarshal(resps[1].Result, &info); err != nil || info.MaxRequestBytes() != MaxRequestBytes {
		t.Fatalf("provider info after an overlong line: %s (%v), declares %d", resps[1].Result, err, info.MaxRequestBytes())
	}
}

// TestFastDecodeMatchesSlow: plan and apply requests decoded by the one-pass
// path reach the provider exactly as encoding/json would deliver them, for
// shapes it takes and shapes it leaves to encoding/json.
func TestFastDecodeMatchesSlow(t *testing.T) {
	lines := []string{
		`{"jsonrpc":"2.0","id":1,"method":"plan","params":{"pack_json":"{\"id\":\"p\",\"t\":\"a\\nb \\\"q\\\" \\u00e9\"}","deploy_config":"{}","environment":"prod"}}`,
		`{"jsonrpc":"2.0","method":"plan","params":{"Pack_JSON":"folded"},"id":"s"}`,
		`{"params":{"pack_json":"first"},"method":"plan","id":3}`,
		`{"jsonrpc":"2.0","id":4,"method":"plan","params":{"pack_json":"x","extra":{"nested":true}}}`,
		`{"jsonrpc":"2.0","id":5,"method":"plan","params":{"pack_json":"\ud83d\ude00 and \ud800 lone"}}`,
	}
	for _, line := range lines {
		got := serve(t, echo{}, line+"\n")
		var want struct {
			ID     json.RawMessage     `json:"id"`
			Params *deploy.PlanRequest `json:"params"`
		}
		if err := json.Unmarshal([]byte(line), &want); err != nil {
			t.Fatal(err)
		}
		wantSummary, _ := json.Marshal(want.Params)
		var res deploy.PlanResponse
		if len(got) != 1 || json.Unmarshal(got[0].Result, &res) != nil || res.Summary != string(wantSummary) || !bytes.Equal(got[0].ID, want.ID) {
			t.Errorf("%s\n got %+v %s\nwant %s %s", line, got, res.Summary, want.ID, wantSummary)
		}
	}
}

// TestLineReader: lines of every size (kept buffer, chunks, exactly at
// chunk boundaries), with and without a final newline, come out whole.
func TestLineReader(t *testing.T) {
	sizes := []int{0, 1, 100, 64 << 10, 64<<10 + 1, lineChunk - 1, lineChunk, lineChunk + 1, 3*lineChunk + 7, 5}
	var in bytes.Buffer
	var want [][]byte
	for i, n := range sizes {
		line := bytes.Repeat([]byte{byte('a' + i)}, n)
		want = append(want, line)
		in.Write(line)
		if i < len(sizes)-1 {
			in.WriteByte('\n')
		}
	}
	lr := &lineReader{br: bufio.NewReaderSize(&in, 64<<10), max: MaxRequestBytes}
	for i, w := range want {
		got, size, err := lr.next()
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("line %d (%d bytes): got %d bytes (size %d), %v", i, len(w), len(got), size, err)
		}
	}
	if _, _, err := lr.next(); err != io.EOF {
		t.Fatalf("after the last line: %v", err)
	}
}

// TestBigLinesDecodeAsEncodingJSON: lines of several MiB (read into the
// region whose pages are given back while the pack is decoded, on Linux)
// reach the provider exactly as encoding/json decodes them, one after the
// other on one stream, whichever decoder takes them: the fast one (pack
// with escapes and non-ASCII text, or none at all) and encoding/json's
// (params before the method).
func TestBigLinesDecodeAsEncodingJSON(t *testing.T) {
	var sb strings.Builder
	for i := 0; sb.Len() < 5<<20; i++ {
		fmt.Fprintf(&sb, "line %d: \"quoted\" \\ back, tab\t, café <&> 😀\n", i)
	}
	escaped := sb.String()
	plain := strings.Repeat("abcdefgh", 3<<20/8)
	mk := func(id int, pack string, paramsFirst bool) string {
		params, _ := json.Marshal(deploy.PlanRequest{PackJSON: pack, DeployConfig: `{"target_dir":"out"}`, Environment: "prod"})
		if paramsFirst {
			return fmt.Sprintf(`{"params":%s,"jsonrpc":"2.0","id":%d,"method":"plan"}`, params, id)
		}
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"plan","params":%s}`, id, params)
	}
	lines := []string{
		mk(1, escaped, false),
		`{"jsonrpc":"2.0","id":2,"method":"get_provider_info"}`,
		mk(3, plain, false),
		mk(4, escaped, true),
		mk(5, escaped[:lineChunk+5], false),
		mk(6, escaped, false),
	}
	resps := serve(t, echo{}, strings.Join(lines, "\n")+"\n")
	if len(resps) != len(lines) {
		t.Fatalf("%d answers to %d lines", len(resps), len(lines))
	}
	for i, line := range lines {
		if i == 1 {
			continue
		}
		var want struct {
			ID     json.RawMessage     `json:"id"`
			Params *deploy.PlanRequest `json:"params"`
		}
		if err := json.Unmarshal([]byte(line), &want); err != nil {
			t.Fatal(err)
		}
		wantSummary, _ := json.Marshal(want.Params)
		var res deploy.PlanResponse
		if err := json.Unmarshal(resps[i].Result, &res); err != nil || res.Summary != string(wantSummary) || !bytes.Equal(resps[i].ID, want.ID) {
			t.Errorf("line %d (%d bytes): answer %s differs from what encoding/json decodes (%v)", i, len(line), resps[i].ID, err)
		}
	}
}
