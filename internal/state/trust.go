package state

import (
	"context"
	"net/http"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
)

// Trust decides whether an artifact was uploaded by a run that may write
// state: a push, workflow_dispatch or schedule run of this repository on
// the default branch, at a commit of that branch's history. GitHub binds
// an artifact to its run (id, head branch, head commit) and the run to its
// event; everything a writer puts in a commit (author, message, a status)
// is theirs to choose, so only those bindings are believed.
//
// One Trust serves a whole run (the state artifact and the witness ask the
// same questions): each run list and each compare is asked once.
type Trust struct {
	Runs RunLister
	// History says whether a commit is in the default branch's history
	// (nil: not asked). A tag named like the default branch runs its own
	// commit's workflow with that head_branch.
	History       History
	DefaultBranch string
	Repo          string // owner/name
	// Known are commits known to be in the default branch's history
	// without asking: this run's own commit when it runs on that branch,
	// a push's before, a pull request's base.
	Known []string

	trusted  map[int64]bool  // run id → trusted
	onBranch map[string]bool // commit → in the default branch's history
}

// RunLister lists the workflow runs of a commit.
type RunLister interface {
	RunsOf(ctx context.Context, headSHA string) ([]Run, error)
}

// GitHubRuns lists runs through the REST API.
type GitHubRuns struct {
	GH          *github.Client
	Owner, Repo string
}

// RunsOf implements RunLister.
func (g *GitHubRuns) RunsOf(ctx context.Context, headSHA string) ([]Run, error) {
	var out []Run
	opt := &github.ListWorkflowRunsOptions{HeadSHA: headSHA, ListOptions: github.ListOptions{PerPage: 100}}
	for {
		runs, resp, err := g.GH.Actions.ListRepositoryWorkflowRuns(ctx, g.Owner, g.Repo, opt)
		if err != nil {
			return nil, err
		}
		for _, r := range runs.WorkflowRuns {
			out = append(out, Run{ID: r.GetID(), Event: r.GetEvent(), HeadBranch: r.GetHeadBranch(), HeadRepo: r.GetHeadRepository().GetFullName()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

// History says whether a commit is in a branch's history.
type History interface {
	OnBranch(ctx context.Context, sha, branch string) (bool, error)
}

// OnBranch implements History: the branch is the commit or comes after it.
func (g *GitHubRuns) OnBranch(ctx context.Context, sha, branch string) (bool, error) {
	cmp, resp, err := g.GH.Repositories.CompareCommits(ctx, g.Owner, g.Repo, sha, branch, &github.ListOptions{PerPage: 1})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return cmp.GetStatus() == "ahead" || cmp.GetStatus() == "identical", nil
}

// Run is what trust needs to know of a workflow run.
type Run struct {
	ID         int64
	Event      string
	HeadBranch string
	HeadRepo   string // owner/name
}

// trustedEvents are the events whose runs on the default branch may write
// state: never a pull request's.
var trustedEvents = map[string]bool{"push": true, "workflow_dispatch": true, "schedule": true}

// Trusted says whether a run may have written state (its commit aside).
func (t *Trust) Trusted(r Run) bool {
	return trustedEvents[r.Event] && r.HeadBranch == t.DefaultBranch && (t.Repo == "" || r.HeadRepo == "" || r.HeadRepo == t.Repo)
}

// Run says whether the artifact's run may have written state, and whether
// that was found out now (false: known before, or decided without asking).
// The artifact listing names the run's branch: one of another branch, or
// of a fork, is refused without a call.
func (t *Trust) Run(ctx context.Context, info *artifacts.Info) (ok, checked bool, err error) {
	if info.FromFork || info.RunID == 0 || t.Runs == nil {
		return false, false, nil
	}
	if ok, seen := t.trusted[info.RunID]; seen {
		return ok, false, nil
	}
	if t.trusted == nil {
		t.trusted = map[int64]bool{}
	}
	if info.HeadBranch != "" && info.HeadBranch != t.DefaultBranch {
		t.trusted[info.RunID] = false
		return false, true, nil
	}
	runs, err := t.Runs.RunsOf(ctx, info.HeadSHA)
	if err != nil {
		return false, false, err
	}
	for _, r := range runs {
		t.trusted[r.ID] = t.Trusted(r)
	}
	if _, listed := t.trusted[info.RunID]; !listed {
		t.trusted[info.RunID] = false
	}
	return t.trusted[info.RunID], true, nil
}

// OnDefaultBranch says whether sha is in the default branch's history
// (asked once per commit; Known ones are not asked), and whether that was
// found out now.
func (t *Trust) OnDefaultBranch(ctx context.Context, sha string) (ok, checked bool, err error) {
	if t.History == nil {
		return true, false, nil
	}
	if ok, seen := t.onBranch[sha]; seen {
		return ok, false, nil
	}
	for _, k := range t.Known {
		if k != "" && k == sha {
			return true, false, nil
		}
	}
	ok, err = t.History.OnBranch(ctx, sha, t.DefaultBranch)
	if err != nil {
		return false, false, err
	}
	if t.onBranch == nil {
		t.onBranch = map[string]bool{}
	}
	t.onBranch[sha] = ok
	return ok, true, nil
}
