package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// BenchmarkPlanRoundTrip10MB: one plan call with a 10 MB pack through the
// real reference adapter subprocess. Reports the adapter's peak RSS.
func BenchmarkPlanRoundTrip10MB(b *testing.B) {
	dir := b.TempDir()
	c, err := NewAdapterClient(context.Background(), deploytest.LocalAdapter(b), WithDir(dir))
	if err != nil {
		b.Fatal(err)
	}
	req := &PlanRequest{PackJSON: deploytest.BigPack(10 << 20), DeployConfig: `{"target_dir":"out"}`}
	b.SetBytes(int64(len(req.PackJSON)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Plan(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	_ = c.Close()
	if ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		b.ReportMetric(float64(ru.Maxrss)/1024, "adapter-maxRSS-MB")
	}
}

// BenchmarkDecodePlan10k decodes a plan response of 10,000 changes.
func BenchmarkDecodePlan10k(b *testing.B) {
	resp := PlanResponse{Summary: "s"}
	for i := 0; i < 10000; i++ {
		resp.Changes = append(resp.Changes, ResourceChange{Type: "prompt", Name: fmt.Sprintf("prompt-%d", i), Action: ActionUpdate, Detail: "content changes"})
	}
	raw, _ := json.Marshal(resp)
	// client: what the client does with a plan's result (the one-pass
	// decoder); stdlib: encoding/json, for comparison.
	b.Run("client", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			var out PlanResponse
			if !decodePlanResult(raw, &out) {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			var out PlanResponse
			if err := json.Unmarshal(raw, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncodePlanRequest9MB is the client's side of a 9 MB plan: the
// request line written to the adapter's stdin. "stream" escapes the pack
// while writing (jsonwire); "stdlib" is what the client did before: encode
// the whole line with encoding/json into a buffer, then write it.
func BenchmarkEncodePlanRequest9MB(b *testing.B) {
	req := &PlanRequest{PackJSON: deploytest.BigPack(9 << 20), DeployConfig: `{"target_dir":"out"}`, Environment: "production"}
	b.Run("stream", func(b *testing.B) {
		b.SetBytes(int64(len(req.PackJSON)))
		for i := 0; i < b.N; i++ {
			r, err := encodeRequest(2, MethodPlan, req)
			if err != nil {
				b.Fatal(err)
			}
			if err := r.writeTo(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(req.PackJSON)))
		for i := 0; i < b.N; i++ {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(struct {
				JSONRPC string       `json:"jsonrpc"`
				ID      int          `json:"id"`
				Method  string       `json:"method"`
				Params  *PlanRequest `json:"params"`
			}{"2.0", 2, MethodPlan, req}); err != nil {
				b.Fatal(err)
			}
			_, _ = io.Discard.Write(buf.Bytes())
		}
	})
}
