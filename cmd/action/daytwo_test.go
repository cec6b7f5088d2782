package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// plantLock puts another run's lock record on the default target, as a
// run on another runner that took it would; it expires in an hour.
func (h *harness) plantLock(run *ghemu.Run) string {
	h.t.Helper()
	lock := target.New(".", "arena.yaml", "default").StateDir() + "/lock.json"
	h.gh.SetFile(stateBranch, lock, []byte(fmt.Sprintf(`{"run_id": %d, "run_attempt": %d, "run_url": "https://github.com/octo-org/app/actions/runs/%d",
  "actor": "hubot", "commit": "merge000", "target": %q, "started": "2026-11-27T08:59:00Z", "expires": "2026-11-27T09:59:00Z", "nonce": "n1"}`,
		run.ID, run.Attempt, run.ID, target.New(".", "arena.yaml", "default").StateDir())))
	return lock
}

// TestLockOfAFinishedRunIsTakenOverAtOnce: a runner that died mid-apply
// no longer blocks the target for the lock's lifetime. Its run finished
// (cancelled, failed, completed): the next apply takes the lock over at
// once, with a warning naming that run; a run still in progress is
// respected.
func TestLockOfAFinishedRunIsTakenOverAtOnce(t *testing.T) {
	for _, conclusion := range []string{"cancelled", "failure", "success"} {
		t.Run(conclusion, func(t *testing.T) {
			h := newHarness(t)
			holder := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "merge000", HeadBranch: "main"})
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.planPR(pr, nil)
			h.merge(pr, "merge111", "Merge pull request #1")
			lock := h.plantLock(holder)

			// In progress: respected, nothing deployed.
			r := h.run(nil)
			if r.code != 1 || r.outputs["failure-reason"] != "lock-held" {
				t.Fatalf("holder in progress: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
				t.Fatal("deployed while the holder's run was in progress")
			}

			// The holder's run ends: the next apply takes over within its
			// first poll (lock-timeout 0s), an hour before the lock expires.
			h.gh.CompleteRun(holder.ID, conclusion)
			h.gh.ResetLog()
			r = h.run(nil)
			if r.code != 0 || r.outputs["applied"] != "true" {
				t.Fatalf("holder %s: exit %d %v\n%s", conclusion, r.code, r.outputs, r.log)
			}
			want := fmt.Sprintf("Took over the deploy lock of run %d (attempt 1) by hubot", holder.ID)
			if !strings.Contains(r.log, want) || !strings.Contains(r.log, "its run has completed ("+conclusion+")") {
				t.Errorf("the warning does not name the run and why (%q):\n%s", want, r.log)
			}
			if n := h.gh.CountRequests(fmt.Sprintf("GET /repos/octo-org/app/actions/runs/%d", holder.ID)); n != 1 {
				t.Errorf("asked the runs API %d times, want once", n)
			}
			if _, ok := h.gh.GetFile(stateBranch, lock); ok {
				t.Error("the lock was not released after the apply")
			}
		})
	}
}

// TestLockOfAnEarlierAttemptIsTakenOver: a re-run of the job whose runner
// died (the same run, a later attempt) takes its own earlier attempt's
// lock at once, without asking.
func TestLockOfAnEarlierAttemptIsTakenOver(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	run := h.merge(pr, "merge111", "Merge pull request #1")
	h.plantLock(run) // attempt 1 holds it, and died
	rerun := h.gh.Rerun(run.ID)
	h.env["GITHUB_RUN_ATTEMPT"] = fmt.Sprint(rerun.Attempt)
	h.env["ACTIONS_RUNTIME_TOKEN"] = h.gh.RuntimeToken(rerun)
	h.gh.ResetLog()
	r := h.run(nil)
	if r.code != 0 || !strings.Contains(r.log, "attempt 1 of this run holds it, and this is attempt 2") {
		t.Fatalf("re-run: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if n := h.gh.CountRequests("GET /repos/octo-org/app/actions/runs/"); n != 0 {
		t.Errorf("asked the runs API %d times for its own run", n)
	}
}

// TestUnlock: command unlock needs confirm-unlock naming the environment,
// refuses while the holder's run is in progress unless force-unlock, and
// is recorded in the state branch's history with who asked.
func TestUnlock(t *testing.T) {
	h := newHarness(t)
	holder := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "merge000", HeadBranch: "main"})
	lock := h.plantLock(holder)
	h.must(h.runner.Dispatch("main1"))
	h.env["GITHUB_ACTOR"] = "oncall"

	r := h.run(map[string]string{"command": "unlock"})
	if r.code != 1 || r.outputs["failure-reason"] != "unlock-not-confirmed" || !strings.Contains(r.log, "Set confirm-unlock: default") {
		t.Fatalf("no confirmation: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	r = h.run(map[string]string{"command": "unlock", "confirm-unlock": "default"})
	if r.code != 1 || r.outputs["failure-reason"] != "lock-held" || !strings.Contains(r.log, "force-unlock: true") || !strings.Contains(r.log, "in_progress") {
		t.Fatalf("holder in progress: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if _, ok := h.gh.GetFile(stateBranch, lock); !ok {
		t.Fatal("a living run's lock was freed without force-unlock")
	}
	r = h.run(map[string]string{"command": "unlock", "confirm-unlock": "default", "force-unlock": "true"})
	if r.code != 0 || r.outputs["unlocked"] != "true" {
		t.Fatalf("forced: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if _, ok := h.gh.GetFile(stateBranch, lock); ok {
		t.Fatal("the lock is still there")
	}
	var recorded bool
	for _, c := range h.gh.Commits(stateBranch) {
		if strings.Contains(c.Message, "unlock") && strings.Contains(c.Message, "by oncall") && strings.Contains(c.Message, fmt.Sprintf("held by run %d", holder.ID)) {
			recorded = true
		}
	}
	if !recorded {
		t.Errorf("the unlock is not in the state branch's history: %+v", h.gh.Commits(stateBranch))
	}
	if !strings.Contains(r.summary, "🔓 Unlocked") || !strings.Contains(r.summary, "oncall") {
		t.Errorf("summary:\n%s", r.summary)
	}
	// Nothing left to free: a success that says so.
	r = h.run(map[string]string{"command": "unlock", "confirm-unlock": "default"})
	if r.code != 0 || r.outputs["unlocked"] != "false" || !strings.Contains(r.log, "is not locked") {
		t.Errorf("not locked: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
}
