package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// deployed plans a PR, merges it and applies; the workspace is then a
// checkout of main with the committed state.
func deployed(t *testing.T, inputs map[string]string) *harness {
	t.Helper()
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, inputs)
	h.merge(pr, "merge111", "Merge pull request #1")
	if r := h.run(inputs); r.code != 0 {
		t.Fatalf("apply: %v\n%s", r.outputs, r.log)
	}
	h.checkout()
	return h
}

func (h *harness) dispatch(inputs map[string]string) result {
	h.must(h.runner.Dispatch("merge111"))
	return h.run(inputs)
}

func TestStatusAndRefreshWithDriftIssue(t *testing.T) {
	h := deployed(t, nil)
	r := h.dispatch(map[string]string{"command": "status"})
	if r.code != 0 || r.outputs["status"] != "deployed" || r.outputs["drift"] != "0" || !strings.Contains(r.summary, "🟢") {
		t.Fatalf("status: %v\n%s", r.outputs, r.summary)
	}
	// Someone edits a deployed file by hand.
	commits := len(h.gh.Commits(stateBranch))
	h.writeFile(".deployed/default/prompts/refund.json", `{"tampered": true}`)
	in := map[string]string{"command": "refresh", "drift-issue": "true"}
	r = h.dispatch(in)
	if r.code != 0 || r.outputs["status"] != "degraded" || r.outputs["drift"] != "1" || r.outputs["drift-issue"] == "" {
		t.Fatalf("refresh: %v\n%s", r.outputs, r.log)
	}
	issues := h.gh.Issues()
	if len(issues) != 1 || issues[0].State != "open" || issues[0].Labels[0] != "arena-drift" || !strings.Contains(issues[0].Body, "refund") {
		t.Fatalf("issues: %+v", issues)
	}
	// The adapter's state did not change: refresh writes nothing (an
	// hourly schedule would otherwise commit 24 times a day).
	if n := len(h.gh.Commits(stateBranch)); n != commits {
		t.Errorf("refresh committed %d times with nothing changed", n-commits)
	}
	h.checkout()
	// Again: the same issue, not a second one; with fail-on-drift, a failure.
	in["fail-on-drift"] = "true"
	r = h.dispatch(in)
	if r.code != 1 || r.outputs["failure-reason"] != "drift-detected" || len(h.gh.Issues()) != 1 {
		t.Fatalf("second refresh: %v %d\n%s", r.outputs, len(h.gh.Issues()), r.log)
	}
	h.checkout()
	// Drift fixed: the issue closes.
	h.writeFile(".deployed/default/prompts/refund.json", h.deployedCopy("refund"))
	r = h.dispatch(in)
	if r.code != 0 || r.outputs["drift"] != "0" {
		t.Fatalf("after fix: %v\n%s", r.outputs, r.log)
	}
	if is := h.gh.Issues(); is[0].State != "closed" {
		t.Fatalf("issue not closed: %+v", is)
	}
}

// deployedCopy is a prompt as the reference adapter writes it.
func (h *harness) deployedCopy(name string) string {
	return deployedPrompt(h.t, filepath.Join(h.workspace, "support-bot.pack.json"), name)
}

func TestDestroyNeedsConfirmation(t *testing.T) {
	h := deployed(t, nil)
	r := h.dispatch(map[string]string{"command": "destroy"})
	if r.code != 1 || r.outputs["failure-reason"] != "destroy-not-confirmed" || !strings.Contains(r.log, "confirm-destroy: default") {
		t.Fatalf("unconfirmed: %v\n%s", r.outputs, r.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/default/pack.json")); err != nil {
		t.Fatal("unconfirmed destroy removed files")
	}
	r = h.dispatch(map[string]string{"command": "destroy", "confirm-destroy": "default"})
	if r.code != 0 || r.outputs["destroyed"] != "true" {
		t.Fatalf("confirmed: %v\n%s", r.outputs, r.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/default")); !os.IsNotExist(err) {
		t.Error("deployment left behind")
	}
	if _, ok := h.stateOf(".", "default"); ok {
		t.Error("state not deleted")
	}
}

func TestArtifactStateBackend(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	h := deployed(t, in)
	var state int
	for _, a := range h.gh.Artifacts() {
		if a.Name == "arena-state-default" && a.Finalized {
			state++
		}
	}
	if state != 1 {
		t.Fatalf("state artifacts %d", state)
	}
	if h.anyState() {
		t.Fatal("artifact backend committed a file")
	}
	// The next PR's plan reads that state: nothing to do.
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	if p := h.planPR(pr2, in); p.outputs["has-changes"] != "false" {
		t.Fatalf("plan with artifact state: %v", p.outputs)
	}
	// Close to expiry: a warning, and status uploads it again.
	h.gh.Advance(ghemu.DefaultRetention - 3*24*time.Hour)
	r := h.dispatch(map[string]string{"command": "status", "state-backend": "artifact"})
	if r.code != 0 || !strings.Contains(r.log, "expires in") {
		t.Fatalf("no expiry warning: %v\n%s", r.outputs, r.log)
	}
	h.gh.Advance(5 * 24 * time.Hour) // the first one has expired now; the re-upload has not
	r = h.dispatch(map[string]string{"command": "status", "state-backend": "artifact"})
	if r.code != 0 || r.outputs["status"] != "deployed" {
		t.Fatalf("after the old one expired: %v\n%s", r.outputs, r.log)
	}
}
