// Package events decides what the action does for the event that started
// the workflow: which command `auto` runs, and how far a plan may be
// trusted (may it comment; may it upload the artifact that apply on merge
// applies). Every event has a defined answer; none is an internal error.
package events

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Commands a route can run (the run package's names).
const (
	Auto    = "auto"
	Plan    = "plan"
	Apply   = "apply"
	Preview = "preview"
)

// ErrRefused is matched when the event cannot be served as configured:
// the caller reports it as invalid input, with the message saying which
// input to set.
var ErrRefused = errors.New("event refused")

// Context is what the decision depends on.
type Context struct {
	Command   string // the command input; "auto" lets the event choose
	Event     string // GITHUB_EVENT_NAME; "" outside GitHub Actions
	Repo      string // owner/name of this repository
	HeadRepo  string // owner/name of the pull request's head repository ("" if deleted)
	PRNumber  int
	AllowPRT  bool // allow-pull-request-target
	HasGitHub bool // running in GitHub Actions with an event
}

// Route is the decision.
type Route struct {
	Command string
	// Comment is false when the plan must not try to comment.
	Comment bool
	// ReviewOnly, when set, says why this plan is for review only: it is
	// not uploaded as the artifact apply on merge trusts, and the report
	// says so instead of promising that merging applies it.
	ReviewOnly string
	// Notice is said in the log when the route differs from a plain
	// pull request plan or push apply.
	Notice string
}

// rule is one row of the table.
type rule struct {
	auto string // command auto runs; "" refuses auto with refuse
	// refuse is the message for auto when the event has no command of its
	// own (%s: the event name).
	refuse string
	doc    string
}

const setCommand = "command auto plans on pull_request and applies on push; on %s set the command input (plan, apply, status, refresh or destroy), e.g. command: ${{ inputs.command }} on workflow_dispatch, or command: refresh on schedule"

// table is every event's behaviour under command auto. Events not listed
// are refused like workflow_dispatch.
var table = map[string]rule{
	"pull_request":        {auto: Plan, doc: "plan; comment and upload the plan artifact (a fork's pull request: job summary only)"},
	"pull_request_target": {auto: Plan, doc: "refused unless allow-pull-request-target: true; then plan with a comment, never an artifact apply trusts"},
	"merge_group":         {auto: Plan, doc: "plan the queue's merge commit as a check (fail-on applies); no comment, no artifact"},
	"push":                {auto: Apply, doc: "apply the merged pull request's reviewed plan"},
	"workflow_dispatch":   {refuse: setCommand, doc: "invalid-input: set command"},
	"schedule":            {refuse: setCommand, doc: "invalid-input: set command"},
}

// Table lists the documented behaviour per event, for docs/events.md.
func Table() [][2]string {
	var out [][2]string
	for ev, r := range table {
		out = append(out, [2]string{ev, r.doc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Resolve decides the route. The trust rules hold for an explicit
// command: plan too, since trust depends on who wrote the code, not on how
// the command was chosen.
func Resolve(c Context) (Route, error) {
	r := Route{Command: c.Command, Comment: true}
	if c.Command == Auto {
		rule, ok := table[c.Event]
		switch {
		case !c.HasGitHub:
			return r, fmt.Errorf("%w: command auto needs a GitHub Actions event; run plan, apply, status, refresh or destroy", ErrRefused)
		case !ok || rule.auto == "":
			return r, fmt.Errorf("%w: "+setCommand, ErrRefused, c.Event)
		}
		r.Command = rule.auto
	}
	if r.Command == Preview {
		return preview(c, r)
	}
	if r.Command != Plan {
		return r, nil
	}
	switch c.Event {
	case "pull_request_target":
		if !c.AllowPRT {
			return r, fmt.Errorf("%w: pull_request_target runs with a write token and the repository's secrets; "+
				"a workflow that checks out the pull request's code would run that code (its arena.yaml, pack and tools) with them. "+
				"Plan on pull_request instead, or, if this workflow never checks out untrusted code with secrets in reach, set allow-pull-request-target: true", ErrRefused)
		}
		r.ReviewOnly = "it was made by a pull_request_target run, which is for review only; plans that merge applies come from pull_request runs"
		r.Notice = "pull_request_target (allowed by allow-pull-request-target): planning for review; no plan artifact is uploaded"
	case "merge_group":
		r.Comment = false
		r.ReviewOnly = "it plans the merge queue's commit as a check; the plan that is applied is the pull request's reviewed one"
		r.Notice = "merge_group: planning the queue's merge commit as a check (job summary only; no comment, no plan artifact)"
	case "pull_request":
		if c.HeadRepo == "" || !strings.EqualFold(c.HeadRepo, c.Repo) {
			r.Comment = false
			r.ReviewOnly = "it comes from a fork, whose plans are never applied; a maintainer can re-plan the change from a branch of this repository"
			r.Notice = fmt.Sprintf("pull request #%d comes from a fork (%s): planning into the job summary only; no comment, no plan artifact", c.PRNumber, orDeleted(c.HeadRepo))
		}
	}
	return r, nil
}

// preview routes command preview: a pull request of this repository's own
// branches gets one; a fork's never does (its code would run with the
// repository's secrets and deploy), and says so without failing.
func preview(c Context, r Route) (Route, error) {
	if c.Event != "pull_request" {
		return r, fmt.Errorf("%w: command preview deploys a pull request's preview environment: run it on pull_request events "+
			"(types opened, synchronize, reopened to deploy, closed to destroy), not on %s", ErrRefused, orNone(c.Event))
	}
	if c.HeadRepo == "" || !strings.EqualFold(c.HeadRepo, c.Repo) {
		r.Comment = false
		r.ReviewOnly = fmt.Sprintf("pull request #%d comes from a fork (%s), whose code never deploys", c.PRNumber, orDeleted(c.HeadRepo))
	}
	return r, nil
}

func orNone(event string) string {
	if event == "" {
		return "a run outside GitHub Actions"
	}
	return event
}

func orDeleted(repo string) string {
	if repo == "" {
		return "a deleted repository"
	}
	return repo
}
