package workflowtest

import (
	"fmt"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/ghexpr"
)

// Job and run states, as the Actions service names them.
const (
	Queued     = "queued"
	Pending    = "pending" // waiting for its concurrency group
	Waiting    = "waiting" // waiting for an environment's reviewers
	Held       = "held"    // started, its steps held back by the scenario (Hold)
	InProgress = "in_progress"
	Completed  = "completed"

	Success   = "success"
	Failure   = "failure"
	Cancelled = "cancelled"
	Skipped   = "skipped"
)

// Run is one workflow run.
type Run struct {
	ID       int64
	Workflow *Workflow
	Event    *Event
	GH       *ghemu.Run
	Jobs     []*JobRun // every leg started so far, in order
	Status   string
	// Conclusion is success, failure or cancelled once completed.
	Conclusion string
	Label      string // the scenario's name for it

	h         *Harness
	number    int
	jobs      []*jobState
	eventFile []byte
	group     string
	cancelled bool
}

type jobState struct {
	job      *Job
	expanded bool
	legs     []*JobRun
}

// JobRun is one job of a run: one leg of a matrix.
type JobRun struct {
	Run        *Run
	Job        *Job
	Name       string // as GitHub shows it: "plan (staging)"
	Matrix     map[string]any
	Status     string
	Conclusion string
	Outputs    map[string]string
	Steps      []*StepRun
	// Environment is the environment it ran in ("" for none), URL its url.
	Environment, URL string
	// Perms are its token's permissions; Requests what it asked the
	// emulator with that token.
	Perms    map[string]string
	Requests []ghemu.LoggedRequest
	Log      strings.Builder

	state        *jobState
	combo        *combo
	index, total int
	group        string
	cancelInProg bool
	grouped      bool // has its concurrency group (or has none)
	envDone      bool // its environment is known and its deployment recorded
	approved     bool
	deployment   int64
	token        string
}

// StepRun is one step's result.
type StepRun struct {
	ID, Name            string
	Outcome, Conclusion string
	Outputs             map[string]string
}

// group is a concurrency group: one holder, at most one pending.
type group struct {
	holder, pending any // *JobRun or *Run
}

func (h *Harness) start(wf *Workflow, ev *Event) *Run {
	r := &Run{Workflow: wf, Event: ev, Status: Queued, h: h}
	r.GH = h.GH.AddRun(ghemu.Run{Event: ev.Name, HeadSHA: ev.HeadSHA, HeadBranch: ev.HeadBranch})
	r.ID = r.GH.ID
	for _, other := range h.runs {
		if other.Workflow.Path == wf.Path {
			r.number++
		}
	}
	r.number++
	for _, j := range wf.Jobs {
		r.jobs = append(r.jobs, &jobState{job: j})
	}
	h.runs = append(h.runs, r)
	if wf.Concurrency != nil {
		env := h.exprEnv(r, nil, "github", "inputs", "vars")
		g, cancel, err := h.concurrency(wf.Concurrency, env)
		if err != nil {
			h.failRun(r, fmt.Sprintf("workflow concurrency: %v", err))
			return r
		}
		r.group = g
		if !h.acquire(g, r, cancel) {
			r.Status = Pending
			return r
		}
	}
	r.Status = InProgress
	return r
}

// failRun ends a run that cannot start (an invalid expression): GitHub
// shows it failed with the error.
func (h *Harness) failRun(r *Run, msg string) {
	h.logf("run %d (%s): %s", r.ID, r.Workflow.Path, msg)
	r.Status, r.Conclusion = Completed, Failure
	h.GH.CompleteRun(r.ID, Failure)
}

func (h *Harness) concurrency(c *Concurrency, env *ghexpr.Env) (string, bool, error) {
	g, err := ghexpr.Interpolate(c.Group, env)
	if err != nil {
		return "", false, err
	}
	v, err := ghexpr.Value(c.CancelInProgress, env)
	if err != nil {
		return "", false, err
	}
	return g, ghexpr.Truthy(v) && v != "false", nil
}

