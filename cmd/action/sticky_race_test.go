package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
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

// TestOlderHeadNeverOverwritesNewerPlan: two plan runs of one pull request
// outside the concurrency group, the older head's comment write landing
// after the newer head's run has commented. The sticky comment must end
// showing the newest head's plan: never the older plan with "Merging this
// pull request applies exactly this plan", when the merge applies the
// newer one. Both when the older run edits the comment and when both
// create one.
func TestOlderHeadNeverOverwritesNewerPlan(t *testing.T) {
	for _, tc := range []struct {
		name, route string
		earlier     bool // a comment from an earlier head exists
	}{
		{"edit lands late", "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", true},
		{"both create", "POST /repos/{owner}/{repo}/issues/{issue_number}/comments", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head0"})
			if tc.earlier {
				h.planPR(pr, nil)
			}
			h.gh.PushToPull(pr.Number, "head1")
			h.pullRequest(pr)
			env, step, err := h.runner.Environ(nil) // the older run, at head1
			if err != nil {
				t.Fatal(err)
			}
			var newer result
			h.gh.Inject(tc.route, ghemu.Fault{Before: func() {
				// While the older run's comment write is on its way, head2
				// is pushed and its plan run comments first.
				h.gh.PushToPull(pr.Number, "head2")
				h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
				newer = h.planPR(pr, nil)
			}})
			var log syncBuffer
			if code := realMain(context.Background(), nil, env, &log, &log); code != 0 {
				t.Fatalf("older run: exit %d\n%s", code, log.String())
			}
			older, _ := step.Outputs()
			if older["plan-id"] == newer.outputs["plan-id"] {
				t.Fatal("the two heads planned the same")
			}
			if !strings.Contains(log.String(), "its comment shows that head's plan, not this run's") {
				t.Errorf("the older run did not put the newer plan back:\n%s", log.String())
			}
			c := h.gh.Comments(pr.Number)
			if len(c) != 1 {
				t.Fatalf("%d comments", len(c))
			}
			body := c[0].Body
			if !strings.Contains(body, newer.outputs["plan-id"][:12]) || strings.Contains(body, older["plan-id"][:12]) || !strings.Contains(body, comment.HeadMarker("head2")) {
				t.Fatalf("the comment does not show head2's plan %s (head1's is %s):\n%s\n--- older run\n%s", newer.outputs["plan-id"][:12], older["plan-id"][:12], body, log.String())
			}
			// The merge applies head2's plan: the comment promised that one.
			h.merge(pr, "merge111", "Merge pull request #1")
			if r := h.run(nil); r.code != 0 || r.outputs["plan-id"] != newer.outputs["plan-id"] {
				t.Fatalf("apply: %v\n%s", r.outputs, r.log)
			}
		})
	}
}

// TestOlderHeadMarksItsPlanOutdated: the older head's run comments after
// the newer commit was pushed, but before the newer run planned: its
// comment says merging does not apply it, until the newer run replaces it.
func TestOlderHeadMarksItsPlanOutdated(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	h.gh.Inject("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", ghemu.Fault{Before: func() { h.gh.PushToPull(pr.Number, "head2") }})
	r := h.run(nil)
	if r.code != 0 {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	body := h.gh.Comments(pr.Number)[0].Body
	if strings.Contains(body, "applies exactly this plan") || !strings.Contains(body, "does not apply this plan") || !strings.Contains(body, "head2") {
		t.Fatalf("the older plan is not marked outdated:\n%s", body)
	}
	newer := h.planPR(pr, nil)
	body = h.gh.Comments(pr.Number)[0].Body
	if !strings.Contains(body, "applies exactly this plan") || !strings.Contains(body, newer.outputs["plan-id"][:12]) || !comment.ShowsHead(body, "head2") {
		t.Fatalf("the newer run did not replace it:\n%s", body)
	}
}

// TestLaggingPullRequestNeverRestoresAnOlderPlan: the pull request's
// answer lags a push (it still names the older head, whose runs came
// before this one): the comment keeps this run's, newer, plan.
func TestLaggingPullRequestNeverRestoresAnOlderPlan(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.gh.PushToPull(pr.Number, "head2")
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
	h.pullRequest(pr)
	h.gh.Inject("GET /repos/{owner}/{repo}/pulls/{pull_number}", ghemu.Fault{Before: func() { h.gh.PushToPull(pr.Number, "head1") }})
	r := h.run(nil)
	body := h.gh.Comments(pr.Number)[0].Body
	if r.code != 0 || !comment.ShowsHead(body, "head2") || !strings.Contains(body, r.outputs["plan-id"][:12]) || !strings.Contains(body, "applies exactly this plan") {
		t.Fatalf("exit %d, comment:\n%s\n%s", r.code, body, r.log)
	}
}
