package state

import (
	"fmt"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"sync"
	"testing"
)

// TestManyTargetsSaveAtOnce: a monorepo's targets apply at once; each
// save loses the ref update only because another target moved the branch
// head, and must retry until it lands: no target's state may be left
// unwritten.
func TestManyTargetsSaveAtOnce(t *testing.T) {
	s := ghemu.New(t)
	const n = 16
	branches := make([]*Branch, n)
	snaps := make([]*Snapshot, n)
	for i := range branches {
		branches[i] = newBranch(s, fmt.Sprintf("prod-%08d", i))
		if _, err := branches[i].LockTarget(ctx, Holder{RunID: int64(i + 1), Attempt: 1, Target: branches[i].Dir}, 0); err != nil {
			t.Fatal(err)
		}
		var err error
		if snaps[i], err = branches[i].Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range branches {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, errs[i] = branches[i].Save(ctx, &Write{State: st("prod", fmt.Sprint("s", i)), Message: "apply"}, snaps[i])
		}(i)
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("target %d: %v", i, err)
		}
	}
}
