package adaptersdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// fake is an in-process provider for the SDK's own tests.
type fake struct{ planErr error }

func (fake) GetProviderInfo(context.Context) (*deploy.ProviderInfo, error) {
	return &deploy.ProviderInfo{Name: "fake", Version: "1"}, nil
}
func (fake) ValidateConfig(_ context.Context, r *deploy.ValidateRequest) (*deploy.ValidateResponse, error) {
	return &deploy.ValidateResponse{Valid: r.Config == "{}"}, nil
}
func (f fake) Plan(_ context.Context, r *deploy.PlanRequest) (*deploy.PlanResponse, error) {
	if f.planErr != nil {
		return nil, f.planErr
	}
	return &deploy.PlanResponse{Summary: fmt.Sprintf("%d bytes of pack for %s", len(r.PackJSON), r.Environment)}, nil
}
func (fake) Apply(_ context.Context, _ *deploy.PlanRequest, cb deploy.ApplyCallback) (string, error) {
	_ = cb(&deploy.ApplyEvent{Type: deploy.EventResource, Resource: &deploy.ResourceResult{Name: "a", Status: "created"}})
	return "half-done", errors.New("quota exceeded")
}
func (fake) Destroy(_ context.Context, _ *deploy.DestroyRequest, cb deploy.DestroyCallback) error {
	return cb(&deploy.DestroyEvent{Type: deploy.EventComplete})
}
func (fake) Status(context.Context, *deploy.StatusRequest) (*deploy.StatusResponse, error) {
	return &deploy.StatusResponse{Status: "deployed"}, nil
}
func (fake) Import(context.Context, *deploy.ImportRequest) (*deploy.ImportResponse, error) {
	return nil, &deploy.RPCError{Code: deploy.CodeMethodNotFound, Message: "import not supported"}
}

func serve(t *testing.T, p deploy.Provider, in string) []deploy.RPCResponse {
	t.Helper()
	var out bytes.Buffer
	if err := ServeIO(context.Background(), p, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	var resps []deploy.RPCResponse
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r deploy.RPCResponse
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		resps = append(resps, r)
	}
	return resps
}

func TestServeErrorCodes(t *testing.T) {
	in := strings.Join([]string{
		`this is not json`,
		`{"jsonrpc":"2.0","id":1,"method":"get_provider_info"}`,
		`{"jsonrpc":"2.0","id":2,"method":"no_such_method","params":{}}`,
		`{"jsonrpc":"2.0","id":3,"method":"plan","params":{"pack_json":"{}","environment":"prod"}}`,
		`{"jsonrpc":"2.0","id":4,"method":"plan","params":"not an object"}`,
		`{"jsonrpc":"2.0","id":5,"method":"import","params":{}}`,
		`{"jsonrpc":"2.0","id":6,"method":"apply","params":{}}`,
		`{"jsonrpc":"2.0","id":7}`,
		`{"params":{"environment":"x"},"method":"plan","id":8,"jsonrpc":"2.0"}`,
		`{"jsonrpc":"2.0","id":9,"method":"get_login_url","params":{"callback_url":"http://127.0.0.1:1/cb","state":"s"}}`,
		`{"jsonrpc":"2.0","id":10,"method":"complete_login","params":{"params":{"code":"c"}}}`,
	}, "\n")
	r := serve(t, fake{}, in)
	if len(r) != 11 {
		t.Fatalf("%d responses", len(r))
	}
	check := func(i, code int) {
		t.Helper()
		if code == 0 && r[i].Error != nil || code != 0 && (r[i].Error == nil || r[i].Error.Code != code) {
			t.Errorf("response %d: %+v", i, r[i].Error)
		}
	}
	check(0, deploy.CodeParseError) // and serving goes on
	check(1, 0)
	check(2, deploy.CodeMethodNotFound)
	check(3, 0)
	check(4, deploy.CodeParseError) // PromptKit's SDK answers invalid params with -32700
	if r[4].Error == nil || !strings.HasPrefix(r[4].Error.Message, "invalid params: ") {
		t.Errorf("invalid params message: %+v", r[4].Error)
	}
	check(5, deploy.CodeMethodNotFound)
	check(6, deploy.CodeInternalError)
	check(7, deploy.CodeMethodNotFound) // no method: as PromptKit's SDK answers
	check(8, 0)                         // params before method
	// No login here: answered as PromptKit's SDK answers for a provider
	// without LoginProvider, which clients read as ErrMethodNotSupported.
	check(9, deploy.CodeMethodNotFound)
	check(10, deploy.CodeMethodNotFound)
	if !strings.Contains(string(r[3].Result), "2 bytes of pack for prod") || !strings.Contains(string(r[8].Result), "for x") {
		t.Errorf("plan results: %s / %s", r[3].Result, r[8].Result)
	}
	if string(r[3].ID) != "3" {
		t.Errorf("id %s", r[3].ID)
	}
	// A failed apply carries what was deployed before the failure.
	if got := deploy.PartialState(r[6].Error); got != "half-done" {
		t.Errorf("partial state %q", got)
	}
}

