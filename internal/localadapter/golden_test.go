package localadapter

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff/packdifftest"
)

var update = flag.Bool("update", false, "rewrite testdata/lifecycle.golden")

// TestLifecycleGolden: what the adapter answers over a deploy's life, every
// kind of change in it, is what it answered before the plan was made
// cheaper per prompt (testdata/lifecycle.golden, written by the code before
// it): a first plan and apply, a plan and apply over edits, a prompt
// removed, a file removed and one changed outside a deploy, an import, a
// moved target directory refused, and the states, digests and details
// exactly.
func TestLifecycleGolden(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	p := &Provider{BaseDir: base}
	deployed, proposed := packdifftest.Make(packdifftest.Shape{Bytes: 64 << 10, Prompts: 40, Edits: 5})
	cfg := `{"target_dir":"out"}`
	var out bytes.Buffer
	record := func(step string, v any, err error) {
		t.Helper()
		b, _ := json.MarshalIndent(v, "", "  ")
		if err != nil {
			b = append(b, "\nerror: "+err.Error()...)
		}
		out.WriteString("## " + step + "\n" + strings.ReplaceAll(string(b), base, "$BASE") + "\n")
	}
	state := func(s string) any {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		_ = json.Unmarshal(raw, &v)
		return map[string]any{"encoded": s, "decoded": v}
	}
	apply := func(step string, req *deploy.PlanRequest) string {
		var events []deploy.ApplyEvent
		st, err := p.Apply(ctx, req, func(e *deploy.ApplyEvent) error { events = append(events, *e); return nil })
		record(step+": events", events, err)
		record(step+": state", state(st), nil)
		return st
	}

	resp, err := p.Plan(ctx, &deploy.PlanRequest{PackJSON: string(deployed), DeployConfig: cfg})
	record("first plan", resp, err)
	st := apply("first apply", &deploy.PlanRequest{PackJSON: string(deployed), DeployConfig: cfg})

	// Outside a deploy: one file removed, one changed.
	prompts := filepath.Join(base, "out", "prompts")
	if err := os.Remove(filepath.Join(prompts, "prompt-00003.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prompts, "prompt-00004.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	edited := setPrompt(t, string(proposed), "prompt-00009", "") // removed from the pack
	resp, err = p.Plan(ctx, &deploy.PlanRequest{PackJSON: edited, DeployConfig: cfg, PriorState: st})
	record("plan of edits", resp, err)
	st = apply("apply of edits", &deploy.PlanRequest{PackJSON: edited, DeployConfig: cfg, PriorState: st})
	resp, err = p.Plan(ctx, &deploy.PlanRequest{PackJSON: edited, DeployConfig: cfg, PriorState: st})
	record("plan after the apply", resp, err)

	// An import: no source digest in the state, the file as the pack renders it.
	imp, err := p.Import(ctx, &deploy.ImportRequest{ResourceType: typePrompt, ResourceName: "prompt-00001", DeployConfig: cfg})
	record("import", imp, err)
	if err == nil {
		resp, err = p.Plan(ctx, &deploy.PlanRequest{PackJSON: edited, DeployConfig: cfg, PriorState: imp.State})
		record("plan after an import", resp, err)
	}
	resp, err = p.Plan(ctx, &deploy.PlanRequest{PackJSON: edited, DeployConfig: `{"target_dir":"elsewhere"}`, PriorState: st})
	record("plan to another directory", resp, err)

	golden := filepath.Join("testdata", "lifecycle.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("answers differ from %s (go test -run TestLifecycleGolden -update rewrites it):\n%s", golden, firstDiff(out.String(), string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got  %s\n        want %s", i+1, g[i], w[i])
		}
	}
	return "lengths differ"
}
