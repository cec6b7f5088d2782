package localadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/adaptersdk"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// BenchmarkServeLocalPlan10MB is the whole adapter side of a 10 MB plan,
// in process: the SDK decodes the line, the reference adapter plans.
func BenchmarkServeLocalPlan10MB(b *testing.B) {
	params, _ := json.Marshal(deploy.PlanRequest{PackJSON: deploytest.BigPack(10 << 20), DeployConfig: `{"target_dir":"out"}`})
	line := append([]byte(`{"jsonrpc":"2.0","id":1,"method":"plan","params":`), params...)
	line = append(line, "}\n"...)
	p := &Provider{BaseDir: b.TempDir()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := adaptersdk.ServeIO(context.Background(), p, bytes.NewReader(line), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