// BenchmarkServePlan10MB is the adapter side of a 10 MB plan: read the
// line, decode it, plan, answer.
func BenchmarkServePlan10MB(b *testing.B) {
	pack := strings.Repeat(`{"k":"v \"q\" \\ x"},`, 10<<20/20)
	req, _ := json.Marshal(deploy.RPCRequest{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: "plan",
		Params: mustJSON(deploy.PlanRequest{PackJSON: pack, DeployConfig: "{}"})})
	line := append(req, '\n')
	b.SetBytes(int64(len(line)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ServeIO(context.Background(), fake{}, bytes.NewReader(line), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// TestWriteResponseAsMarshal: a result encoded straight into its response
// is json.Marshal's response with the result marshalled into it, byte for
// byte; a result that cannot be encoded is an internal error.
func TestWriteResponseAsMarshal(t *testing.T) {
	results := []any{
		&deploy.PlanResponse{Summary: "<b>&</b> \u2028 é", Changes: []deploy.ResourceChange{{Type: "prompt", Name: "a<b", Action: deploy.ActionCreate}}},
		(*deploy.PlanResponse)(nil),
		map[string]any{"z": 1, "a": []int{1, 2}},
		"plain",
	}
	for _, id := range []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`"<id>"`), nil, json.RawMessage(`{ "a" : 1 }`)} {
		for _, result := range results {
			raw, _ := json.Marshal(result)
			want, _ := json.Marshal(&deploy.RPCResponse{JSONRPC: "2.0", ID: id, Result: raw})
			var got bytes.Buffer
			bw := bufio.NewWriter(&got)
			if err := writeResponse(bw, &deploy.RPCResponse{JSONRPC: "2.0", ID: id}, result); err != nil {
				t.Fatal(err)
			}
			bw.Flush()
			if got.String() != string(want)+"\n" {
				t.Errorf("id %s, result %v:\n got %s\nwant %s", id, result, got.Bytes(), want)
			}
		}
	}
	var got bytes.Buffer
	bw := bufio.NewWriter(&got)
	if err := writeResponse(bw, &deploy.RPCResponse{JSONRPC: "2.0", ID: json.RawMessage(`7`)}, func() {}); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	var resp deploy.RPCResponse
	if err := json.Unmarshal(got.Bytes(), &resp); err != nil || resp.Error == nil || resp.Error.Code != deploy.CodeInternalError ||
		!strings.HasPrefix(resp.Error.Message, "encode result: ") || string(resp.ID) != "7" || strings.Count(got.String(), "\n") != 1 {
		t.Errorf("unencodable result answered %q (%v)", got.String(), err)
	}
}

// TestPlanResultAsMarshal: a plan's response, written a change at a time,
// is json.Marshal's, for every field the wire types have (filled by
// reflection: a field added to them fails this test until the writer
// writes it), empty ones left out as omitempty says, and text that JSON
// and HTML escape.
func TestPlanResultAsMarshal(t *testing.T) {
	texts := []string{"", "plain", `"q" \ <a href=x>&amp;</a>`, "é \u2028 \u2029 \x01 \t\n", "bad \xff utf-8"}
	fill := func(v reflect.Value, k int) {
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.Kind() == reflect.String {
				f.SetString(texts[(k+i)%len(texts)])
			}
		}
	}
	var plans []*deploy.PlanResponse
	for k := range 3 * len(texts) {
		p := &deploy.PlanResponse{}
		fill(reflect.ValueOf(p).Elem(), k)
		if k%3 != 0 {
			for j := range k {
				var c deploy.ResourceChange
				fill(reflect.ValueOf(&c).Elem(), k+j)
				p.Changes = append(p.Changes, c)
			}
		}
		if k%2 == 1 {
			p.Warnings = texts[:k%len(texts)]
		}
		if k == 4 {
			p.Changes = []deploy.ResourceChange{}
		}
		plans = append(plans, p)
	}
	big := &deploy.PlanResponse{Summary: "s"}
	for i := range 5000 {
		big.Changes = append(big.Changes, deploy.ResourceChange{Type: "prompt", Name: fmt.Sprint("p", i), Action: deploy.ActionCreate, Detail: "write <x>"})
	}
	plans = append(plans, big)
	if n := reflect.TypeOf(deploy.PlanResponse{}).NumField() + reflect.TypeOf(deploy.ResourceChange{}).NumField(); n != 7 {
		t.Fatalf("the wire types have %d fields: writePlanResult writes 7", n)
	}
	for _, p := range plans {
		raw, _ := json.Marshal(p)
		want, _ := json.Marshal(&deploy.RPCResponse{JSONRPC: "2.0", ID: json.RawMessage(`"id"`), Result: raw})
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		if err := writeResponse(bw, &deploy.RPCResponse{JSONRPC: "2.0", ID: json.RawMessage(`"id"`)}, p); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		if got.String() != string(want)+"\n" {
			t.Fatalf("plan %+.200v:\n got %.300s\nwant %.300s", p, got.Bytes(), want)
		}
	}
}
