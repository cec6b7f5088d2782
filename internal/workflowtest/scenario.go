package workflowtest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// Scenario is a sequence of events on a repository holding workflows,
// and what must be true after each: docs/examples-harness.md.
type Scenario struct {
	Description string `yaml:"description"`
	// Workflows are files of this repository (examples/…) installed as
	// .github/workflows/<their name>.
	Workflows []string `yaml:"workflows"`
	// Repository is the first commit's other files.
	Repository   []RepoItem             `yaml:"repository"`
	Secrets      map[string]string      `yaml:"secrets"`
	Vars         map[string]string      `yaml:"vars"`
	Environments map[string]ScenarioEnv `yaml:"environments"`
	Omnia        []string               `yaml:"omnia"` // versions of the Omnia stand-in released (default 1.4.0)
	// Rulesets are the repository's branch rulesets (e.g. on the state
	// branch, bypassed by the deploy App's bot alone).
	Rulesets   []ghemu.Ruleset              `yaml:"rulesets"`
	Permissive bool                         `yaml:"permissive"`
	Unused     map[string]map[string]string `yaml:"unused-permissions"` // job → "scope: level" → why
	Events     []ScenarioEvent              `yaml:"events"`

	// workflowText replaces Workflows' files (the README's quickstart).
	workflowText map[string]string
	installed    []string // the names Workflows are installed under
}

// ScenarioEnv is an environment's settings.
type ScenarioEnv struct {
	Reviewers bool              `yaml:"reviewers"`
	Secrets   map[string]string `yaml:"secrets"`
	Vars      map[string]string `yaml:"vars"`
}

// RepoItem is part of the first commit: a project of testdata/projects
// copied into a folder (with edits), or files.
type RepoItem struct {
	Project string            `yaml:"project"`
	Into    string            `yaml:"into"`
	Edit    []Edit            `yaml:"edit"`
	Files   map[string]string `yaml:"files"`
}

// Edit changes one file: replace text (every occurrence; it must occur),
// set its content, or delete it.
type Edit struct {
	File    string  `yaml:"file"`
	Replace string  `yaml:"replace"`
	With    string  `yaml:"with"`
	Content *string `yaml:"content"`
	Delete  bool    `yaml:"delete"`
}

// ScenarioEvent is one thing that happens; exactly one of its kinds is set.
type ScenarioEvent struct {
	Name string `yaml:"name"`
	// pull_request: N opens #N with Change, or pushes Change to it.
	PullRequest int    `yaml:"pull_request"`
	Fork        bool   `yaml:"fork"`
	Push        string `yaml:"push"` // a commit message: push Change to main
	Change      []Edit `yaml:"change"`
	Merge       int    `yaml:"merge"`
	Close       int    `yaml:"close"`
	Dispatch    *struct {
		Workflow string            `yaml:"workflow"`
		Inputs   map[string]string `yaml:"inputs"`
	} `yaml:"dispatch"`
	Schedule *string `yaml:"schedule"` // a cron, or "" for each workflow's first
	Approve  string  `yaml:"approve"`
	Reject   string  `yaml:"reject"`
	Hold     string  `yaml:"hold"`
	Release  string  `yaml:"release"`
	Advance  string  `yaml:"advance"` // the clock, e.g. 24h
	Cloud    []Edit  `yaml:"cloud"`   // edits under the providers' stand-ins' service: drift
	Expect   Expect  `yaml:"expect"`
}