// acquire puts who (a job or a run) in group name: it holds the group when
// the group is free; with cancelInProgress it cancels the holder and the
// pending one and takes it; otherwise it becomes the pending one, and the
// one pending before is cancelled (GitHub keeps one).
func (h *Harness) acquire(name string, who any, cancelInProgress bool) bool {
	if name == "" {
		return true
	}
	key := strings.ToLower(name)
	g := h.groups[key]
	if g == nil {
		g = &group{}
		h.groups[key] = g
	}
	if g.holder == nil || g.holder == who {
		g.holder = who
		return true
	}
	if g.pending != nil && g.pending != who {
		h.cancel(g.pending, fmt.Sprintf("Canceling since a higher priority waiting request for '%s' exists", name))
	}
	if cancelInProgress {
		h.cancel(g.holder, fmt.Sprintf("Canceling since a higher priority waiting request for '%s' exists", name))
		g.holder, g.pending = who, nil
		return true
	}
	g.pending = who
	return false
}

// release frees the group who holds and hands it to the pending one.
func (h *Harness) release(name string, who any) {
	if name == "" {
		return
	}
	g := h.groups[strings.ToLower(name)]
	if g == nil {
		return
	}
	if g.pending == who {
		g.pending = nil
	}
	if g.holder == who {
		g.holder, g.pending = g.pending, nil
		switch next := g.holder.(type) {
		case *JobRun:
			next.Status, next.grouped = Queued, true
		case *Run:
			next.Status = InProgress
		}
	}
}

// cancel cancels a job or a whole run that has not completed.
func (h *Harness) cancel(who any, why string) {
	switch w := who.(type) {
	case *JobRun:
		if w.Status == Completed {
			return
		}
		w.logf("%s", why)
		h.finish(w, Cancelled)
	case *Run:
		if w.Status == Completed {
			return
		}
		w.cancelled = true
		h.logf("run %d: %s", w.ID, why)
		for _, js := range w.jobs {
			if !js.expanded {
				js.expanded = true
				leg := &JobRun{Run: w, Job: js.job, Name: displayName(js.job), state: js}
				js.legs = append(js.legs, leg)
				w.Jobs = append(w.Jobs, leg)
				leg.Status, leg.Conclusion = Completed, Cancelled
			}
			for _, leg := range js.legs {
				if leg.Status != Completed {
					w.h.finish(leg, Cancelled)
				}
			}
		}
		h.release(w.group, w)
		h.completeRun(w)
	}
}

// finish completes a leg: its group goes to the pending one, its
// deployment gets its last status, and fail-fast cancels its siblings.
func (h *Harness) finish(j *JobRun, conclusion string) {
	j.Status, j.Conclusion = Completed, conclusion
	if j.deployment != 0 {
		state := map[string]string{Success: "success", Failure: "failure", Cancelled: "inactive"}[conclusion]
		if state != "" {
			h.GH.RecordDeploymentStatus(j.deployment, state, j.logURL(), j.URL)
		}
	}
	h.release(j.group, j)
	if conclusion == Failure && j.combo != nil && failFast(j.Job) && !j.continueOnError() {
		for _, sib := range j.state.legs {
			if sib != j && sib.Status != Completed {
				h.cancel(sib, fmt.Sprintf("The strategy configuration was canceled because %q failed", j.Name))
			}
		}
	}
}

func failFast(j *Job) bool {
	return j.Strategy == nil || j.Strategy.FailFast == "" || strings.TrimSpace(j.Strategy.FailFast) == "true"
}

func (j *JobRun) continueOnError() bool {
	return strings.TrimSpace(j.Job.ContinueOnError) == "true"
}

func (j *JobRun) logURL() string {
	return fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", ghemu.DefaultOwner, ghemu.DefaultRepo, j.Run.ID)
}

func (j *JobRun) logf(format string, args ...any) {
	fmt.Fprintf(&j.Log, format+"\n", args...)
}

func displayName(j *Job) string {
	if j.Name != "" && !strings.Contains(j.Name, "${{") {
		return j.Name
	}
	return j.ID
}

// settle runs everything that can run, in order, until nothing can.
func (h *Harness) settle() {
	for progressed := true; progressed; {
		progressed = false
		for _, r := range h.runs {
			if r.Status != InProgress {
				continue
			}
			for _, js := range r.jobs {
				if !js.expanded && h.needsDone(r, js.job) {
					h.expandJob(r, js)
					progressed = true
				}
			}
			for _, leg := range r.Jobs {
				if leg.Status == Queued {
					h.admit(leg)
					progressed = true
				}
			}
			if h.completeRun(r) {
				progressed = true
			}
		}
	}
}

