package localadapter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// TestNeverOutsideTargetDir: whatever a prior state names (an absolute
// path, "..", a directory linked out of target_dir), plan, apply, status,
// import and destroy refuse it, and the file there is neither read nor
// written nor deleted.
func TestNeverOutsideTargetDir(t *testing.T) {
	ctx := context.Background()
	pack, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(), "testdata", "example", "support-bot.pack.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path func(dir, outside string) string // the path the state names
	}{
		{"absolute path", func(_, outside string) string { return outside }},
		{"dot-dot", func(dir, outside string) string { r, _ := filepath.Rel(dir, outside); return r }},
		{"inside, via a linked directory", func(dir, outside string) string {
			_ = os.MkdirAll(filepath.Join(dir, "out"), 0o755)
			_ = os.Symlink(filepath.Dir(outside), filepath.Join(dir, "out", "prompts"))
			return filepath.Join("out", "prompts", filepath.Base(outside))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			outside := filepath.Join(t.TempDir(), "precious.json")
			if err := os.WriteFile(outside, []byte("keep me"), 0o644); err != nil {
				t.Fatal(err)
			}
			st := &state{TargetDir: "out", Resources: map[string]resourceState{
				key(typePrompt, "greeting"): {Type: typePrompt, Name: "greeting", Path: tc.path(dir, outside), SHA256: "x"}}}
			prior := st.encode()
			p := &Provider{BaseDir: dir}
			cfg := `{"target_dir":"out"}`
			req := &deploy.PlanRequest{PackJSON: string(pack), DeployConfig: cfg, Environment: "default", PriorState: prior}
			_, planErr := p.Plan(ctx, req)
			_, applyErr := p.Apply(ctx, req, nil)
			_, statusErr := p.Status(ctx, &deploy.StatusRequest{DeployConfig: cfg, Environment: "default", PriorState: prior})
			destroyErr := p.Destroy(ctx, &deploy.DestroyRequest{DeployConfig: cfg, Environment: "default", PriorState: prior}, nil)
			for name, err := range map[string]error{"plan": planErr, "apply": applyErr, "status": statusErr, "destroy": destroyErr} {
				if !errors.Is(err, errOutside) || !strings.Contains(err.Error(), "will not") && !strings.Contains(err.Error(), "not inside") {
					t.Errorf("%s: %v", name, err)
				}
			}
			if b, err := os.ReadFile(outside); err != nil || string(b) != "keep me" {
				t.Fatalf("the file outside target_dir was touched: %q %v", b, err)
			}
		})
	}
}
