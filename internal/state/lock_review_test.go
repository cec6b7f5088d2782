package state

import (
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestLockGivesUpOnAPersistentConflict: a lock write refused with a
// conflict while no lock record exists (GitHub's 409 "Git Repository is
// empty.", say) is not "released meanwhile" forever: the lock gives up
// after a few tries with the answer, instead of hammering the API in a
// loop without a pause.
func TestLockGivesUpOnAPersistentConflict(t *testing.T) {
	s := ghemu.New(t)
	puts := 0
	s.Inject("PUT /repos/{owner}/{repo}/contents/{path...}", ghemu.Fault{Status: 409, Times: 200, Message: "Git Repository is empty.", Before: func() { puts++ }})
	_, err := newBranch(s, dir).LockTarget(ctx, holder(1), 0)
	if err == nil || puts > 10 {
		t.Fatalf("%d lock writes, then %v: want an error within a few tries", puts, err)
	}
}
