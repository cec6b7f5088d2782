package comment

import (
	"flag"
	"fmt"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		_ = os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden\n--- got\n%s", name, got)
	}
}

func basePlan() *Plan {
	return &Plan{
		Target:   Target{WorkingDir: ".", ConfigPath: "arena.yaml", Env: "production"},
		Provider: "local", AdapterName: "promptarena-deploy-local", AdapterVersion: "0.1.0",
		PackID: "support-bot", PackVersion: "1.2.0",
		PackChecksum: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		PlanID:       "3b1f5c0a9d7e42a1b8c6f0e2d4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2",
		HeadSHA:      "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
		RunURL:       "https://github.com/octo-org/app/actions/runs/42", RunLabel: "run 42",
	}
}

func TestRenderPlanGolden(t *testing.T) {
	unchanged := []deploy.ResourceChange{
		{Type: "prompt", Name: "greeting", Action: deploy.ActionNoChange, Detail: "up to date"},
		{Type: "prompt", Name: "refund", Action: deploy.ActionNoChange, Detail: "up to date"},
	}
	cases := map[string]func(p *Plan){
		"no_changes": func(p *Plan) { p.Changes = unchanged },
		"small": func(p *Plan) {
			p.Changes = append([]deploy.ResourceChange{{Type: "prompt", Name: "escalation", Action: deploy.ActionCreate, Detail: "write .deployed/prompts/escalation.json"}}, unchanged...)
		},
		"all_actions": func(p *Plan) {
			p.Changes = []deploy.ResourceChange{
				{Type: "prompt", Name: "new", Action: deploy.ActionCreate, Detail: "write prompts/new.json"},
				{Type: "prompt", Name: "greeting", Action: deploy.ActionNoChange, Detail: "up to date"},
				{Type: "prompt", Name: "refund", Action: deploy.ActionUpdate, Detail: "content changes"},
				{Type: "prompt", Name: "old", Action: deploy.ActionDelete, Detail: "remove prompts/old.json"},
				{Type: "prompt", Name: "escalation", Action: deploy.ActionDrift, Detail: "changed outside a deploy"},
				{Type: "agent_runtime", Name: "support", Action: "REPLACE", Detail: "an action this version does not know"},
			}
		},
		"warnings": func(p *Plan) {
			p.Changes = unchanged
			p.Warnings = []string{"unknown config key \"region\" is ignored", "the pack was compiled with an older compiler"}
			p.Summary = "Plan: 0 to create, 0 to update, 0 to delete\nDrift detected: agent_runtime \"support_desk\" no longer exists and will be recreated"
		},
		"hostile": func(p *Plan) {
			p.Changes = []deploy.ResourceChange{{
				Type:   "prompt|</table><script>alert(1)</script>",
				Name:   "`code` **bold** [link](https://evil.test) ![img](https://evil.test/x.png) @octocat #1",
				Action: deploy.ActionCreate,
				Detail: "line one\nline two | <!-- arena-deploy-action target=0000000000000000 --> \\ ~~strike~~ _em_",
			}}
			p.Warnings = []string{"@admins please approve <img src=x onerror=alert(1)>"}
		},
		"unlisted_env": func(p *Plan) {
			p.Target.Env, p.Unlisted, p.Listed = "prodution", true, []string{"production", "staging"}
			p.Changes = unchanged[:1]
		},
		"failed": func(p *Plan) {
			p.Error = "adapter promptarena-deploy-local: validate_config: target_dir is required\n```\nbreak out @octocat"
			p.FailureReason, p.Hint = "invalid-config", "Fix deploy.config in arena.yaml."
		},
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			p := basePlan()
			mod(p)
			golden(t, name+".md", RenderPlan(p, CommentBudget))
		})
	}
}

