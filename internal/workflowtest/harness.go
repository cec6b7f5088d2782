// Package workflowtest runs GitHub Actions workflows against the GitHub
// emulator (internal/ghemu) the way GitHub and its runner would: the
// repository's commits, the events that start runs (pull request, push,
// merge, dispatch, schedule), the Actions service that schedules jobs
// (on: filters, needs, if, strategy.matrix with fromJSON of an earlier
// job's outputs, concurrency groups with their one running and one pending
// job, environments with required reviewers and their deployments), the
// token each job gets from its permissions, and the runner that runs steps
// (env, with, run scripts, file commands, outputs). Actions are this
// repository's action (internal/workflowtest.Action: the binary the image
// packages, or the image itself) and small stand-ins for third-party
// actions registered by name.
//
// Scenario files (scenario.go) drive it from data: docs/examples-harness.md.
package workflowtest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// Files are a commit's files, or the change a commit makes (a nil
// content deletes the file).
type Files map[string][]byte

// Environment is a repository environment's settings.
type Environment struct {
	// Reviewers: jobs that name it wait for Approve (required reviewers).
	Reviewers bool
	// Secrets and Vars override the repository's for jobs that name it.
	Secrets, Vars map[string]string
}

// Harness is GitHub for one repository, octo-org/app of the emulator.
type Harness struct {
	T  testing.TB
	GH *ghemu.Server
	// Action is the action under test; StandIns run every other `uses:`.
	Action   *Action
	StandIns map[string]StandIn
	// Secrets and Vars are the repository's.
	Secrets, Vars map[string]string
	// Environments are the repository's environments by name; a job that
	// names another one creates it, as GitHub does.
	Environments map[string]*Environment
	// Permissive gives jobs without `permissions:` read and write on every
	// scope (the old default); otherwise they get contents and packages
	// read (GitHub's default for new repositories).
	Permissive bool
	// Cloud is a directory standing for the providers' services: what a
	// provider's stand-in deploys lives there, across jobs and runners.
	Cloud string

	tmp    string
	runs   []*Run
	groups map[string]*group
	holds  []string
	pulls  map[int]*pullState
	jobSeq int
	logs   []string // the log of every job that ran, for failures
}

type pullState struct {
	number       int    // GitHub's number (issues and pull requests share them)
	branch, base string // head branch; the commit it was opened from
	fork         bool
	user         string
}

// New makes a harness on a fresh emulator with an empty repository.
func New(t testing.TB, action *Action) *Harness {
	t.Helper()
	h := &Harness{
		T: t, GH: ghemu.New(t), Action: action, StandIns: map[string]StandIn{},
		Secrets: map[string]string{}, Vars: map[string]string{}, Environments: map[string]*Environment{},
		Cloud: t.TempDir(), tmp: t.TempDir(), groups: map[string]*group{}, pulls: map[int]*pullState{},
	}
	for name, s := range DefaultStandIns() {
		h.StandIns[name] = s
	}
	return h
}

// Runs are every workflow run so far, oldest first.
func (h *Harness) Runs() []*Run { return append([]*Run(nil), h.runs...) }

// Tree is the files of a commit.
func (h *Harness) Tree(sha string) Files {
	files, ok := h.GH.Tree(sha)
	if !ok {
		h.T.Fatalf("no commit %s", sha)
	}
	return files
}

// apply returns base with change applied.
func apply(base, change Files) Files {
	out := Files{}
	for p, b := range base {
		out[p] = b
	}
	for p, b := range change {
		if b == nil {
			delete(out, p)
		} else {
			out[p] = b
		}
	}
	return out
}

