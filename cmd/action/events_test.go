package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/events"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestEventsUnderAuto runs command auto for every event with a defined
// behaviour, against the emulator: none ends in internal-error.
func TestEventsUnderAuto(t *testing.T) {
	cases := []struct {
		name       string
		setup      func(h *harness) *ghemu.Pull
		inputs     map[string]string
		code       int
		reason     string
		inLog      string
		comments   int  // sticky comments at the end
		artifact   bool // a plan artifact uploaded
		commentAPI bool // any call to the comments API
		summary    string
	}{
		{name: "fork pull request: job summary only", setup: func(h *harness) *ghemu.Pull {
			// A fork's run gets a read-only token; the action must not even try.
			h.gh.AddToken("ghs_fork", ghemu.BotLogin, map[string]string{"issues": ghemu.Read, "pull_requests": ghemu.Read, "actions": ghemu.Read, "metadata": ghemu.Read})
			h.env["INPUT_GITHUB-TOKEN"] = "ghs_fork"
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "forkhead", HeadRepo: "contributor/app"})
			h.pullRequest(pr)
			return pr
		}, inLog: "comes from a fork (contributor/app)", summary: "Merging this pull request does not apply this plan: it comes from a fork"},
		{name: "merge queue: a check, no comment", setup: func(h *harness) *ghemu.Pull {
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "queuehd1"})
			h.must(h.runner.MergeGroup(pr.Number, "queuemrg", "base0001"))
			return pr
		}, inLog: "merge_group: planning the queue's merge commit", summary: "+4 to create"},
		{name: "merge queue: fail-on fails the check", setup: func(h *harness) *ghemu.Pull {
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "queuehd2"})
			h.must(h.runner.MergeGroup(pr.Number, "queuemr2", "base0001"))
			return pr
		}, inputs: map[string]string{"fail-on": "create"}, code: 1, reason: "fail-on", summary: "does not apply this plan"},
		{name: "pull_request_target refused", setup: func(h *harness) *ghemu.Pull {
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "prthead1", HeadRepo: "contributor/app"})
			h.must(h.runner.PullRequestTarget(pr))
			return pr
		}, code: 2, reason: "invalid-input", inLog: "set allow-pull-request-target: true"},
		{name: "pull_request_target allowed: comment, no artifact", setup: func(h *harness) *ghemu.Pull {
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "prthead2", HeadRepo: "contributor/app"})
			h.must(h.runner.PullRequestTarget(pr))
			return pr
		}, inputs: map[string]string{"allow-pull-request-target": "true"}, comments: 1, commentAPI: true, summary: `made by a pull\_request\_target run`},
		{name: "workflow_dispatch", setup: func(h *harness) *ghemu.Pull {
			h.must(h.runner.Dispatch("main0001"))
			return nil
		}, code: 2, reason: "invalid-input", inLog: "on workflow_dispatch set the command input"},
		{name: "schedule", setup: func(h *harness) *ghemu.Pull {
			h.must(h.runner.Schedule("main0001"))
			return nil
		}, code: 2, reason: "invalid-input", inLog: "on schedule set the command input"},
		{name: "schedule with command status", setup: func(h *harness) *ghemu.Pull {
			h.must(h.runner.Schedule("main0001"))
			return nil
		}, inputs: map[string]string{"command": "status"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pr := tc.setup(h)
			h.gh.ResetLog()
			res := h.run(tc.inputs)
			if res.code != tc.code || res.outputs["failure-reason"] != tc.reason {
				t.Fatalf("exit %d (want %d), outputs %v\n%s", res.code, tc.code, res.outputs, res.log)
			}
			if !strings.Contains(res.log, tc.inLog) {
				t.Errorf("log lacks %q:\n%s", tc.inLog, res.log)
			}
			if !strings.Contains(res.summary, tc.summary) {
				t.Errorf("summary lacks %q:\n%s", tc.summary, res.summary)
			}
			if pr != nil {
				if n := len(h.gh.Comments(pr.Number)); n != tc.comments {
					t.Errorf("%d comments, want %d", n, tc.comments)
				}
			}
			if got := h.gh.CountRequests("GET /repos/octo-org/app/issues")+h.gh.CountRequests("POST /repos/octo-org/app/issues") > 0; got != tc.commentAPI {
				t.Errorf("comments API called: %v, want %v", got, tc.commentAPI)
			}
			if n := h.gh.CountRequests("POST /twirp/"); (n > 0) != tc.artifact || res.outputs["artifact-id"] != "" {
				t.Errorf("artifact calls %d, outputs %v", n, res.outputs)
			}
		})
	}
}

// TestEveryEventIsInTheDocs keeps docs/events.md's table in step with
// internal/events.
func TestEveryEventIsInTheDocs(t *testing.T) {
	doc := mustRead(t, filepath.Join(deploytest.RepoRoot(), "docs", "events.md"))
	var firstCells []string // the event column of each row
	for _, line := range strings.Split(doc, "\n") {
		if cells := strings.Split(line, "|"); len(cells) > 2 && strings.HasPrefix(line, "|") {
			firstCells = append(firstCells, cells[1])
		}
	}
	for _, row := range events.Table() {
		if !strings.Contains(strings.Join(firstCells, "\n"), "`"+row[0]+"`") {
			t.Errorf("docs/events.md's table lacks %s (%s)", row[0], row[1])
		}
	}
}
