package localadapter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// pkClient talks to an adapter as PromptKit's AdapterClient does
// (runtime/deploy/client.go at head): requests {"jsonrpc","method",
// "params" (omitted when nil),"id" (int)} one per line, responses read with
// a bufio.Scanner of at most 10 MB and decoded with an int id, result into
// PromptKit's types.
type pkClient struct {
	t      *testing.T
	stdin  io.WriteCloser
	stdout *bufio.Scanner
	nextID int
}

type pkRPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (c *pkClient) call(method string, params, result any) *pkRPCError {
	c.t.Helper()
	c.nextID++
	req := struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  any    `json:"params,omitempty"`
		ID      int    `json:"id"`
	}{"2.0", method, params, c.nextID}
	data, _ := json.Marshal(req)
	if _, err := c.stdin.Write(append(data, '\n')); err != nil {
		c.t.Fatalf("%s: write: %v", method, err)
	}
	if !c.stdout.Scan() {
		c.t.Fatalf("%s: adapter closed the connection: %v", method, c.stdout.Err())
	}
	var resp struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  json.RawMessage `json:"result,omitempty"`
		Error   *pkRPCError     `json:"error,omitempty"`
		ID      int             `json:"id"`
	}
	if err := json.Unmarshal(c.stdout.Bytes(), &resp); err != nil {
		c.t.Fatalf("%s: PromptKit's client cannot decode the response: %v", method, err)
	}
	if resp.ID != c.nextID {
		c.t.Fatalf("%s: id %d, want %d", method, resp.ID, c.nextID)
	}
	if resp.Error != nil {
		return resp.Error
	}
	if result != nil {
		dec := json.NewDecoder(bytes.NewReader(resp.Result))
		dec.DisallowUnknownFields() // every field we send is one PromptKit knows
		if err := dec.Decode(result); err != nil {
			c.t.Fatalf("%s: PromptKit's client cannot decode the result %s: %v", method, resp.Result, err)
		}
	}
	return nil
}

// PromptKit's types (runtime/deploy/provider.go at head), as the client
// decodes them.
type (
	pkLink struct {
		Label string `json:"label"`
		URL   string `json:"url"`
		Rel   string `json:"rel,omitempty"`
	}
	pkResourceResult struct {
		Type   string   `json:"type"`
		Name   string   `json:"name"`
		Action string   `json:"action"`
		Status string   `json:"status"`
		Detail string   `json:"detail,omitempty"`
		Links  []pkLink `json:"links,omitempty"`
	}
	pkEvent struct {
		Type     string            `json:"type"`
		Message  string            `json:"message,omitempty"`
		Resource *pkResourceResult `json:"resource,omitempty"`
	}
	pkPlanRequest struct {
		PackJSON     string `json:"pack_json"`
		DeployConfig string `json:"deploy_config"`
		ArenaConfig  string `json:"arena_config,omitempty"`
		Environment  string `json:"environment,omitempty"`
		PriorState   string `json:"prior_state,omitempty"`
	}
	pkStatusRequest struct {
		DeployConfig string `json:"deploy_config"`
		Environment  string `json:"environment,omitempty"`
		PriorState   string `json:"prior_state,omitempty"`
	}
)

// TestPromptKitClientDrivesReferenceAdapter: PromptKit's client drives our
// reference adapter (built on our SDK) through its whole life, decoding
// every answer into PromptKit's own types; login, which it does not serve,
// is answered -32601 (PromptKit's ErrMethodNotSupported).
func TestPromptKitClientDrivesReferenceAdapter(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(deploytest.LocalAdapter(t))
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 10<<20)
	c := &pkClient{t: t, stdin: stdin, stdout: sc}

	var info struct {
		Name         string   `json:"name"`
		Version      string   `json:"version"`
		Capabilities []string `json:"capabilities,omitempty"`
		ConfigSchema string   `json:"config_schema,omitempty"`
	}
	if e := c.call("get_provider_info", nil, &info); e != nil || info.Name != "local" {
		t.Fatalf("provider info: %+v %+v", info, e)
	}
	cfg := `{"target_dir":"out"}`
	var valid struct {
		Valid    bool     `json:"valid"`
		Errors   []string `json:"errors,omitempty"`
		Warnings []string `json:"warnings,omitempty"`
	}
	if e := c.call("validate_config", map[string]string{"config": cfg}, &valid); e != nil || !valid.Valid {
		t.Fatalf("validate: %+v %+v", valid, e)
	}
	pack, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(), "testdata", "example", "support-bot.pack.json"))
	if err != nil {
		t.Fatal(err)
	}
	req := &pkPlanRequest{PackJSON: string(pack), DeployConfig: cfg, ArenaConfig: `{"providers":null,"defaults":{"output":{}}}`, Environment: "production"}
	var plan struct {
		Changes []struct {
			Type   string `json:"type"`
			Name   string `json:"name"`
			Action string `json:"action"`
			Detail string `json:"detail,omitempty"`
		} `json:"changes"`
		Summary  string   `json:"summary"`
		Warnings []string `json:"warnings,omitempty"`
	}
	if e := c.call("plan", req, &plan); e != nil || len(plan.Changes) == 0 {
		t.Fatalf("plan: %+v %+v", plan, e)
	}
	var applied struct {
		AdapterState string     `json:"adapter_state"`
		Events       []*pkEvent `json:"events,omitempty"`
	}
	if e := c.call("apply", req, &applied); e != nil || applied.AdapterState == "" || len(applied.Events) == 0 {
		t.Fatalf("apply: %+v %+v", applied, e)
	}
	var status struct {
		Status    string `json:"status"`
		Resources []struct {
			Type   string   `json:"type"`
			Name   string   `json:"name"`
			Status string   `json:"status"`
			Detail string   `json:"detail,omitempty"`
			Links  []pkLink `json:"links,omitempty"`
		} `json:"resources,omitempty"`
		State string   `json:"state,omitempty"`
		Links []pkLink `json:"links,omitempty"`
	}
	sreq := &pkStatusRequest{DeployConfig: cfg, Environment: "production", PriorState: applied.AdapterState}
	if e := c.call("status", sreq, &status); e != nil || status.Status != "deployed" {
		t.Fatalf("status: %+v %+v", status, e)
	}
	if e := c.call("get_login_url", map[string]string{"callback_url": "http://127.0.0.1:9/cb", "state": "n"}, nil); e == nil || e.Code != -32601 {
		t.Errorf("get_login_url: %+v, want -32601", e)
	}
	if e := c.call("plan", "not an object", nil); e == nil || e.Code != -32700 {
		t.Errorf("invalid params: %+v, want -32700 as PromptKit's SDK answers", e)
	}
	var destroyed struct {
		Status string     `json:"status"`
		Events []*pkEvent `json:"events,omitempty"`
	}
	if e := c.call("destroy", sreq, &destroyed); e != nil || destroyed.Status != "destroyed" {
		t.Fatalf("destroy: %+v %+v", destroyed, e)
	}
}
