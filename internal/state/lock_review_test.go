package state

import (
	"errors"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestLockGivesUpOnAPersistentConflict: a lock write refused with a
// conflict while no lock record exists (GitHub's 409 "Git Repository is
// empty.", say) is not "released meanwhile" forever: the lock gives up
// after some tries (a little apart: another target's write moving the
// branch is a passing 409) with the answer, instead of hammering the API in a
// loop without a pause.
func TestLockGivesUpOnAPersistentConflict(t *testing.T) {
	s := ghemu.New(t)
	puts := 0
	s.Inject("PUT /repos/{owner}/{repo}/contents/{path...}", ghemu.Fault{Status: 409, Times: 200, Message: "Git Repository is empty.", Before: func() { puts++ }})
	_, err := newBranch(s, dir).LockTarget(ctx, holder(1), 0)
	if err == nil || puts > 25 {
		t.Fatalf("%d lock writes, then %v: want an error within a few tries", puts, err)
	}
}

// TestLockTwoJobsOfOneRun: two jobs of one workflow run attempt share its
// run id and attempt; the second must not take the first's lock record for
// its own lost answer and deploy beside it.
func TestLockTwoJobsOfOneRun(t *testing.T) {
	s := ghemu.New(t)
	if _, err := newBranch(s, dir).LockTarget(ctx, holder(1), 0); err != nil {
		t.Fatal(err)
	}
	_, err := newBranch(s, dir).LockTarget(ctx, holder(1), 0)
	if !errors.Is(err, deploy.ErrLocked) {
		t.Fatalf("second job of the run: %v, want ErrLocked", err)
	}
}

// TestLostLockAnswerThenTakeover: our lock write's answer was lost (we
// hold it by its record, without its commit); while we deploy, another
// run takes the lock over. Our save must not delete their lock and write
// over the state they are deploying from.
func TestLostLockAnswerThenTakeover(t *testing.T) {
	s := ghemu.New(t)
	apply(t, newBranch(s, dir), 1, "s1", nil) // the branch exists
	s.Inject("PUT /repos/{owner}/{repo}/contents/{path...}", ghemu.Fault{DropAnswer: true})
	b := newBranch(s, dir)
	if _, err := b.LockTarget(ctx, holder(2), 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	theirs := []byte(`{"run_id": 3, "run_attempt": 1, "target": "` + dir + `", "started": "2026-11-27T09:00:00Z", "expires": "2026-11-27T12:00:00Z"}`)
	s.SetFile(stateBranch, dir+"/lock.json", theirs)
	if _, err := b.Save(ctx, &Write{State: st("prod", "s2"), Message: "apply"}, snap); !errors.Is(err, ErrConflict) {
		t.Errorf("save over a lock taken over: %v, want ErrConflict", err)
	}
	if got, _ := s.GetFile(stateBranch, dir+"/lock.json"); string(got) != string(theirs) {
		t.Errorf("their lock is gone: %q", got)
	}
}
