package comment

import (
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// TestTitlesNameTheProject: in a monorepo two projects' comments on one
// pull request must not look alike; the root arena.yaml's keep the short
// title.
func TestTitlesNameTheProject(t *testing.T) {
	cases := []struct {
		key  target.Key
		want string
	}{
		{target.New(".", "arena.yaml", "production"), "### ✅ Arena plan for **production**: no changes"},
		{target.New("bots/support", "arena.yaml", "production"), "### ✅ Arena plan for **production** in `bots/support`: no changes"},
		{target.New(".", "agents/sales.arena.yaml", "staging"), "### ✅ Arena plan for **staging** in `agents/sales.arena.yaml`: no changes"},
		{target.New("we`ird|dir", "arena.yaml", "production"), "### ✅ Arena plan for **production** in `we'ird\\|dir`: no changes"},
	}
	for _, c := range cases {
		got := RenderPlan(&Plan{Target: c.key, Provider: "local"}, CommentBudget)
		if !strings.Contains(got, c.want+"\n") {
			t.Errorf("%v: title not %q:\n%s", c.key, c.want, got)
		}
		apply := RenderApply(&Apply{Plan: Plan{Target: c.key}, Status: StatusApplied}, CommentBudget)
		if proj := projectOf(c.key); proj != "" && !strings.Contains(apply, " in `") {
			t.Errorf("%v: the apply title does not name the project:\n%s", c.key, apply)
		}
	}
}