func (h *Harness) needsDone(r *Run, j *Job) bool {
	for _, n := range j.Needs {
		js := r.state(n)
		if !js.expanded {
			return false
		}
		for _, leg := range js.legs {
			if leg.Status != Completed {
				return false
			}
		}
	}
	return true
}

func (r *Run) state(id string) *jobState {
	for _, js := range r.jobs {
		if js.job.ID == id {
			return js
		}
	}
	return nil
}

// result is a job's result as needs.<id>.result says it: failure if a leg
// failed, cancelled if one was cancelled, skipped if it was skipped.
func (js *jobState) result() string {
	res := Success
	for _, leg := range js.legs {
		switch {
		case leg.Conclusion == Failure && !leg.continueOnError():
			return Failure
		case leg.Conclusion == Cancelled:
			res = Cancelled
		case leg.Conclusion == Skipped && res == Success:
			res = Skipped
		}
	}
	return res
}

// outputs are a job's outputs: every leg's, the last finished winning.
func (js *jobState) outputs() map[string]any {
	out := map[string]any{}
	for _, leg := range js.legs {
		for k, v := range leg.Outputs {
			out[k] = v
		}
	}
	return out
}

// expandJob evaluates a job whose needs are done: its if (skipped when
// false), then its matrix, making one queued leg per combination.
func (h *Harness) expandJob(r *Run, js *jobState) {
	js.expanded = true
	j := js.job
	needsFailed, needsOK := false, true
	for _, n := range j.Needs {
		switch r.state(n).result() {
		case Failure:
			needsFailed, needsOK = true, false
		case Success:
		default:
			needsOK = false
		}
	}
	env := h.exprEnv(r, nil, "github", "needs", "vars", "inputs")
	env.Status = func(name string) bool {
		switch name {
		case "success":
			return needsOK && !r.cancelled
		case "failure":
			return needsFailed
		case "cancelled":
			return r.cancelled
		}
		return true
	}
	add := func(leg *JobRun) {
		leg.Run, leg.Job, leg.state = r, j, js
		js.legs = append(js.legs, leg)
		r.Jobs = append(r.Jobs, leg)
	}
	ok, err := ghexpr.Condition(j.If, env)
	if err != nil {
		leg := &JobRun{Name: displayName(j)}
		add(leg)
		leg.logf("if: %v", err)
		h.finish(leg, Failure)
		return
	}
	if !ok {
		leg := &JobRun{Name: displayName(j), Status: Completed, Conclusion: Skipped}
		add(leg)
		return
	}
	if j.Strategy == nil || j.Strategy.Matrix == nil {
		add(&JobRun{Name: displayName(j), Status: Queued, total: 1})
		return
	}
	combos, err := expandMatrix(j.Strategy.Matrix, h.exprEnv(r, nil, "github", "needs", "vars", "inputs"))
	if err != nil {
		leg := &JobRun{Name: displayName(j)}
		add(leg)
		leg.logf("Error when evaluating 'strategy' for job '%s': %v", j.ID, err)
		h.finish(leg, Failure)
		return
	}
	for i := range combos {
		c := combos[i]
		leg := &JobRun{Status: Queued, combo: &c, Matrix: c.vals, index: i, total: len(combos)}
		add(leg)
		leg.Name = displayName(j) + " (" + c.name() + ")"
		if strings.Contains(j.Name, "${{") {
			if n, err := ghexpr.Interpolate(j.Name, h.exprEnv(r, leg, "github", "needs", "strategy", "matrix", "vars", "inputs")); err == nil {
				leg.Name = n
			}
		}
	}
}