// Expect is what must be true after an event.
type Expect struct {
	// Jobs are every job of the runs the event started, exactly: name →
	// success, failure, cancelled, skipped, or a state (waiting, pending,
	// held, queued).
	Jobs map[string]string `yaml:"jobs"`
	// Earlier are jobs of runs an earlier event (by name) started: only
	// those listed.
	Earlier map[string]map[string]string `yaml:"earlier"`
	// Outputs are a step's outputs, "job name/step id" → output → value
	// (/regexp/ matches).
	Outputs map[string]map[string]string `yaml:"outputs"`
	// Comments are a pull request's comments (every one, in order): text
	// each must contain. Pull requests are named by the number the
	// scenario gave them (GitHub numbers them after the issues before).
	Comments map[int][]Text `yaml:"comments"`
	// Deployments are every deployment of the repository so far, oldest
	// first, with its last status.
	Deployments *[]DeploymentExpect `yaml:"deployments"`
	// State is the state branch: "working-directory:environment" (arena.yaml)
	// → present or absent.
	State map[string]string `yaml:"state"`
	// Cloud is what the providers' stand-ins hold: path → text it contains,
	// or "absent".
	Cloud map[string]string `yaml:"cloud"`
	// Issues are the repository's issues (not pull requests), exactly.
	Issues *[]IssueExpect `yaml:"issues"`
	// Log is text a job's log holds: job name → texts.
	Log map[string][]string `yaml:"log"`
	// Refused is the start of the error a dispatch is refused with.
	Refused string `yaml:"refused"`
}

// Text is what a text must and must not contain.
type Text struct {
	Contains    []string `yaml:"contains"`
	NotContains []string `yaml:"not-contains"`
}

// DeploymentExpect is one deployment: its environment and last status.
type DeploymentExpect struct {
	Environment string `yaml:"environment"`
	State       string `yaml:"state"`
	URL         string `yaml:"url"` // text its environment_url contains
}

// IssueExpect is one issue.
type IssueExpect struct {
	State  string   `yaml:"state"`
	Labels []string `yaml:"labels"`
	Title  string   `yaml:"title"` // text the title contains
	Body   []string `yaml:"body"`  // texts the body contains
}

// WorkflowSource reads a workflow a scenario names: a file of this
// repository (examples/drift.yml), or the Nth ```yaml block holding jobs:
// of a Markdown file (docs/targets.md#1), as a user would paste it. It
// returns the file name it is installed under in .github/workflows/.
func WorkflowSource(root, name string) (string, []byte, error) {
	file, nth, block := strings.Cut(name, "#")
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
	if err != nil || !block {
		return path.Base(file), b, err
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```ya?ml\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if regexp.MustCompile(`(?m)^jobs:`).MatchString(m[1]) {
			blocks = append(blocks, m[1])
		}
	}
	var n int
	if _, err := fmt.Sscan(nth, &n); err != nil || n < 1 || n > len(blocks) {
		return "", nil, fmt.Errorf("%s: %s has %d workflows (```yaml blocks holding jobs:)", name, file, len(blocks))
	}
	stem := strings.TrimSuffix(path.Base(file), path.Ext(file))
	return fmt.Sprintf("%s-%d.yml", stem, n), []byte(blocks[n-1]), nil
}

// LoadScenario reads a scenario file.
func LoadScenario(file string) (*Scenario, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var s Scenario
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &s, nil
}

// Play runs a scenario on a new harness: root is this repository.
func (s *Scenario) Play(t *testing.T, root string, action *Action) *Harness {
	t.Helper()
	h := New(t, action)
	for k, v := range s.Secrets {
		h.Secrets[k] = v
	}
	for k, v := range s.Vars {
		h.Vars[k] = v
	}
	for name, e := range s.Environments {
		h.Environments[name] = &Environment{Reviewers: e.Reviewers, Secrets: e.Secrets, Vars: e.Vars}
	}
	h.Permissive = s.Permissive
	for _, rs := range s.Rulesets {
		h.GH.AddRuleset(rs)
	}
	omnia := s.Omnia
	if len(omnia) == 0 {
		omnia = []string{"1.4.0"}
	}
	h.ReleaseOmnia(root, omnia...)

	files := Files{}
	for _, item := range s.Repository {
		if item.Project != "" {
			into := item.Into
			if into == "" {
				into = "."
			}
			proj := readTree(t, filepath.Join(root, "internal", "workflowtest", "testdata", "projects", item.Project))
			edited := editFiles(t, proj, item.Edit)
			for p, b := range edited {
				files[path.Clean(path.Join(into, p))] = b
			}
		}
		for p, c := range item.Files {
			files[p] = []byte(c)
		}
	}
	for _, wf := range s.Workflows {
		name, b, err := WorkflowSource(root, wf)
		if err != nil {
			t.Fatal(err)
		}
		files[".github/workflows/"+name] = b
		s.installed = append(s.installed, name)
	}
	// {{cloud}} in a file is the providers' stand-ins' directory: a
	// reference adapter's absolute target_dir outlives the job's workspace.
	for p, b := range files {
		files[p] = []byte(strings.ReplaceAll(string(b), "{{cloud}}", h.Cloud))
	}
	for name, text := range s.workflowText {
		files[".github/workflows/"+name] = []byte(text)
	}
	h.Seed(files)

	byName := map[string][]*Run{}
	for i, ev := range s.Events {
		label := ev.Name
		if label == "" {
			label = fmt.Sprintf("event %d", i+1)
		}
		t.Logf("event %d: %s", i+1, label)
		logs := len(h.logs)
		runs, refused := s.fire(t, h, ev)
		for _, r := range runs {
			r.Label = label
		}
		byName[label] = runs
		failed := ev.Expect.check(t, h, label, runs, refused, byName)
		if failed {
			for _, l := range h.logs[logs:] {
				t.Log(l)
			}
			t.FailNow()
		}
	}
	for _, problem := range LeastPrivilege(h, s.Unused) {
		t.Error(problem)
	}
	return h
}

