package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand"
	"strings"
	"testing"
)

// packOfLine is a PlanRequest whose request line (id 2: the call after
// get_provider_info) is exactly size bytes, newline included.
func packOfLine(t *testing.T, size int) *PlanRequest {
	t.Helper()
	req := &PlanRequest{DeployConfig: `{}`, Environment: "production"}
	base, err := encodeRequest(2, MethodPlan, req)
	if err != nil {
		t.Fatal(err)
	}
	// Every '"' in the pack is escaped: two bytes on the wire.
	unit := `{"a":1},`
	n := (size - base.exactSize()) / (len(unit) + 2)
	req.PackJSON = strings.Repeat(unit, n)
	r, _ := encodeRequest(2, MethodPlan, req)
	req.PackJSON += strings.Repeat("x", size-r.exactSize())
	if r, _ := encodeRequest(2, MethodPlan, req); r.exactSize() != size {
		t.Fatalf("built a line of %d bytes, want %d", r.exactSize(), size)
	}
	return req
}

// TestPromptKitLineLimit: PromptKit's SDK reads request lines of up to 10
// MiB, newline included; the client refuses a longer one before sending it,
// instead of killing the adapter and showing a broken pipe.
func TestPromptKitLineLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		size   int
		bypass bool // send it anyway: proves the fixture's limit is where the client puts it
		want   string
	}{
		{size: PromptKitMaxRequestBytes, want: "ok"},
		{size: PromptKitMaxRequestBytes + 1, want: "too-large"},
		{size: PromptKitMaxRequestBytes + 1, bypass: true, want: "adapter-died"},
		{size: 13 << 20, want: "too-large"},
	} {
		c := startFake(t, "promptkit-limit")
		info, err := c.GetProviderInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.MaxRequestBytes(); got != PromptKitMaxRequestBytes {
			t.Fatalf("an adapter declaring nothing reads %d bytes, want PromptKit's %d", got, PromptKitMaxRequestBytes)
		}
		if tc.bypass {
			c.maxRequest = 0
		}
		_, err = c.Plan(ctx, packOfLine(t, tc.size))
		got := "ok"
		var tooLarge *RequestTooLargeError
		switch {
		case errors.As(err, &tooLarge):
			got = "too-large"
			if tooLarge.Size != tc.size || tooLarge.Limit != PromptKitMaxRequestBytes || !strings.Contains(err.Error(), "10.00 MiB") {
				t.Errorf("%d bytes: %v", tc.size, err)
			}
		case err != nil && strings.Contains(err.Error(), "token too long"):
			got = "adapter-died"
		case err != nil:
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%d bytes (bypass %v): %s, want %s", tc.size, tc.bypass, got, tc.want)
		}
	}
}

// TestRequestLineMatchesEncodingJSON: the streamed request line is byte for
// byte what encoding/json writes for the same envelope, and its announced
// size is its real size.
func TestRequestLineMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewSource(7))
	pieces := []string{"a", "\"", "\\", "\n", "\x01", "é", "😀", "\u2028", "\xff", "<&>", `{"x":[1,2]}`}
	str := func() string {
		var sb strings.Builder
		for n := r.Intn(30); n > 0; n-- {
			sb.WriteString(pieces[r.Intn(len(pieces))])
		}
		return sb.String()
	}
	for i := 0; i < 5000; i++ {
		req := &PlanRequest{PackJSON: str(), DeployConfig: str(), ArenaConfig: str(), Environment: str(), PriorState: str()}
		enc, err := encodeRequest(int64(i), MethodApply, req)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := enc.writeTo(&got); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		e := json.NewEncoder(&want)
		e.SetEscapeHTML(false)
		_ = e.Encode(struct {
			JSONRPC string       `json:"jsonrpc"`
			ID      int64        `json:"id"`
			Method  string       `json:"method"`
			Params  *PlanRequest `json:"params"`
		}{"2.0", int64(i), MethodApply, req})
		if !bytes.Equal(got.Bytes(), want.Bytes()) || enc.exactSize() != got.Len() || enc.upper < got.Len() {
			t.Fatalf("request line differs (size %d, at most %d, wrote %d):\n got %q\nwant %q", enc.exactSize(), enc.upper, got.Len(), got.Bytes(), want.Bytes())
		}
	}
}
