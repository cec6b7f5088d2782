package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestRacingPlanRunsKeepOneComment: two plan runs of one pull request (a
// push while a re-run is going) run as two real processes at once. Comment
// creation is slowed down so both find no comment and both create one; at
// the end there is exactly one sticky comment, holding a plan, every round.
func TestRacingPlanRunsKeepOneComment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	h := newHarness(t)
	const rounds = 4
	raced := 0
	for round := 0; round < rounds; round++ {
		pr := h.gh.AddPull(ghemu.Pull{HeadSHA: fmt.Sprintf("race%04d", round)})
		// Both creates wait, so both lists answer "no comment" first.
		h.gh.Inject("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", ghemu.Fault{Delay: 700 * time.Millisecond, Times: 2})
		var envs [][]string
		for i := 0; i < 2; i++ {
			h.pullRequest(pr) // two runs of the same pull request
			env, _, err := h.runner.Environ(nil)
			if err != nil {
				t.Fatal(err)
			}
			envs = append(envs, append(env, actionProcessEnv+"=1"))
		}
		h.gh.ResetLog()
		var wg sync.WaitGroup
		outs := make([]bytes.Buffer, 2)
		errs := make([]error, 2)
		for i := range envs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				cmd := exec.Command(os.Args[0])
				cmd.Env, cmd.Stdout, cmd.Stderr = envs[i], &outs[i], &outs[i]
				errs[i] = cmd.Run()
			}(i)
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, run %d: %v\n%s", round, i, err, outs[i].String())
			}
		}
		if h.gh.CountRequests("POST /repos/") == 2 {
			raced++
		}
		c := h.gh.Comments(pr.Number)
		if len(c) != 1 || !strings.Contains(c[0].Body, "+4 to create") {
			t.Fatalf("round %d: %d sticky comments:\n%+v\n--- run 1\n%s\n--- run 2\n%s", round, len(c), c, outs[0].String(), outs[1].String())
		}
	}
	if raced == 0 {
		t.Fatal("the two runs never both created a comment: the test did not race")
	}
	t.Logf("%d of %d rounds raced to two creates; one comment remained every time", raced, rounds)
}
