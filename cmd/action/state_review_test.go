package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
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

// TestRerunAfterDestroyIsNotAlreadyApplied: after a destroy, re-running
// the apply of the commit last applied must not report "already applied"
// (applied=true) while nothing is deployed.
func TestRerunAfterDestroyIsNotAlreadyApplied(t *testing.T) {
	for _, backend := range []string{"git", "artifact"} {
		t.Run(backend, func(t *testing.T) {
			in := map[string]string{"state-backend": backend}
			h := newHarness(t)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.planPR(pr, in)
			apply := h.merge(pr, "merge111", "Merge pull request #1")
			if r := h.run(in); r.code != 0 {
				t.Fatalf("apply: %v\n%s", r.outputs, r.log)
			}
			if r := h.dispatch(map[string]string{"state-backend": backend, "command": "destroy", "confirm-destroy": "default"}); r.code != 0 || r.outputs["destroyed"] != "true" {
				t.Fatalf("destroy: %v\n%s", r.outputs, r.log)
			}
			h.runner.Rerun(apply)
			h.must(h.runner.Push("merge111", "Merge pull request #1"))
			r := h.run(map[string]string{"state-backend": backend, "on-stale-plan": "replan"})
			if strings.Contains(r.summary+r.log, "Already applied") {
				t.Fatalf("the re-run after a destroy reported already applied (exit %d %v)\n%s", r.code, r.outputs, r.log)
			}
			if r.code != 0 || r.outputs["applied"] != "true" {
				t.Fatalf("re-run: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/default/prompts/refund.json")); err != nil {
				t.Errorf("nothing deployed: %v", err)
			}
		})
	}
}

// TestLockOutlastsTheAdapterTimeouts: an apply allowed two hours
// (adapter-timeout: apply=2h) that takes more than an hour keeps its lock:
// another run meeting the lock then must wait (lock-held), not take it
// over as a dead run's and deploy beside the living one.
func TestLockOutlastsTheAdapterTimeouts(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	dir := target.New(".", "arena.yaml", "default").StateDir()
	other := &state.Branch{GH: h.gh.GitHubClient(ghemu.DefaultToken), Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo, Branch: stateBranch, Dir: dir, Env: "default",
		Lock: state.LockOptions{Now: h.gh.Now}}
	var takeover error
	// The comment turns "applying" just before the adapter applies: the
	// apply then takes 61 minutes, and another run tries the lock.
	h.gh.Inject("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", ghemu.Fault{Before: func() {
		h.gh.Advance(61 * time.Minute)
		_, takeover = other.LockTarget(context.Background(), state.Holder{RunID: 999, Attempt: 1, Target: dir}, 0)
	}})
	r := h.run(map[string]string{"adapter-timeout": "apply=2h"})
	if !errors.Is(takeover, deploy.ErrLocked) {
		t.Fatalf("another run took the lock of a run still within its apply timeout: %v", takeover)
	}
	if r.code != 0 || r.outputs["applied"] != "true" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
}

// TestStateArtifactFromATagNamedMainIgnored: a push of a tag named "main"
// (or a dispatch on it) runs that commit's own workflow with head_branch
// "main", as a push to the default branch does; a writer who may push tags
// but not to the protected default branch then uploads a "state". Only a
// commit in the default branch's history writes state.
func TestStateArtifactFromATagNamedMainIgnored(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	h := deployed(t, in)
	outside, planted := plantedState(t)
	for _, ev := range []string{"push", "workflow_dispatch"} {
		run := h.gh.AddRun(ghemu.Run{Event: ev, HeadSHA: "tagged" + ev, HeadBranch: "main"})
		h.uploadAs(run, target.New(".", "arena.yaml", "default").StateArtifact(), map[string]string{"deploy.state": planted})
	}
	r := h.dispatch(map[string]string{"command": "destroy", "confirm-destroy": "default", "state-backend": "artifact"})
	if b, err := os.ReadFile(outside); err != nil || string(b) != "keep me" {
		t.Fatalf("the planted state was trusted: %q %v (exit %d %v)\n%s", b, err, r.code, r.outputs, r.log)
	}
	if r.code != 0 || r.outputs["destroyed"] != "true" || !strings.Contains(r.log, "Ignored the state artifact") {
		t.Fatalf("destroy: %v\n%s", r.outputs, r.log)
	}
}

// TestScheduledRefreshKeepsTheStateArtifact: the expiry warning tells
// users whose deploys are rare to schedule refresh; a refresh that finds
// nothing changed must still upload the state artifact again, or the
// state expires under the schedule meant to keep it.
func TestScheduledRefreshKeepsTheStateArtifact(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	h := deployed(t, in)
	for day := 0; day < 120; day += 30 {
		h.gh.Advance(30 * 24 * time.Hour)
		r := h.dispatch(map[string]string{"command": "refresh", "state-backend": "artifact"})
		if r.code != 0 || r.outputs["status"] != "deployed" {
			t.Fatalf("refresh after %d days: exit %d %v\n%s", day+30, r.code, r.outputs, r.log)
		}
	}
}
