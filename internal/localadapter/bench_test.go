package localadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// BenchmarkPlanInProcess10MB is the adapter's own share of a 10 MB plan.
func BenchmarkPlanInProcess10MB(b *testing.B) {
	p := &Provider{BaseDir: b.TempDir()}
	req := &deploy.PlanRequest{PackJSON: deploytest.BigPack(10 << 20), DeployConfig: `{"target_dir":"out"}`}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Plan(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCompactDigestMatchesCompact(t *testing.T) {
	for _, in := range []string{
		`{"a": 1, "b": [1, 2, {"c": "x y\t\n"}]}`,
		"{\n  \"s\": \"quote \\\" and \\\\ and space \",\r\n  \"t\" : true }",
		`"just a string with  spaces"`,
		`[ ]`,
	} {
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(in)); err != nil {
			t.Fatal(err)
		}
		if compactDigest([]byte(in)) != digest(buf.Bytes()) {
			t.Errorf("digest differs from json.Compact for %s", in)
		}
	}
}
