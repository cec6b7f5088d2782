package comment

// Only the package's exported API: bench/run.sh runs this file against the
// previous release's renderer too.

import (
	"fmt"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// plan10k is a plan of 10,000 changes of every kind, in the adapter's
// order, with names and details of ordinary length.
func plan10k() *Plan {
	p := &Plan{
		Target:   Target{WorkingDir: ".", ConfigPath: "arena.yaml", Env: "production"},
		Provider: "local", AdapterName: "promptarena-deploy-local", AdapterVersion: "0.1.0",
		PackID: "support-bot", PackVersion: "1.2.0",
		PackChecksum: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		PlanID:       "3b1f5c0a9d7e42a1b8c6f0e2d4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2",
		HeadSHA:      "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
		RunURL:       "https://github.com/octo-org/app/actions/runs/42", RunLabel: "run 42",
	}
	for i := range 10000 {
		a := []deploy.Action{deploy.ActionCreate, deploy.ActionUpdate, deploy.ActionNoChange, deploy.ActionDelete}[i%4]
		p.Changes = append(p.Changes, deploy.ResourceChange{Type: "prompt", Name: fmt.Sprintf("prompt-%05d", i), Action: a, Detail: "a detail that explains the change in a sentence or two"})
	}
	return p
}

// BenchmarkRenderComment10k renders the pull request comment of a plan of
// 10,000 changes: GitHub's 65,536 characters hold a few hundred rows.
func BenchmarkRenderComment10k(b *testing.B) {
	p := plan10k()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out := RenderPlan(p, CommentBudget); len(out) > CommentBudget {
			b.Fatal(len(out))
		}
	}
}

// BenchmarkRenderSummary10k renders the job summary of the same plan
// (1 MiB: every row fits).
func BenchmarkRenderSummary10k(b *testing.B) {
	p := plan10k()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = RenderPlan(p, SummaryBudget)
	}
}
