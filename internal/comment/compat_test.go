package comment

import (
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// TestApplyFromPlanAndLinks: an adapter that reports no per-resource
// results (PromptKit's v1.3.5 SDK) gets rows from the reviewed plan, marked
// so, never "nothing needed changing"; deployment-wide links and the plan's
// warnings are shown.
func TestApplyFromPlanAndLinks(t *testing.T) {
	a := &Apply{Plan: *basePlan(), Status: StatusApplied, MergeSHA: "merge1234567", ResultsFromPlan: true,
		Results: []deploy.ResourceResult{
			{Type: "prompt", Name: "escalation", Action: deploy.ActionCreate, Status: "created", Detail: "write prompts/escalation.json"},
			{Type: "prompt", Name: "greeting", Action: deploy.ActionUpdate, Status: "updated", Detail: "template changed"},
			{Type: "prompt", Name: "legacy", Action: deploy.ActionDelete, Status: "deleted", Detail: "remove prompts/legacy.json"},
		},
		Links: []deploy.Link{{Label: "Console", URL: "https://console.example.com/agents/support", Rel: "console"}, {Label: "Logs", URL: "https://logs.example.com/?q=support"}},
	}
	a.Warnings = []string{"model gpt-4o is deprecated in eu-west-1"}
	out := RenderApply(a, CommentBudget)
	golden(t, "apply_from_plan.md", out)
	for _, want := range []string{"1 created, 1 updated, 1 deleted, " + FromPlanNote, "[Console](https://console.example.com/agents/support)", "model gpt-4o is deprecated"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply report lacks %q", want)
		}
	}
	if strings.Contains(out, "nothing needed changing") {
		t.Error("an applied plan with changes says nothing needed changing")
	}
}

func TestStatusShowsDeploymentLinks(t *testing.T) {
	st := &Status{Kind: "status", Env: "production", Response: &deploy.StatusResponse{Status: "deployed",
		Resources: []deploy.ResourceStatus{{Type: "prompt", Name: "a", Status: "healthy"}},
		Links:     []deploy.Link{{Label: "Dashboard", URL: "https://dash.example.com/d/1"}, {Label: "local", URL: "file:///etc/passwd"}}}}
	out := RenderStatus(st, CommentBudget)
	golden(t, "status_links.md", out)
	if !strings.Contains(out, "**Links** [Dashboard](https://dash.example.com/d/1)") {
		t.Errorf("no deployment links:\n%s", out)
	}
}