// admit moves a queued leg on: into its concurrency group, past its
// environment's reviewers, then runs it unless the scenario holds it.
func (h *Harness) admit(j *JobRun) {
	if !j.grouped {
		j.grouped = true
		if j.Job.Concurrency != nil {
			env := h.exprEnv(j.Run, j, "github", "needs", "strategy", "matrix", "vars", "inputs")
			g, cancel, err := h.concurrency(j.Job.Concurrency, env)
			if err != nil {
				j.logf("concurrency: %v", err)
				h.finish(j, Failure)
				return
			}
			j.group, j.cancelInProg = g, cancel
			if !h.acquire(g, j, cancel) {
				j.Status = Pending
				return
			}
		}
	}
	if !j.envDone {
		j.envDone = true
		if j.Job.Environment != nil {
			env := h.exprEnv(j.Run, j, "github", "needs", "strategy", "matrix", "vars", "inputs")
			name, err := ghexpr.Interpolate(j.Job.Environment.Name, env)
			if err != nil {
				j.logf("environment: %v", err)
				h.finish(j, Failure)
				return
			}
			j.Environment = name
		}
		if j.Environment != "" {
			if h.Environments[j.Environment] == nil {
				h.Environments[j.Environment] = &Environment{}
			}
			j.deployment = h.GH.RecordDeployment(j.Run.Event.Ref, j.Run.Event.SHA, j.Environment)
			if h.Environments[j.Environment].Reviewers {
				h.GH.RecordDeploymentStatus(j.deployment, "waiting", j.logURL(), "")
			}
		}
	}
	if j.Environment != "" && h.Environments[j.Environment].Reviewers && !j.approved {
		j.Status = Waiting
		return
	}
	if h.held(j) {
		j.Status = Held
		return
	}
	h.execute(j)
}

func (h *Harness) held(j *JobRun) bool {
	for _, p := range h.holds {
		if matchJob(p, j) {
			return true
		}
	}
	return false
}

// Hold makes jobs matching selector (see matchJob) stop before their steps
// when they start, holding their concurrency group, until Release.
func (h *Harness) Hold(selector string) { h.holds = append(h.holds, selector) }

// Release lets held jobs matching selector run, then runs what can run.
func (h *Harness) Release(selector string) {
	kept := h.holds[:0]
	for _, p := range h.holds {
		if p != selector {
			kept = append(kept, p)
		}
	}
	h.holds = kept
	for _, r := range h.runs {
		for _, j := range r.Jobs {
			if j.Status == Held && matchJob(selector, j) {
				j.Status = Queued
			}
		}
	}
	h.settle()
}

// Approve approves every job waiting for environment's reviewers, then
// runs what can run; it returns how many it approved.
func (h *Harness) Approve(environment string) int {
	n := h.review(environment, true)
	h.settle()
	return n
}

// Reject rejects them: they fail without running.
func (h *Harness) Reject(environment string) int {
	n := h.review(environment, false)
	h.settle()
	return n
}

func (h *Harness) review(environment string, approve bool) int {
	n := 0
	for _, r := range h.runs {
		for _, j := range r.Jobs {
			if j.Status != Waiting || j.Environment != environment {
				continue
			}
			n++
			if approve {
				j.approved, j.Status = true, Queued
			} else {
				j.logf("The deployment was rejected or didn't satisfy other protection rules.")
				h.finish(j, Failure)
			}
		}
	}
	return n
}

// completeRun completes a run whose jobs are all done.
func (h *Harness) completeRun(r *Run) bool {
	if r.Status == Completed {
		return false
	}
	for _, js := range r.jobs {
		if !js.expanded {
			return false
		}
		for _, leg := range js.legs {
			if leg.Status != Completed {
				return false
			}
		}
	}
	r.Status, r.Conclusion = Completed, Success
	for _, js := range r.jobs {
		switch js.result() {
		case Failure:
			r.Conclusion = Failure
		case Cancelled:
			if r.Conclusion != Failure {
				r.Conclusion = Cancelled
			}
		}
	}
	if r.cancelled && r.Conclusion != Failure {
		r.Conclusion = Cancelled
	}
	h.release(r.group, r)
	h.GH.CompleteRun(r.ID, r.Conclusion)
	return true
}

// matchJob says whether selector names j: "job" (every leg of job id or
// name), "job (a, b)" (a leg's name), or "job[key=value,...]" (legs whose
// matrix has those values).
func matchJob(selector string, j *JobRun) bool {
	sel := strings.TrimSpace(selector)
	if strings.EqualFold(sel, j.Name) {
		return true
	}
	base, filter, hasFilter := strings.Cut(sel, "[")
	base = strings.TrimSpace(base)
	if base != j.Job.ID && base != displayName(j.Job) {
		return false
	}
	if !hasFilter {
		return true
	}
	for _, kv := range strings.Split(strings.TrimSuffix(filter, "]"), ",") {
		k, v, _ := strings.Cut(kv, "=")
		if scalarString(j.Matrix[strings.TrimSpace(k)]) != strings.TrimSpace(v) {
			return false
		}
	}
	return true
}

func (h *Harness) logf(format string, args ...any) {
	h.logs = append(h.logs, fmt.Sprintf(format, args...))
}