// diff is the change from a to b, and the paths it touches.
func diff(a, b Files) (Files, []string) {
	change := Files{}
	for p, bb := range b {
		if ab, ok := a[p]; !ok || string(ab) != string(bb) {
			change[p] = bb
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			change[p] = nil
		}
	}
	paths := make([]string, 0, len(change))
	for p := range change {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return change, paths
}

// Seed makes the repository's first commit on main; no workflow runs.
func (h *Harness) Seed(files Files) string {
	if h.GH.Head("main") != "" {
		h.T.Fatal("Seed: the repository already has commits")
	}
	sha := h.GH.CommitMerge("main", files, nil, "Initial commit")
	h.GH.Mainline(sha)
	return sha
}

// Push commits change on top of main and delivers the push event.
func (h *Harness) Push(change Files, message string) []*Run {
	before := h.GH.Head("main")
	sha := h.GH.CommitMerge("main", apply(h.Tree(before), change), []string{before}, message)
	h.GH.Mainline(sha)
	_, changed := diff(h.Tree(before), h.Tree(sha))
	return h.deliver(h.pushEvent(before, sha, message, changed))
}

func (h *Harness) pushEvent(before, sha, message string, changed []string) *Event {
	return &Event{
		Name: "push", SHA: sha, Ref: "refs/heads/main", HeadSHA: sha, HeadBranch: "main", Branch: "main", Changed: changed,
		Actor: "octocat",
		Payload: map[string]any{"ref": "refs/heads/main", "before": before, "after": sha, "created": false, "deleted": false, "forced": false,
			"head_commit": map[string]any{"id": sha, "message": message, "tree_id": sha},
			"pusher":      map[string]any{"name": "octocat"}, "sender": map[string]any{"login": "octocat", "type": "User"}},
	}
}

// PullOptions are how a pull request is opened.
type PullOptions struct {
	Title string
	Fork  bool   // from a fork: a read-only token and no secrets
	User  string // its author (default octocat; contributor for a fork)
}

// OpenPull opens a pull request with change on a branch from main, and
// delivers pull_request opened. n is the caller's name for it: GitHub
// numbers it (PullNumber), after the issues and pull requests before it.
func (h *Harness) OpenPull(n int, change Files, opt PullOptions) []*Run {
	if _, ok := h.pulls[n]; ok {
		h.T.Fatalf("pull request %d is already open", n)
	}
	base := h.GH.Head("main")
	branch := fmt.Sprintf("change-%d-%d", n, len(h.pulls)+1)
	head := h.GH.CommitMerge(branch, apply(h.Tree(base), change), []string{base}, fmt.Sprintf("Change %d", n))
	if opt.User == "" {
		opt.User = "octocat"
		if opt.Fork {
			opt.User = "contributor"
		}
	}
	headRepo := ""
	if opt.Fork {
		headRepo = opt.User + "/app"
	}
	p := h.GH.AddPull(ghemu.Pull{Title: opt.Title, HeadSHA: head, HeadRef: branch, BaseSHA: base, BaseRef: "main", HeadRepo: headRepo, User: opt.User})
	h.pulls[n] = &pullState{number: p.Number, branch: branch, base: base, fork: opt.Fork, user: opt.User}
	return h.deliver(h.pullEvent(n, "opened"))
}

// PushToPull pushes change to pull request n's branch and delivers
// pull_request synchronize.
func (h *Harness) PushToPull(n int, change Files) []*Run {
	ps := h.pull(n)
	prev := h.GH.Head(ps.branch)
	head := h.GH.CommitMerge(ps.branch, apply(h.Tree(prev), change), []string{prev}, fmt.Sprintf("Change %d, again", n))
	h.GH.PushToPull(ps.number, head)
	return h.deliver(h.pullEvent(n, "synchronize"))
}

func (h *Harness) pull(n int) *pullState {
	ps, ok := h.pulls[n]
	if !ok {
		h.T.Fatalf("no pull request %d", n)
	}
	return ps
}

// PullNumber is GitHub's number of the pull request the caller named n.
func (h *Harness) PullNumber(n int) int { return h.pull(n).number }

// merged is main's files with pull request n's change (from the commit it
// was opened from to its head) on top: the merge commit's tree.
func (h *Harness) merged(n int) (Files, []string) {
	ps := h.pull(n)
	change, paths := diff(h.Tree(ps.base), h.Tree(h.GH.Head(ps.branch)))
	return apply(h.Tree(h.GH.Head("main")), change), paths
}

func (h *Harness) pullEvent(n int, action string) *Event {
	ps := h.pull(n)
	p, _ := h.GH.Pull(ps.number)
	headRepo := p.HeadRepo
	ev := &Event{Name: "pull_request", Action: action, HeadSHA: p.HeadSHA, HeadBranch: ps.branch, Branch: "main", Fork: ps.fork, Actor: ps.user}
	files, changed := h.merged(n)
	ev.Changed = changed
	if action == "closed" {
		// A closed pull request's run is on its base branch's commit: the
		// merge commit when merged.
		ev.SHA, ev.Ref = h.GH.Head("main"), "refs/heads/main"
		if p.MergeCommitSHA != "" {
			ev.SHA = p.MergeCommitSHA
		}
	} else {
		// refs/pull/N/merge: main and the head merged, a commit no branch
		// points to.
		ev.SHA = h.GH.CommitMerge("", files, []string{h.GH.Head("main"), p.HeadSHA}, fmt.Sprintf("Merge %s into main", p.HeadSHA))
		ev.Ref = fmt.Sprintf("refs/pull/%d/merge", ps.number)
	}
	repo := func(full string) map[string]any {
		owner, name, _ := strings.Cut(full, "/")
		return map[string]any{"full_name": full, "name": name, "owner": map[string]any{"login": owner}, "fork": full != ghemu.DefaultOwner+"/"+ghemu.DefaultRepo}
	}
	ev.Payload = map[string]any{
		"action": action, "number": ps.number,
		"pull_request": map[string]any{
			"number": ps.number, "title": p.Title, "state": p.State, "merged": p.Merged, "user": map[string]any{"login": p.User},
			"merge_commit_sha": p.MergeCommitSHA,
			"head":             map[string]any{"sha": p.HeadSHA, "ref": ps.branch, "repo": repo(headRepo)},
			"base":             map[string]any{"sha": h.GH.Head("main"), "ref": "main", "repo": repo(ghemu.DefaultOwner + "/" + ghemu.DefaultRepo)},
		},
		"sender": map[string]any{"login": ps.user, "type": "User"},
	}
	return ev
}

// Merge merges pull request n into main (a merge commit), delivering the
// push to main and pull_request closed.
func (h *Harness) Merge(n int) []*Run {
	ps := h.pull(n)
	before := h.GH.Head("main")
	files, _ := h.merged(n)
	sha := h.GH.CommitMerge("main", files, []string{before, h.GH.Head(ps.branch)}, fmt.Sprintf("Merge pull request #%d from octo-org/%s", ps.number, ps.branch))
	h.GH.MergePull(ps.number, sha)
	_, changed := diff(h.Tree(before), h.Tree(sha))
	runs := h.deliver(h.pushEvent(before, sha, fmt.Sprintf("Merge pull request #%d", ps.number), changed))
	return append(runs, h.deliver(h.pullEvent(n, "closed"))...)
}

// ClosePull closes pull request n unmerged (pull_request closed).
func (h *Harness) ClosePull(n int) []*Run {
	h.GH.ClosePull(h.pull(n).number)
	return h.deliver(h.pullEvent(n, "closed"))
}

// Dispatch runs workflow (its file name) by hand on main with inputs, as
// the Run workflow button does: it refuses inputs the workflow does not
// take, a missing required one, and a choice that is not an option.
func (h *Harness) Dispatch(workflow string, inputs map[string]string) (*Run, error) {
	sha := h.GH.Head("main")
	wf, err := h.workflowFile(sha, workflow)
	if err != nil {
		return nil, err
	}
	t := wf.On["workflow_dispatch"]
	if t == nil {
		return nil, fmt.Errorf("%s: workflow does not have 'workflow_dispatch' trigger", workflow)
	}
	typed, raw, err := dispatchInputs(t, inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", workflow, err)
	}
	ev := &Event{Name: "workflow_dispatch", SHA: sha, Ref: "refs/heads/main", HeadSHA: sha, HeadBranch: "main", Branch: "main", Actor: "octocat",
		Inputs: typed, Payload: map[string]any{"inputs": raw, "ref": "refs/heads/main", "workflow": ".github/workflows/" + workflow,
			"sender": map[string]any{"login": "octocat", "type": "User"}}}
	runs := h.deliverTo(ev, []*Workflow{wf})
	if len(runs) != 1 {
		return nil, fmt.Errorf("%s: no run started", workflow)
	}
	return runs[0], nil
}

func dispatchInputs(t *Trigger, given map[string]string) (map[string]any, map[string]any, error) {
	for k := range given {
		if t.Inputs[k] == nil {
			return nil, nil, fmt.Errorf("Unexpected inputs provided: [%q]", k)
		}
	}
	typed, raw := map[string]any{}, map[string]any{}
	for _, name := range t.InputOrder {
		in := t.Inputs[name]
		v, ok := given[name]
		if !ok {
			v = in.Default
		}
		if !ok && in.Required && v == "" {
			return nil, nil, fmt.Errorf("Required input '%s' not provided", name)
		}
		switch in.Type {
		case "choice":
			found := false
			for _, o := range in.Options {
				found = found || o == v
			}
			if !found && !(v == "" && !in.Required) {
				return nil, nil, fmt.Errorf("Provided value '%s' for input '%s' not in the list of allowed values", v, name)
			}
			typed[name] = v
		case "boolean":
			if v == "" {
				v = "false"
			}
			if v != "true" && v != "false" {
				return nil, nil, fmt.Errorf("Provided value '%s' for input '%s' is not a boolean", v, name)
			}
			typed[name] = v == "true"
		case "number":
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil && v != "" {
				return nil, nil, fmt.Errorf("Provided value '%s' for input '%s' is not a number", v, name)
			}
			typed[name] = f
		default:
			typed[name] = v
		}
		raw[name] = v
	}
	return typed, raw, nil
}

// Schedule delivers the schedule event of cron (empty: each workflow's
// first) to every workflow on main that has it.
func (h *Harness) Schedule(cron string) []*Run {
	sha := h.GH.Head("main")
	var runs []*Run
	for _, wf := range h.workflows(sha) {
		t := wf.On["schedule"]
		if t == nil || len(t.Crons) == 0 {
			continue
		}
		c := cron
		if c == "" {
			c = t.Crons[0]
		}
		found := false
		for _, tc := range t.Crons {
			found = found || tc == c
		}
		if !found {
			continue
		}
		ev := &Event{Name: "schedule", SHA: sha, Ref: "refs/heads/main", HeadSHA: sha, HeadBranch: "main", Branch: "main",
			Actor: "octocat", Cron: c, Payload: map[string]any{"schedule": c}}
		runs = append(runs, h.deliverTo(ev, []*Workflow{wf})...)
	}
	return runs
}

// workflows are the workflow files of a commit.
func (h *Harness) workflows(sha string) []*Workflow {
	var out []*Workflow
	files := h.Tree(sha)
	var names []string
	for p := range files {
		if dir, file := path.Split(p); dir == ".github/workflows/" && (strings.HasSuffix(file, ".yml") || strings.HasSuffix(file, ".yaml")) {
			names = append(names, file)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		wf, err := h.workflowFile(sha, n)
		if err != nil {
			h.T.Fatal(err)
		}
		out = append(out, wf)
	}
	return out
}

func (h *Harness) workflowFile(sha, name string) (*Workflow, error) {
	p := ".github/workflows/" + name
	b, ok := h.Tree(sha)[p]
	if !ok {
		return nil, fmt.Errorf("no workflow %s at %s", p, sha)
	}
	return ParseWorkflow(p, b)
}

// Event is what starts workflow runs.
type Event struct {
	Name, Action string         // pull_request, opened
	SHA, Ref     string         // GITHUB_SHA, GITHUB_REF
	HeadSHA      string         // the run's head_sha (a pull request's head)
	HeadBranch   string         // the run's head_branch
	Branch       string         // what branches: filters match (a pull request's base)
	Changed      []string       // the files paths: filters match
	Payload      map[string]any // the event file
	Inputs       map[string]any // workflow_dispatch's, typed
	Cron         string
	Fork         bool
	Actor        string
}

// deliver starts a run of every workflow of the event's commit whose on:
// matches it, and runs what can run.
func (h *Harness) deliver(ev *Event) []*Run {
	return h.deliverTo(ev, h.workflows(ev.SHA))
}

func (h *Harness) deliverTo(ev *Event, wfs []*Workflow) []*Run {
	var runs []*Run
	for _, wf := range wfs {
		if !triggers(wf, ev) {
			continue
		}
		runs = append(runs, h.start(wf, ev))
	}
	h.settle()
	return runs
}

// triggers is whether wf's on: matches the event and its filters.
func triggers(wf *Workflow, ev *Event) bool {
	t, ok := wf.On[ev.Name]
	if !ok {
		return false
	}
	if ev.Name == "pull_request" {
		types := t.Types
		if len(types) == 0 {
			types = []string{"opened", "synchronize", "reopened"}
		}
		found := false
		for _, ty := range types {
			found = found || ty == ev.Action
		}
		if !found {
			return false
		}
	}
	if ev.Name == "push" || ev.Name == "pull_request" {
		if len(t.Branches) > 0 && !filterMatch(t.Branches, []string{ev.Branch}) {
			return false
		}
		if len(t.BranchesIgnore) > 0 && filterMatch(t.BranchesIgnore, []string{ev.Branch}) {
			return false
		}
		if len(t.Paths) > 0 && !filterMatch(t.Paths, ev.Changed) {
			return false
		}
		if len(t.PathsIgnore) > 0 && allIgnored(t.PathsIgnore, ev.Changed) {
			return false
		}
	}
	return true
}

// filterMatch is a branches: or paths: filter: the patterns in order, a
// `!` pattern taking a match back; true when any value matches.
func filterMatch(patterns, values []string) bool {
	for _, v := range values {
		in := false
		for _, p := range patterns {
			if neg := strings.HasPrefix(p, "!"); neg {
				if globMatch(p[1:], v) {
					in = false
				}
			} else if globMatch(p, v) {
				in = true
			}
		}
		if in {
			return true
		}
	}
	return false
}

func allIgnored(patterns, values []string) bool {
	for _, v := range values {
		if !filterMatch(patterns, []string{v}) {
			return false
		}
	}
	return len(values) > 0
}

// globMatch is GitHub's filter pattern: * is any run of characters but
// /, ** any run at all, ? one character.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch {
	case strings.HasPrefix(pattern, "**"):
		rest := strings.TrimPrefix(pattern[2:], "/")
		if rest == "" {
			return true
		}
		for i := 0; i <= len(s); i++ {
			if (i == 0 || s[i-1] == '/') && globMatch(rest, s[i:]) {
				return true
			}
			if globMatch(pattern[2:], s[i:]) {
				return true
			}
		}
		return false
	case pattern[0] == '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
			if i < len(s) && s[i] == '/' {
				return false
			}
		}
		return false
	case s == "":
		return false
	case pattern[0] == '?':
		return s[0] != '/' && globMatch(pattern[1:], s[1:])
	default:
		return pattern[0] == s[0] && globMatch(pattern[1:], s[1:])
	}
}

// jobDirs are the runner's directories for one job, fresh as a hosted
// runner's: the workspace, RUNNER_TEMP and its _github_home (HOME in a
// container), _github_workflow (the event file) and
// _runner_file_commands.
type jobDirs struct {
	root, workspace, temp, home, workflow, files string
}

func (h *Harness) newJobDirs(n int) jobDirs {
	root := filepath.Join(h.tmp, fmt.Sprintf("job%03d", n))
	d := jobDirs{root: root, workspace: filepath.Join(root, "work", "app", "app"), temp: filepath.Join(root, "work", "_temp")}
	d.home = filepath.Join(d.temp, "_github_home")
	d.workflow = filepath.Join(d.temp, "_github_workflow")
	d.files = filepath.Join(d.temp, "_runner_file_commands")
	for _, dir := range []string{d.workspace, d.home, d.workflow, d.files} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			h.T.Fatal(err)
		}
	}
	return d
}
