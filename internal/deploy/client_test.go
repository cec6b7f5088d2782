package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func startFake(t *testing.T, mode string) *AdapterClient {
	t.Helper()
	c, err := NewAdapterClient(context.Background(), os.Args[0],
		WithEnv(append(os.Environ(), "ARENA_FAKE_ADAPTER="+mode)),
		WithRedactor(func(s string) string { return strings.ReplaceAll(s, "hunter2", "***") }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var planReq = &PlanRequest{PackJSON: `{"id":"p"}`, DeployConfig: `{}`}

func TestClientMisbehavingAdapters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mode    string
		wantIs  error
		wantMsg []string
		notMsg  string
	}{
		{mode: "crash", wantIs: ErrAdapterExited, wantMsg: []string{"adapter", ": plan:", "exit status 3", "panic: runtime error", "token=***"}, notMsg: "hunter2"},
		{mode: "garbage", wantIs: ErrMalformedResponse, wantMsg: []string{": plan:", "not JSON-RPC", "Starting adapter"}},
		{mode: "wrongid", wantIs: ErrMalformedResponse, wantMsg: []string{"answered id 999, expected 2"}},
		{mode: "noresult", wantIs: ErrMalformedResponse, wantMsg: []string{"neither result nor error"}},
		{mode: "closeout", wantIs: ErrAdapterExited, wantMsg: []string{": plan:", "closing stdout, staying alive"}},
		{mode: "exit", wantIs: ErrAdapterExited, wantMsg: []string{"get_provider_info", "exit status 2", "OMNIA_API_TOKEN is not set"}},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			c := startFake(t, tc.mode)
			var err error
			if tc.mode == "exit" {
				_, err = c.GetProviderInfo(context.Background())
			} else {
				if _, err := c.GetProviderInfo(context.Background()); err != nil {
					t.Fatalf("provider info: %v", err)
				}
				_, err = c.Plan(context.Background(), planReq)
			}
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("got %v, want errors.Is %v", err, tc.wantIs)
			}
			var ce *CallError
			if !errors.As(err, &ce) {
				t.Fatalf("not a CallError: %T", err)
			}
			for _, s := range tc.wantMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if tc.notMsg != "" && strings.Contains(err.Error(), tc.notMsg) {
				t.Errorf("error leaks %q: %v", tc.notMsg, err)
			}
			// The stream is untrustworthy now: later calls fail fast.
			if _, err := c.Plan(context.Background(), planReq); err == nil || !strings.Contains(err.Error(), "unusable") {
				t.Errorf("second call: %v", err)
			}
		})
	}
}

// TestClientNullResult: PromptKit's SDK encodes a provider's nil result as
// "result": null, and PromptKit's client decodes that into an empty result.
// So do we, for every method, and the stream stays usable.
func TestClientNullResult(t *testing.T) {
	t.Parallel()
	c := startFake(t, "nullresult")
	ctx := context.Background()
	if _, err := c.GetProviderInfo(ctx); err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan(ctx, planReq)
	if err != nil || len(plan.Changes) != 0 || plan.Summary != "" {
		t.Fatalf("plan: %+v %v", plan, err)
	}
	v, err := c.ValidateConfig(ctx, &ValidateRequest{Config: "{}"})
	if err != nil || v.Valid || len(v.Errors) != 0 {
		t.Fatalf("validate: %+v %v", v, err)
	}
	st, err := c.Apply(ctx, planReq, nil)
	if err != nil || st != "" {
		t.Fatalf("apply: %q %v", st, err)
	}
	if err := c.Destroy(ctx, &DestroyRequest{}, nil); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	s, err := c.Status(ctx, &StatusRequest{})
	if err != nil || s.Status != "" {
		t.Fatalf("status: %+v %v", s, err)
	}
}

func TestClientHangKilledByDeadline(t *testing.T) {
	t.Parallel()
	c := startFake(t, "hang")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Plan(ctx, planReq)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	// Generous bound: the point is "returns", not "fast".
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v to give up", d)
	}
	select {
	case <-c.done:
	default:
		t.Fatal("hung adapter process was not reaped")
	}
}

func TestClientParentContextKillsProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := NewAdapterClient(ctx, os.Args[0], WithEnv(append(os.Environ(), "ARENA_FAKE_ADAPTER=hang")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	_, err = c.Plan(context.Background(), planReq)
	if !errors.Is(err, ErrAdapterExited) {
		t.Fatalf("got %v", err)
	}
}

func TestClientBigLine(t *testing.T) {
	t.Parallel()
	c := startFake(t, "bigline")
	resp, err := c.Plan(context.Background(), planReq)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Summary) != 20<<20 {
		t.Fatalf("summary has %d bytes", len(resp.Summary))
	}
}

func TestClientMethodNotSupported(t *testing.T) {
	t.Parallel()
	c := startFake(t, "nomethod")
	_, err := c.Import(context.Background(), &ImportRequest{})
	if !errors.Is(err, ErrMethodNotSupported) {
		t.Fatalf("got %v", err)
	}
	// An error answer keeps the session usable.
	if _, err := c.GetProviderInfo(context.Background()); err != nil {
		t.Fatalf("after -32601: %v", err)
	}
}

func TestClientApplyLegacyStateKeyAndEventOrder(t *testing.T) {
	t.Parallel()
	c := startFake(t, "state-key")
	var got []string
	state, err := c.Apply(context.Background(), planReq, func(e *ApplyEvent) error {
		got = append(got, e.Message)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if state != "legacy-state" || strings.Join(got, ",") != "one,two" {
		t.Fatalf("state %q events %v", state, got)
	}
}

func TestClientNotExecutable(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "promptarena-deploy-x")
	if err := os.WriteFile(p, []byte("not a program"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := NewAdapterClient(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "start adapter promptarena-deploy-x") {
		t.Fatalf("got %v", err)
	}
}
