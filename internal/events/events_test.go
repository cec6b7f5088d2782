package events

import (
	"errors"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	const repo = "octo-org/app"
	cases := []struct {
		name       string
		c          Context
		command    string
		comment    bool
		reviewOnly bool
		refused    string // in the message
	}{
		{name: "pull request", c: Context{Event: "pull_request", HeadRepo: repo}, command: Plan, comment: true},
		{name: "head repo differs only in case", c: Context{Event: "pull_request", HeadRepo: "Octo-Org/App"}, command: Plan, comment: true},
		{name: "fork pull request", c: Context{Event: "pull_request", HeadRepo: "contributor/app"}, command: Plan, reviewOnly: true},
		{name: "deleted fork", c: Context{Event: "pull_request", HeadRepo: ""}, command: Plan, reviewOnly: true},
		{name: "explicit plan on a fork", c: Context{Command: Plan, Event: "pull_request", HeadRepo: "contributor/app"}, command: Plan, reviewOnly: true},
		{name: "push", c: Context{Event: "push"}, command: Apply, comment: true},
		{name: "merge queue", c: Context{Event: "merge_group"}, command: Plan, reviewOnly: true},
		{name: "pull_request_target refused", c: Context{Event: "pull_request_target", HeadRepo: "contributor/app"}, refused: "allow-pull-request-target: true"},
		{name: "explicit plan on pull_request_target refused", c: Context{Command: Plan, Event: "pull_request_target", HeadRepo: repo}, refused: "allow-pull-request-target"},
		{name: "pull_request_target allowed", c: Context{Event: "pull_request_target", HeadRepo: "contributor/app", AllowPRT: true}, command: Plan, comment: true, reviewOnly: true},
		{name: "workflow_dispatch", c: Context{Event: "workflow_dispatch"}, refused: "on workflow_dispatch set the command input"},
		{name: "schedule", c: Context{Event: "schedule"}, refused: "on schedule set the command input"},
		{name: "an event with no rule", c: Context{Event: "issue_comment"}, refused: "on issue_comment set the command input"},
		{name: "explicit status on schedule", c: Context{Command: "status", Event: "schedule"}, command: "status", comment: true},
		{name: "explicit refresh on workflow_dispatch", c: Context{Command: "refresh", Event: "workflow_dispatch"}, command: "refresh", comment: true},
		{name: "auto outside Actions", c: Context{Event: ""}, refused: "needs a GitHub Actions event"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.Repo, c.PRNumber, c.HasGitHub = repo, 7, c.Event != ""
			if c.Command == "" {
				c.Command = Auto
			}
			r, err := Resolve(c)
			if tc.refused != "" {
				if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("err %v, want refusal with %q", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Command != tc.command || r.Comment != tc.comment || (r.ReviewOnly != "") != tc.reviewOnly {
				t.Errorf("route %+v", r)
			}
			if r.ReviewOnly != "" && r.Notice == "" {
				t.Error("a review-only route without a notice")
			}
		})
	}
}

func TestEveryTableEventIsDocumented(t *testing.T) {
	for _, row := range Table() {
		if row[1] == "" {
			t.Errorf("%s has no documented behaviour", row[0])
		}
	}
	if len(Table()) < 6 {
		t.Errorf("table: %v", Table())
	}
}
