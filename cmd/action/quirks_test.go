package main

import (
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// Quirks of AltairaLabs' real adapters (compat_test.go's quirk constants),
// each driven through the action as a user's workflow would.

// quirkHarness is compatHarness with the adapter's quirks switched on.
func quirkHarness(t *testing.T, gen string, quirks ...string) (*harness, string) {
	h, logPath := compatHarness(t, gen)
	h.env["ARENA_COMPAT_QUIRKS"] = strings.Join(quirks, ",")
	return h, logPath
}

// TestValidConfigWithErrorsIsValid: valid decides. agentcore answers
// validate_config {"valid": true, "errors": ["warning: …"]}; the plan and
// the apply go ahead, and each error is shown as a warning in the log, the
// comment and the job summary.
func TestValidConfigWithErrorsIsValid(t *testing.T) {
	h, _ := quirkHarness(t, "head", quirkValidErrors)
	in := map[string]string{"environment": "production"}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	plan := h.planPR(pr, in)
	if plan.code != 0 || plan.outputs["to-create"] != "3" {
		t.Fatalf("plan: exit %d %v\n%s", plan.code, plan.outputs, plan.log)
	}
	const w = "warning: account_id 123456789012 looks like a placeholder account ID"
	body := h.gh.Comments(pr.Number)[0].Body
	for where, text := range map[string]string{"log": plan.log, "comment": body, "summary": plan.summary} {
		if !strings.Contains(text, "account\\_id 123456789012 looks like a placeholder account ID") && !strings.Contains(text, w) {
			t.Errorf("the %s does not show the advisory:\n%s", where, text)
		}
	}
	if !strings.Contains(plan.log, "::warning::The adapter warns about the config: "+w) {
		t.Errorf("no warning annotation:\n%s", plan.log)
	}
	if !strings.Contains(body, "[!WARNING]") || !strings.Contains(body, "episodic memory is in preview") {
		t.Errorf("comment warnings:\n%s", body)
	}
	h.merge(pr, "merge111", "Merge pull request #1")
	apply := h.run(in)
	if apply.code != 0 || apply.outputs["created"] != "3" {
		t.Fatalf("apply: exit %d %v\n%s", apply.code, apply.outputs, apply.log)
	}
}
