package main

import (
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestApplyNeverCommentsOnAnUnrelatedPullRequest: a direct push whose
// commit GitHub associates with a fork's merged pull request #1 and with a
// pull request of another base. This repository's own #1 is an open,
// unrelated pull request: it must get no comment, and no plan is applied.
func TestApplyNeverCommentsOnAnUnrelatedPullRequest(t *testing.T) {
	h := newHarness(t)
	mine := h.gh.AddPull(ghemu.Pull{HeadSHA: "minehead"})
	h.planPR(mine, nil)
	before := h.gh.Comments(mine.Number)
	h.gh.AddForeignPull("syncpush", ghemu.Pull{Number: mine.Number, BaseRepo: "contributor/app", HeadSHA: "minehead", Merged: true, State: "closed", MergeCommitSHA: "syncpush"})
	h.gh.AddForeignPull("syncpush", ghemu.Pull{Number: 42, BaseRepo: "octo-org/app-mirror", HeadSHA: "mirrorhd", Merged: true, State: "closed", MergeCommitSHA: "syncpush"})
	h.push("syncpush", "Sync with upstream")
	res := h.run(nil)
	if res.code != 1 || res.outputs["failure-reason"] != "plan-not-found" {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if !strings.Contains(res.log, "Ignoring pull request contributor/app#1") {
		t.Errorf("the skipped pull requests are not reported:\n%s", res.log)
	}
	after := h.gh.Comments(mine.Number)
	if len(after) != 1 || after[0].Body != before[0].Body {
		t.Fatalf("the unrelated pull request's comment changed:\n%s", after[0].Body)
	}
}

// TestMergedForkPullRequestIsNotApplied: a fork's pull request is planned
// into the job summary only; when it merges, apply finds no plan and says
// why, instead of applying anything a fork made.
func TestMergedForkPullRequestIsNotApplied(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "forkhd01", HeadRepo: "contributor/app"})
	if plan := h.planPR(pr, nil); plan.outputs["artifact-id"] != "" {
		t.Fatalf("a fork's plan was uploaded: %v", plan.outputs)
	}
	h.merge(pr, "forkmrg1", "Merge pull request #1 from contributor/app")
	res := h.run(nil)
	if res.code != 1 || res.outputs["failure-reason"] != "plan-not-found" || !strings.Contains(res.log, "came from a fork (contributor/app), whose plans are never applied") {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
}