func (s *Scenario) fire(t *testing.T, h *Harness, ev ScenarioEvent) ([]*Run, error) {
	n := 0
	count := func(set bool) {
		if set {
			n++
		}
	}
	count(ev.PullRequest != 0)
	count(ev.Push != "")
	count(ev.Merge != 0)
	count(ev.Close != 0)
	count(ev.Dispatch != nil)
	count(ev.Schedule != nil)
	count(ev.Approve != "")
	count(ev.Reject != "")
	count(ev.Hold != "")
	count(ev.Release != "")
	count(ev.Advance != "")
	count(len(ev.Cloud) > 0)
	if n != 1 {
		t.Fatalf("event %q: want exactly one of pull_request, push, merge, close, dispatch, schedule, approve, reject, hold, release, advance, cloud; got %d", ev.Name, n)
	}
	change := func(base Files) Files {
		edited := editFiles(t, base, ev.Change)
		c, _ := diff(base, edited)
		return c
	}
	before := len(h.runs)
	newRuns := func() []*Run { return h.runs[before:] }
	switch {
	case ev.PullRequest != 0:
		if ps, open := h.pulls[ev.PullRequest]; open {
			h.PushToPull(ev.PullRequest, change(h.Tree(h.GH.Head(ps.branch))))
		} else {
			h.OpenPull(ev.PullRequest, change(h.Tree(h.GH.Head("main"))), PullOptions{Fork: ev.Fork})
		}
	case ev.Push != "":
		h.Push(change(h.Tree(h.GH.Head("main"))), ev.Push)
	case ev.Merge != 0:
		h.Merge(ev.Merge)
	case ev.Close != 0:
		h.ClosePull(ev.Close)
	case ev.Dispatch != nil:
		wf := ev.Dispatch.Workflow
		if wf == "" && len(s.installed) == 1 {
			wf = s.installed[0]
		}
		if _, err := h.Dispatch(wf, ev.Dispatch.Inputs); err != nil {
			return nil, err
		}
	case ev.Schedule != nil:
		h.Schedule(*ev.Schedule)
	case ev.Approve != "":
		if h.Approve(ev.Approve) == 0 {
			t.Fatalf("approve %s: no job waits for it", ev.Approve)
		}
	case ev.Reject != "":
		if h.Reject(ev.Reject) == 0 {
			t.Fatalf("reject %s: no job waits for it", ev.Reject)
		}
	case ev.Hold != "":
		h.Hold(ev.Hold)
	case ev.Release != "":
		h.Release(ev.Release)
	case ev.Advance != "":
		d, err := time.ParseDuration(ev.Advance)
		if err != nil {
			t.Fatalf("advance: %v", err)
		}
		h.GH.Advance(d)
	case len(ev.Cloud) > 0:
		cloud := readTree(t, h.Cloud)
		for p, b := range editFiles(t, cloud, ev.Cloud) {
			if string(cloud[p]) != string(b) {
				if err := os.WriteFile(filepath.Join(h.Cloud, filepath.FromSlash(p)), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		for p := range cloud {
			if _, kept := editFiles(t, cloud, ev.Cloud)[p]; !kept {
				_ = os.Remove(filepath.Join(h.Cloud, filepath.FromSlash(p)))
			}
		}
	}
	return newRuns(), nil
}

func readTree(t *testing.T, dir string) Files {
	files := Files{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func editFiles(t *testing.T, base Files, edits []Edit) Files {
	out := apply(base, nil)
	for _, e := range edits {
		switch {
		case e.Delete:
			if _, ok := out[e.File]; !ok {
				t.Fatalf("edit: delete %s: no such file", e.File)
			}
			delete(out, e.File)
		case e.Content != nil:
			out[e.File] = []byte(*e.Content)
		case e.Replace != "":
			b, ok := out[e.File]
			if !ok || !strings.Contains(string(b), e.Replace) {
				t.Fatalf("edit: %s does not contain %q", e.File, e.Replace)
			}
			out[e.File] = []byte(strings.ReplaceAll(string(b), e.Replace, e.With))
		default:
			t.Fatalf("edit of %s: want replace, content or delete", e.File)
		}
	}
	return out
}

// check reports every expectation that does not hold; true if any.
func (x Expect) check(t *testing.T, h *Harness, label string, runs []*Run, refused error, byName map[string][]*Run) bool {
	t.Helper()
	failed := false
	errorf := func(format string, args ...any) {
		t.Helper()
		failed = true
		t.Errorf("after %q: %s", label, fmt.Sprintf(format, args...))
	}
	if refused != nil || x.Refused != "" {
		switch {
		case refused == nil:
			errorf("the dispatch was accepted; want it refused with %q", x.Refused)
		case x.Refused == "" || !strings.Contains(refused.Error(), x.Refused):
			errorf("the dispatch was refused: %v (want %q)", refused, x.Refused)
		}
	}
	jobsOf := func(rs []*Run) map[string]*JobRun {
		out := map[string]*JobRun{}
		for _, r := range rs {
			for _, j := range r.Jobs {
				out[j.Name] = j
			}
		}
		return out
	}
	state := func(j *JobRun) string {
		if j.Status == Completed {
			return j.Conclusion
		}
		return j.Status
	}
	if x.Jobs != nil {
		got := jobsOf(runs)
		var gotList []string
		for name, j := range got {
			gotList = append(gotList, name+": "+state(j))
		}
		sort.Strings(gotList)
		for name, want := range x.Jobs {
			j, ok := got[name]
			switch {
			case !ok:
				errorf("no job %q; the event's jobs: %v", name, gotList)
			case state(j) != want:
				errorf("job %q is %s, want %s", name, state(j), want)
			}
		}
		for name := range got {
			if _, ok := x.Jobs[name]; !ok {
				errorf("job %q (%s) ran and is not expected; list every job of the event", name, state(got[name]))
			}
		}
	}
	for ev, jobs := range x.Earlier {
		rs, ok := byName[ev]
		if !ok {
			errorf("earlier: no event named %q", ev)
			continue
		}
		got := jobsOf(rs)
		for name, want := range jobs {
			if j, ok := got[name]; !ok || state(j) != want {
				st := "missing"
				if ok {
					st = state(j)
				}
				errorf("earlier %q: job %q is %s, want %s", ev, name, st, want)
			}
		}
	}
	all := map[string]*JobRun{}
	for _, r := range h.runs {
		for _, j := range r.Jobs {
			all[j.Name] = j // the newest of each name
		}
	}
	for key, want := range x.Outputs {
		i := strings.LastIndex(key, "/")
		if i < 0 {
			errorf("outputs key %q: want \"job name/step id\"", key)
			continue
		}
		jobName, stepID := key[:i], key[i+1:]
		j := jobsOf(runs)[jobName]
		if j == nil {
			j = all[jobName]
		}
		if j == nil {
			errorf("outputs: no job %q", jobName)
			continue
		}
		var step *StepRun
		for _, s := range j.Steps {
			if s.ID == stepID {
				step = s
			}
		}
		if step == nil {
			errorf("outputs: job %q has no step %q", jobName, stepID)
			continue
		}
		for k, v := range want {
			if !matchValue(v, step.Outputs[k]) {
				errorf("%s output %s = %q, want %q", key, k, step.Outputs[k], v)
			}
		}
	}
	for pr, want := range x.Comments {
		got := h.GH.Comments(h.PullNumber(pr))
		if len(got) != len(want) {
			var heads []string
			for _, c := range got {
				heads = append(heads, firstLines(c.Body, 2))
			}
			errorf("pull request #%d has %d comments, want %d: %q", pr, len(got), len(want), heads)
			continue
		}
		for i, w := range want {
			checkText(errorf, fmt.Sprintf("comment %d of #%d", i+1, pr), got[i].Body, w)
		}
	}
	if x.Deployments != nil {
		got := h.GH.Deployments()
		var desc []string
		for _, d := range got {
			last := ""
			if len(d.Statuses) > 0 {
				last = d.Statuses[len(d.Statuses)-1].State
			}
			desc = append(desc, d.Environment+":"+last)
		}
		if len(got) != len(*x.Deployments) {
			errorf("%d deployments (%v), want %d", len(got), desc, len(*x.Deployments))
		} else {
			for i, w := range *x.Deployments {
				d := got[i]
				var last ghemu.DeploymentStatus
				if len(d.Statuses) > 0 {
					last = d.Statuses[len(d.Statuses)-1]
				}
				if d.Environment != w.Environment || last.State != w.State || !strings.Contains(last.EnvironmentURL, w.URL) {
					errorf("deployment %d is %s %s (url %q), want %s %s (url containing %q)", i+1, d.Environment, last.State, last.EnvironmentURL, w.Environment, w.State, w.URL)
				}
			}
		}
	}
	for key, want := range x.State {
		dir, env, ok := strings.Cut(key, ":")
		if !ok {
			errorf("state key %q: want working-directory:environment", key)
			continue
		}
		_, present := h.GH.GetFile("arena-deploy-state", target.New(dir, "arena.yaml", env).StateDir()+"/deploy.state")
		if got := map[bool]string{true: "present", false: "absent"}[present]; got != want {
			errorf("the state of %s is %s on the state branch, want %s", key, got, want)
		}
	}
	for p, want := range x.Cloud {
		b, ok := h.CloudFile(p)
		switch {
		case want == "absent" && ok:
			errorf("the provider holds %s; want it absent", p)
		case want != "absent" && !ok:
			errorf("the provider does not hold %s", p)
		case want != "absent" && !strings.Contains(string(b), want):
			errorf("the provider's %s does not contain %q:\n%s", p, want, b)
		}
	}
	if x.Issues != nil {
		got := h.GH.Issues()
		if len(got) != len(*x.Issues) {
			var titles []string
			for _, i := range got {
				titles = append(titles, i.Title+" ("+i.State+")")
			}
			errorf("%d issues (%q), want %d", len(got), titles, len(*x.Issues))
		} else {
			for i, w := range *x.Issues {
				is := got[i]
				if w.State != "" && is.State != w.State {
					errorf("issue %d is %s, want %s", is.Number, is.State, w.State)
				}
				if !strings.Contains(is.Title, w.Title) {
					errorf("issue %d's title %q does not contain %q", is.Number, is.Title, w.Title)
				}
				for _, l := range w.Labels {
					if !contains(is.Labels, l) {
						errorf("issue %d lacks the label %s (%v)", is.Number, l, is.Labels)
					}
				}
				checkText(errorf, fmt.Sprintf("issue %d", is.Number), is.Body, Text{Contains: w.Body})
			}
		}
	}
	for name, texts := range x.Log {
		j := jobsOf(runs)[name]
		if j == nil {
			j = all[name]
		}
		if j == nil {
			errorf("log: no job %q", name)
			continue
		}
		checkText(errorf, "the log of "+name, j.Log.String(), Text{Contains: texts})
	}
	return failed
}

func checkText(errorf func(string, ...any), what, text string, want Text) {
	for _, c := range want.Contains {
		if !strings.Contains(text, c) {
			errorf("%s does not contain %q:\n%s", what, c, text)
		}
	}
	for _, c := range want.NotContains {
		if strings.Contains(text, c) {
			errorf("%s contains %q:\n%s", what, c, text)
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " / ")
}

// matchValue compares an output with what is expected: text, or a
// /regexp/.
func matchValue(want, got string) bool {
	if len(want) > 1 && strings.HasPrefix(want, "/") && strings.HasSuffix(want, "/") {
		return regexp.MustCompile(want[1 : len(want)-1]).MatchString(got)
	}
	return want == got
}

// LeastPrivilege proves least privilege over everything h ran: no request
// of a job was refused for want of a permission, and no permission a job
// was granted could be lowered with every request of every run of that job
// still allowed (scopes tried in name order, so of two that serve the same
// requests, such as issues and pull-requests for a comment, the first is
// reported), unless unused says why (job id → "scope: level" → reason).
// Requests are the action's and the stand-ins' (checkout reads contents).
// It returns the problems.
func LeastPrivilege(h *Harness, unused map[string]map[string]string) []string {
	var problems []string
	type key struct{ workflow, job string }
	granted := map[key]map[string]string{}
	requests := map[key][]ghemu.LoggedRequest{}
	var keys []key
	rank := map[string]int{"": 0, ghemu.Read: 1, ghemu.Write: 2}
	for _, r := range h.runs {
		for _, j := range r.Jobs {
			if j.token == "" {
				continue
			}
			k := key{r.Workflow.Path, j.Job.ID}
			if granted[k] == nil {
				granted[k] = map[string]string{}
				keys = append(keys, k)
			}
			for sc, lvl := range j.Perms {
				if rank[lvl] > rank[granted[k][sc]] {
					granted[k][sc] = lvl
				}
			}
			for _, req := range j.Requests {
				if req.Status == 403 || req.Status == 401 {
					problems = append(problems, fmt.Sprintf("%s job %s (%s): %s %s was refused %d: it needs %s: %s",
						r.Workflow.Path, j.Job.ID, j.Name, req.Method, req.Path, req.Status, strings.ReplaceAll(req.Scope, "_", "-"), req.Level))
					continue
				}
				requests[k] = append(requests[k], req)
			}
		}
	}
	allowed := func(perms map[string]string, reqs []ghemu.LoggedRequest) bool {
		for _, req := range reqs {
			ok := false
			for _, sc := range strings.Split(req.Scope, "|") {
				ok = ok || rank[perms[sc]] >= rank[req.Level]
			}
			if !ok {
				return false
			}
		}
		return true
	}
	lower := map[string]string{ghemu.Write: ghemu.Read, ghemu.Read: ""}
	for _, k := range keys {
		perms := map[string]string{}
		for sc, lvl := range granted[k] {
			perms[sc] = lvl
		}
		scopes := make([]string, 0, len(perms))
		for sc := range perms {
			scopes = append(scopes, sc)
		}
		sort.Strings(scopes)
		for _, sc := range scopes {
			if sc == "metadata" {
				continue
			}
			for perms[sc] != "" {
				trial := map[string]string{}
				for k, v := range perms {
					trial[k] = v
				}
				trial[sc] = lower[perms[sc]]
				if !allowed(trial, requests[k]) {
					break
				}
				perms[sc] = trial[sc]
			}
			if perms[sc] == granted[k][sc] {
				continue
			}
			name := strings.ReplaceAll(sc, "_", "-") + ": " + granted[k][sc]
			if why := unused[k.job][name]; why != "" {
				perms[sc] = granted[k][sc]
				continue
			}
			need := "none of it is needed"
			if perms[sc] != "" {
				need = "only " + perms[sc] + " is needed"
			}
			problems = append(problems, fmt.Sprintf("%s job %s is granted %s, and %s by any run of it in this scenario: least privilege (or say why in unused-permissions)",
				k.workflow, k.job, name, need))
		}
	}
	sort.Strings(problems)
	return problems
}