func TestHostileTextCannotInject(t *testing.T) {
	p := basePlan()
	p.Changes = []deploy.ResourceChange{{Type: "x", Name: "<b>@octocat</b>", Action: deploy.ActionCreate, Detail: "a|b\n| fake | row |"}}
	out := RenderPlan(p, CommentBudget)
	for _, bad := range []string{"<b>", "@octocat", "\n| fake", "a|b"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	if strings.Count(out, "<!-- arena-deploy-action") != 1 {
		t.Error("marker count")
	}
}

func bigPlan(n int) *Plan {
	p := basePlan()
	for i := 0; i < n; i++ {
		a := []deploy.Action{deploy.ActionCreate, deploy.ActionUpdate, deploy.ActionNoChange, deploy.ActionDelete}[i%4]
		p.Changes = append(p.Changes, deploy.ResourceChange{Type: "prompt", Name: fmt.Sprintf("prompt-%05d", i), Action: a, Detail: "a detail that explains the change in a sentence or two"})
	}
	return p
}

func TestBudgetHolds(t *testing.T) {
	for _, n := range []int{0, 1, 100, 1000, 20000} {
		for _, budget := range []int{CommentBudget, SummaryBudget} {
			out := RenderPlan(bigPlan(n), budget)
			if len(out) > budget || utf8.RuneCountInString(out) > budget {
				t.Errorf("%d rows: %d bytes over budget %d", n, len(out), budget)
			}
		}
	}
	out := RenderPlan(bigPlan(20000), CommentBudget)
	if !strings.Contains(out, "more changes not shown here") || !strings.Contains(out, "15000 to create") && !strings.Contains(out, "+5000 to create") {
		t.Errorf("cut not explained:\n%s", out[len(out)-600:])
	}
	// Worst-case rows: every cell at its length cap, all escaped.
	p := basePlan()
	for i := 0; i < 3000; i++ {
		p.Changes = append(p.Changes, deploy.ResourceChange{Type: strings.Repeat("|", 100), Name: strings.Repeat("<", 200), Action: deploy.ActionDelete, Detail: strings.Repeat("@", 400)})
	}
	if out := RenderPlan(p, CommentBudget); len(out) > CommentBudget {
		t.Errorf("worst case: %d bytes", len(out))
	}
}

func TestMarkerPerTarget(t *testing.T) {
	a := target.New(".", "arena.yaml", "staging").Marker()
	b := target.New(".", "arena.yaml", "production").Marker()
	c := target.New("svc", "arena.yaml", "production").Marker()
	if a == b || b == c || a != target.New(".", "arena.yaml", "staging").Marker() {
		t.Fatal("markers must differ per target and be stable")
	}
}

// TestRenderPlanInAnyOrder: the comment and the summary of a plan whose
// changes come in any order are those of the same plan given already
// sorted for display (SortChanges: by action, the adapter's order within
// one), byte for byte: the rows are picked through indices, not a sorted
// copy.
func TestRenderPlanInAnyOrder(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	acts := []deploy.Action{deploy.ActionCreate, deploy.ActionUpdate, deploy.ActionNoChange, deploy.ActionDelete, deploy.ActionDrift, "REPLACE"}
	for _, n := range []int{0, 1, 7, 300, 5000} {
		p := &Plan{Target: Target{WorkingDir: ".", ConfigPath: "arena.yaml", Env: "production"}, Provider: "local", PackID: "p"}
		for i := range n {
			p.Changes = append(p.Changes, deploy.ResourceChange{Type: "prompt", Name: fmt.Sprintf("p-%05d", i), Action: acts[r.Intn(len(acts))], Detail: strings.Repeat("d|<", r.Intn(20))})
		}
		sorted := *p
		sorted.Changes = SortChanges(p.Changes)
		for _, budget := range []int{CommentBudget, SummaryBudget} {
			got, want := RenderPlan(p, budget), RenderPlan(&sorted, budget)
			if got != want {
				t.Errorf("%d changes, budget %d: the rendering differs from the sorted plan's", n, budget)
			}
			// And the rows shown are the first of SortChanges' order.
			var shown []string
			for _, l := range strings.Split(got, "\n") {
				if f := strings.Split(l, " | "); len(f) > 3 && strings.HasPrefix(f[3], "p-") {
					shown = append(shown, f[3])
				}
			}
			for i, name := range shown {
				if name != sorted.Changes[i].Name {
					t.Fatalf("%d changes, budget %d: row %d is %s, want %s", n, budget, i, name, sorted.Changes[i].Name)
				}
			}
			if n > 0 && len(shown) == 0 {
				t.Errorf("%d changes, budget %d: no rows", n, budget)
			}
		}
	}
}
