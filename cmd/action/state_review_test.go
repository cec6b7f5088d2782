package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestRerunAfterPartialApplyIsNotAlreadyApplied: an apply that failed
// part-way saves the partial state; its re-run (the obstacle removed) must
// deploy the rest, not report "already applied" with a prompt missing.
func TestRerunAfterPartialApplyIsNotAlreadyApplied(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	blocker := filepath.Join(h.workspace, ".deployed/default/prompts/refund.json")
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.merge(pr, "merge111", "Merge pull request #1")
	if r := h.run(nil); r.code != 1 || r.outputs["failure-reason"] != "apply-failed" {
		t.Fatalf("first: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if err := os.RemoveAll(blocker); err != nil {
		t.Fatal(err)
	}
	// The re-run, as the failure's message says (replan: the state moved).
	r := h.run(map[string]string{"on-stale-plan": "replan"})
	if strings.Contains(r.summary+r.log, "Already applied") {
		t.Fatalf("a failed apply's re-run reported already applied (exit %d %v)\n%s", r.code, r.outputs, r.log)
	}
	if r.code != 0 || r.outputs["applied"] != "true" {
		t.Fatalf("re-run: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if _, err := os.Stat(blocker); err != nil {
		t.Errorf("refund.json never deployed: %v", err)
	}
}
