package workflowtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/ghexpr"
)

// jobRun is a leg while it runs: what the runner keeps between steps.
type jobRun struct {
	*JobRun
	h       *Harness
	dirs    jobDirs
	secrets map[string]string
	env     map[string]string // workflow, job and GITHUB_ENV variables
	path    []string          // GITHUB_PATH entries, newest first
	steps   map[string]any
	status  string // success or failure so far
	stepN   int
}

// exprEnv is the contexts named, as they are for leg j of run r (nil: at
// the run's level, before any leg).
func (h *Harness) exprEnv(r *Run, j *JobRun, names ...string) *ghexpr.Env {
	return h.exprEnvOf(r, j, nil, names...)
}

func (h *Harness) exprEnvOf(r *Run, j *JobRun, jr *jobRun, names ...string) *ghexpr.Env {
	ctx := map[string]any{}
	for _, n := range names {
		switch n {
		case "github":
			ctx[n] = h.githubContext(r, j, jr)
		case "inputs":
			in := map[string]any{}
			for k, v := range r.Event.Inputs {
				in[k] = v
			}
			ctx[n] = in
		case "vars":
			vars := map[string]any{}
			for k, v := range h.Vars {
				vars[k] = v
			}
			if j != nil && j.Environment != "" && h.Environments[j.Environment] != nil {
				for k, v := range h.Environments[j.Environment].Vars {
					vars[k] = v
				}
			}
			ctx[n] = vars
		case "needs":
			needs := map[string]any{}
			var job *Job
			if j != nil {
				job = j.Job
			}
			for _, js := range r.jobs {
				if job != nil && !contains(job.Needs, js.job.ID) {
					continue
				}
				if job == nil && !js.expanded {
					continue
				}
				needs[js.job.ID] = map[string]any{"result": js.result(), "outputs": js.outputs()}
			}
			ctx[n] = needs
		case "strategy":
			st := map[string]any{"fail-fast": true, "job-index": 0.0, "job-total": 1.0, "max-parallel": 1.0}
			if j != nil {
				st["fail-fast"] = failFast(j.Job)
				st["job-index"], st["job-total"], st["max-parallel"] = float64(j.index), float64(j.total), float64(j.total)
			}
			ctx[n] = st
		case "matrix":
			m := map[string]any{}
			if j != nil {
				for k, v := range j.Matrix {
					m[k] = v
				}
			}
			ctx[n] = m
		case "secrets":
			s := map[string]any{}
			if jr != nil {
				for k, v := range jr.secrets {
					s[k] = v
				}
			}
			ctx[n] = s
		case "env":
			e := map[string]any{}
			if jr != nil {
				for k, v := range jr.env {
					e[k] = v
				}
			}
			ctx[n] = e
		case "steps":
			if jr != nil {
				ctx[n] = jr.steps
			} else {
				ctx[n] = map[string]any{}
			}
		case "job":
			status := Success
			if jr != nil {
				status = jr.status
			}
			ctx[n] = map[string]any{"status": status, "container": map[string]any{}, "services": map[string]any{}}
		case "runner":
			temp := ""
			if jr != nil {
				temp = jr.dirs.temp
			}
			ctx[n] = map[string]any{"os": "Linux", "arch": "X64", "name": "GitHub Actions 1", "environment": "github-hosted",
				"temp": temp, "tool_cache": "/opt/hostedtoolcache", "debug": ""}
		}
	}
	env := &ghexpr.Env{Contexts: ctx}
	if jr != nil && contains(names, "hashfiles") {
		env.HashFiles = jr.hashFiles
	}
	return env
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// githubContext is the github context of a run, and of a leg's job.
func (h *Harness) githubContext(r *Run, j *JobRun, jr *jobRun) map[string]any {
	ev := r.Event
	var event any = ev.Payload
	b, _ := json.Marshal(ev.Payload) // a copy, numbers as expressions see them
	_ = json.Unmarshal(b, &event)
	refName := ev.Ref
	for _, p := range []string{"refs/heads/", "refs/tags/", "refs/pull/"} {
		refName = strings.TrimPrefix(refName, p) // a pull request's is "7/merge"
	}
	g := map[string]any{
		"event_name": ev.Name, "event": event, "sha": ev.SHA, "ref": ev.Ref, "ref_name": refName, "ref_type": "branch",
		"repository": ghemu.DefaultOwner + "/" + ghemu.DefaultRepo, "repository_owner": ghemu.DefaultOwner,
		"run_id": fmt.Sprint(r.ID), "run_number": fmt.Sprint(r.number), "run_attempt": "1",
		"actor": ev.Actor, "triggering_actor": ev.Actor, "workflow": workflowName(r.Workflow),
		"workflow_ref": fmt.Sprintf("%s/%s/%s@%s", ghemu.DefaultOwner, ghemu.DefaultRepo, r.Workflow.Path, ev.Ref),
		"server_url":   "https://github.com", "api_url": h.GH.URL, "graphql_url": h.GH.URL + "/graphql",
		"retention_days": "90", "secret_source": "Actions", "head_ref": "", "base_ref": "", "action": "", "job": "",
		"token": "", "workspace": "", "event_path": "",
	}
	if ev.Name == "pull_request" {
		g["head_ref"], g["base_ref"] = ev.HeadBranch, "main"
	}
	if ev.Fork {
		g["secret_source"] = "None"
	}
	if j != nil {
		g["job"] = j.Job.ID
	}
	if jr != nil {
		g["token"], g["workspace"] = jr.token, jr.dirs.workspace
		g["event_path"] = filepath.Join(jr.dirs.workflow, "event.json")
	}
	return g
}

func workflowName(wf *Workflow) string {
	if wf.Name != "" {
		return wf.Name
	}
	return wf.Path
}

// permissionsFor is the job token's permissions: the job's block, else the
// workflow's, else the repository's default; unlisted scopes are none;
// metadata is always read; a fork's pull request gets read at most.
func (h *Harness) permissionsFor(r *Run, j *Job) map[string]string {
	p := j.Permissions
	if p == nil {
		p = r.Workflow.Permissions
	}
	out := map[string]string{}
	scopes := []string{"actions", "attestations", "checks", "contents", "deployments", "discussions", "issues", "packages",
		"pages", "pull_requests", "repository_projects", "security_events", "statuses"}
	switch {
	case p == nil && h.Permissive:
		for _, s := range scopes {
			out[s] = ghemu.Write
		}
	case p == nil:
		out["contents"], out["packages"] = ghemu.Read, ghemu.Read
	case p.All == "read-all":
		for _, s := range scopes {
			out[s] = ghemu.Read
		}
	case p.All == "write-all":
		for _, s := range scopes {
			out[s] = ghemu.Write
		}
		out["id_token"] = ghemu.Write
	default:
		for k, v := range p.Scopes {
			if v == "none" {
				continue
			}
			out[strings.ReplaceAll(k, "-", "_")] = v
		}
	}
	if r.Event.Fork {
		for k, v := range out {
			if v == ghemu.Write {
				out[k] = ghemu.Read
			}
		}
		delete(out, "id_token")
	}
	out["metadata"] = ghemu.Read
	return out
}

// execute runs a leg's steps on a fresh runner.
func (h *Harness) execute(j *JobRun) {
	h.jobSeq++
	j.Status = InProgress
	jr := &jobRun{JobRun: j, h: h, dirs: h.newJobDirs(h.jobSeq), env: map[string]string{}, steps: map[string]any{}, status: Success}
	j.Perms = h.permissionsFor(j.Run, j.Job)
	j.token = fmt.Sprintf("ghs_job%04d_%s", h.jobSeq, strings.Repeat("x", 20))
	h.GH.AddToken(j.token, ghemu.BotLogin, j.Perms)
	jr.secrets = map[string]string{"GITHUB_TOKEN": j.token}
	if !j.Run.Event.Fork {
		for k, v := range h.Secrets {
			jr.secrets[k] = v
		}
		if e := h.Environments[j.Environment]; j.Environment != "" && e != nil {
			for k, v := range e.Secrets {
				jr.secrets[k] = v
			}
		}
	}
	if err := os.WriteFile(filepath.Join(jr.dirs.workflow, "event.json"), mustJSON(j.Run.Event.Payload), 0o644); err != nil {
		h.T.Fatal(err)
	}
	logStart := len(h.GH.Requests())
	if j.deployment != 0 {
		h.GH.RecordDeploymentStatus(j.deployment, "in_progress", j.logURL(), "")
	}
	j.logf("== %s (run %d, %s)", j.Name, j.Run.ID, j.Run.Event.Name)
	conclusion := jr.run()
	for _, req := range h.GH.Requests()[logStart:] {
		if req.Token == j.token {
			j.Requests = append(j.Requests, req)
		}
	}
	h.logs = append(h.logs, j.Log.String())
	h.finish(j, conclusion)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// run runs the steps and evaluates the job's outputs and environment url.
func (jr *jobRun) run() string {
	h := jr.h
	wfEnv := h.exprEnvOf(jr.Run, jr.JobRun, jr, "github", "secrets", "inputs", "vars")
	for k, v := range jr.Run.Workflow.Env {
		s, err := ghexpr.Interpolate(v, wfEnv)
		if err != nil {
			jr.logf("env.%s: %v", k, err)
			return Failure
		}
		jr.env[k] = s
	}
	jobEnv := h.exprEnvOf(jr.Run, jr.JobRun, jr, "github", "needs", "strategy", "matrix", "vars", "secrets", "inputs")
	for k, v := range jr.Job.Env {
		s, err := ghexpr.Interpolate(v, jobEnv)
		if err != nil {
			jr.logf("jobs.%s.env.%s: %v", jr.Job.ID, k, err)
			return Failure
		}
		jr.env[k] = s
	}
	for i, st := range jr.Job.Steps {
		jr.step(i, st)
	}
	full := []string{"github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs"}
	jr.Outputs = map[string]string{}
	for k, v := range jr.Job.Outputs {
		s, err := ghexpr.Interpolate(v, h.exprEnvOf(jr.Run, jr.JobRun, jr, full...))
		if err != nil {
			jr.logf("outputs.%s: %v", k, err)
			jr.status = Failure
			continue
		}
		jr.Outputs[k] = s
	}
	if jr.Job.Environment != nil && jr.Job.Environment.URL != "" {
		u, err := ghexpr.Interpolate(jr.Job.Environment.URL, h.exprEnvOf(jr.Run, jr.JobRun, jr,
			"github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "steps", "inputs"))
		if err != nil {
			jr.logf("environment.url: %v", err)
			jr.status = Failure
		}
		jr.URL = u
	}
	return jr.status
}

// step runs one step: its if, then its action or script.
func (jr *jobRun) step(i int, st *Step) {
	h := jr.h
	res := &StepRun{ID: st.ID, Name: st.Name, Outputs: map[string]string{}}
	if res.ID == "" {
		res.ID = fmt.Sprintf("__step%d", i+1)
	}
	jr.Steps = append(jr.Steps, res)
	record := func() {
		outs := map[string]any{}
		for k, v := range res.Outputs {
			outs[k] = v
		}
		jr.steps[res.ID] = map[string]any{"outputs": outs, "outcome": res.Outcome, "conclusion": res.Conclusion}
	}
	cond := h.exprEnvOf(jr.Run, jr.JobRun, jr, "github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "steps", "inputs", "hashfiles")
	cond.Status = func(name string) bool {
		switch name {
		case "success":
			return jr.status == Success
		case "failure":
			return jr.status == Failure
		case "cancelled":
			return false
		}
		return true
	}
	ok, err := ghexpr.Condition(st.If, cond)
	if err != nil {
		jr.logf("step %d if: %v", i+1, err)
		res.Outcome, res.Conclusion = Failure, Failure
		jr.status = Failure
		record()
		return
	}
	if !ok {
		res.Outcome, res.Conclusion = Skipped, Skipped
		record()
		return
	}
	full := h.exprEnvOf(jr.Run, jr.JobRun, jr, "github", "needs", "strategy", "matrix", "job", "runner", "env", "vars", "secrets", "steps", "inputs", "hashfiles")
	stepEnv := map[string]string{}
	for k, v := range jr.env {
		stepEnv[k] = v
	}
	err = func() error {
		for k, v := range st.Env {
			s, err := ghexpr.Interpolate(v, full)
			if err != nil {
				return fmt.Errorf("env.%s: %w", k, err)
			}
			stepEnv[k] = s
		}
		full.Contexts["env"] = toAny(stepEnv)
		if st.Uses != "" {
			return jr.uses(st, full, stepEnv, res)
		}
		return jr.script(st, full, stepEnv, res)
	}()
	res.Outcome = Success
	if err != nil {
		res.Outcome = Failure
		jr.logf("step %s failed: %v", stepLabel(st, i), err)
	}
	res.Conclusion = res.Outcome
	if res.Outcome == Failure {
		coe, _ := ghexpr.Value(st.ContinueOnError, full)
		if ghexpr.Truthy(coe) && coe != "false" {
			res.Conclusion = Success
		} else {
			jr.status = Failure
		}
	}
	record()
}

func stepLabel(st *Step, i int) string {
	switch {
	case st.Name != "":
		return fmt.Sprintf("%d %q", i+1, st.Name)
	case st.Uses != "":
		return fmt.Sprintf("%d (%s)", i+1, st.Uses)
	}
	return fmt.Sprintf("%d (run)", i+1)
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// stepFiles are one step's file commands, fresh for each step as the
// runner makes them.
type stepFiles struct {
	output, env, path, summary, state string
}

func (jr *jobRun) newStepFiles() stepFiles {
	jr.stepN++
	n := jr.stepN
	f := stepFiles{
		output:  filepath.Join(jr.dirs.files, fmt.Sprintf("set_output_%d", n)),
		env:     filepath.Join(jr.dirs.files, fmt.Sprintf("set_env_%d", n)),
		path:    filepath.Join(jr.dirs.files, fmt.Sprintf("add_path_%d", n)),
		summary: filepath.Join(jr.dirs.files, fmt.Sprintf("step_summary_%d", n)),
		state:   filepath.Join(jr.dirs.files, fmt.Sprintf("save_state_%d", n)),
	}
	for _, p := range []string{f.output, f.env, f.path, f.summary, f.state} {
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			jr.h.T.Fatal(err)
		}
	}
	return f
}

// runnerEnv is what the runner sets for every step: GitHub's default
// variables, the file commands and the runtime service for artifacts.
func (jr *jobRun) runnerEnv(f stepFiles, action string) map[string]string {
	r := jr.Run
	g := jr.h.githubContext(r, jr.JobRun, jr)
	env := map[string]string{
		"CI": "true", "GITHUB_ACTIONS": "true", "HOME": jr.dirs.home,
		"GITHUB_WORKFLOW": workflowName(r.Workflow), "GITHUB_WORKFLOW_REF": g["workflow_ref"].(string),
		"GITHUB_RUN_ID": fmt.Sprint(r.ID), "GITHUB_RUN_NUMBER": fmt.Sprint(r.number), "GITHUB_RUN_ATTEMPT": "1",
		"GITHUB_JOB": jr.Job.ID, "GITHUB_ACTION": action, "GITHUB_ACTOR": r.Event.Actor, "GITHUB_TRIGGERING_ACTOR": r.Event.Actor,
		"GITHUB_REPOSITORY": ghemu.DefaultOwner + "/" + ghemu.DefaultRepo, "GITHUB_REPOSITORY_OWNER": ghemu.DefaultOwner,
		"GITHUB_EVENT_NAME": r.Event.Name, "GITHUB_EVENT_PATH": filepath.Join(jr.dirs.workflow, "event.json"),
		"GITHUB_WORKSPACE": jr.dirs.workspace, "GITHUB_SHA": r.Event.SHA, "GITHUB_REF": r.Event.Ref,
		"GITHUB_REF_NAME": g["ref_name"].(string), "GITHUB_REF_TYPE": "branch",
		"GITHUB_HEAD_REF": g["head_ref"].(string), "GITHUB_BASE_REF": g["base_ref"].(string),
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": jr.h.GH.URL, "GITHUB_GRAPHQL_URL": jr.h.GH.URL + "/graphql",
		"GITHUB_RETENTION_DAYS": "90",
		"GITHUB_OUTPUT":         f.output, "GITHUB_ENV": f.env, "GITHUB_PATH": f.path, "GITHUB_STEP_SUMMARY": f.summary, "GITHUB_STATE": f.state,
		"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_NAME": "GitHub Actions 1", "RUNNER_ENVIRONMENT": "github-hosted",
		"RUNNER_TEMP": jr.dirs.temp, "RUNNER_TOOL_CACHE": filepath.Join(jr.dirs.root, "toolcache"),
		"ACTIONS_RUNTIME_TOKEN": jr.h.GH.RuntimeToken(r.GH), "ACTIONS_RUNTIME_URL": jr.h.GH.URL + "/",
		"ACTIONS_RESULTS_URL": jr.h.GH.ResultsURL(), "ACTIONS_CACHE_URL": jr.h.GH.URL + "/",
	}
	if jr.Perms["id_token"] == ghemu.Write {
		env["ACTIONS_ID_TOKEN_REQUEST_URL"] = jr.h.GH.URL + "/_oidc?audience="
		env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "oidc-" + jr.token
	}
	return env
}

// afterStep reads a step's file commands: its outputs, variables for the
// next steps, PATH entries and summary.
func (jr *jobRun) afterStep(f stepFiles, res *StepRun) error {
	outs, err := readKeyValues(f.output)
	if err != nil {
		return fmt.Errorf("GITHUB_OUTPUT: %w", err)
	}
	for k, v := range outs {
		res.Outputs[k] = v
	}
	envs, err := readKeyValues(f.env)
	if err != nil {
		return fmt.Errorf("GITHUB_ENV: %w", err)
	}
	for k, v := range envs {
		jr.env[k] = v
	}
	b, _ := os.ReadFile(f.path)
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			jr.path = append([]string{line}, jr.path...)
		}
	}
	if s, _ := os.ReadFile(f.summary); len(s) > 0 {
		jr.logf("-- job summary:\n%s", s)
	}
	return nil
}

// readKeyValues reads GITHUB_OUTPUT and GITHUB_ENV: name=value lines and
// name<<DELIMITER blocks.
func readKeyValues(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if k, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(k, "=") {
			var lines []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				lines = append(lines, sc.Text())
			}
			if !closed {
				return nil, fmt.Errorf("matching delimiter not found %q", delim)
			}
			out[k] = strings.Join(lines, "\n")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("invalid format %q", line)
		}
		out[k] = v
	}
	return out, sc.Err()
}

// script runs a run: step with bash (GitHub's default: bash --noprofile
// --norc -eo pipefail) or sh -e, in the workspace or working-directory.
func (jr *jobRun) script(st *Step, full *ghexpr.Env, stepEnv map[string]string, res *StepRun) error {
	src, err := ghexpr.Interpolate(st.Run, full)
	if err != nil {
		return err
	}
	shell := st.Shell
	if shell == "" {
		shell = jr.Job.Defaults.Shell
	}
	if shell == "" {
		shell = jr.Run.Workflow.Defaults.Shell
	}
	var args []string
	switch shell {
	case "", "bash":
		args = []string{"bash", "--noprofile", "--norc", "-eo", "pipefail"}
	case "sh":
		args = []string{"sh", "-e"}
	default:
		return fmt.Errorf("shell %q is not run by the harness", shell)
	}
	wd := st.WorkingDirectory
	if wd == "" {
		wd = jr.Job.Defaults.WorkingDirectory
	}
	if wd == "" {
		wd = jr.Run.Workflow.Defaults.WorkingDirectory
	}
	if wd, err = ghexpr.Interpolate(wd, full); err != nil {
		return err
	}
	dir := jr.dirs.workspace
	if wd != "" {
		dir = filepath.Join(dir, wd)
	}
	script := filepath.Join(jr.dirs.temp, fmt.Sprintf("script-%d.sh", jr.stepN+1))
	if err := os.WriteFile(script, []byte(src), 0o755); err != nil {
		return err
	}
	f := jr.newStepFiles()
	env := jr.runnerEnv(f, "__run")
	for k, v := range stepEnv {
		env[k] = v
	}
	env["PATH"] = strings.Join(append(append([]string(nil), jr.path...), os.Getenv("PATH")), string(os.PathListSeparator))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], append(args[1:], script)...)
	cmd.Dir = dir
	cmd.Env = environ(env)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	jr.logf("-- run (step %d):\n%s", len(jr.Steps), indent(src))
	err = cmd.Run()
	jr.logf("%s", log.String())
	aerr := jr.afterStep(f, res)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return aerr
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func environ(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

// uses runs an action: the one under test, or a registered stand-in.
func (jr *jobRun) uses(st *Step, full *ghexpr.Env, stepEnv map[string]string, res *StepRun) error {
	ref, _, _ := strings.Cut(st.Uses, "@")
	with := map[string]string{}
	for k, v := range st.With {
		s, err := ghexpr.Interpolate(v, full)
		if err != nil {
			return fmt.Errorf("with.%s: %w", k, err)
		}
		with[k] = s
	}
	f := jr.newStepFiles()
	action := st.ID
	if action == "" {
		action = "__" + strings.NewReplacer("/", "_", "-", "_").Replace(ref)
	}
	env := jr.runnerEnv(f, action)
	var err error
	switch {
	case jr.h.Action != nil && jr.h.Action.Matches(st.Uses):
		jr.logf("-- %s (the action under test, %s) with %v", st.Uses, jr.h.Action.Executor.Name(), redact(with, jr.secrets))
		err = jr.h.Action.run(jr, full, with, stepEnv, env, f)
	default:
		s, ok := jr.h.StandIns[strings.ToLower(ref)]
		if !ok {
			return fmt.Errorf("no stand-in for %s: register one in Harness.StandIns", st.Uses)
		}
		jr.logf("-- %s (stand-in) with %v", st.Uses, redact(with, jr.secrets))
		err = s.run(jr, st.Uses, full, with, stepEnv, env, f)
	}
	// A failed step's outputs are still the step's (steps.<id>.outputs).
	if aerr := jr.afterStep(f, res); err == nil {
		err = aerr
	}
	return err
}

// actionEnv is an action's environment: the step's variables, then
// GitHub's default ones over them (those cannot be overridden).
func actionEnv(stepEnv, runner map[string]string) map[string]string {
	env := make(map[string]string, len(stepEnv)+len(runner))
	for k, v := range stepEnv {
		env[k] = v
	}
	for k, v := range runner {
		env[k] = v
	}
	return env
}

// redact hides secrets' values in what the log shows.
func redact(m map[string]string, secrets map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		for _, s := range secrets {
			if s != "" {
				v = strings.ReplaceAll(v, s, "***")
			}
		}
		out[k] = v
	}
	return out
}

// inputs are an action's inputs as the runner resolves them: each declared
// input from with: or its default (an expression, such as
// ${{ github.token }}); an undeclared one is refused, since the action
// would never read it.
func resolveInputs(declared map[string]string, order []string, with map[string]string, full *ghexpr.Env) (map[string]string, error) {
	var unknown []string
	for k := range with {
		if _, ok := declared[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		valid := append([]string(nil), order...)
		sort.Strings(valid)
		return nil, fmt.Errorf("unexpected input(s) %s, valid inputs are %s", strings.Join(unknown, ", "), strings.Join(valid, ", "))
	}
	out := map[string]string{}
	for _, name := range order {
		if v, ok := with[name]; ok {
			out[name] = v
			continue
		}
		v, err := ghexpr.Interpolate(declared[name], full)
		if err != nil {
			return nil, fmt.Errorf("default of %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

// hashFiles is hashFiles(): the sha256 of the matching files' sha256s, in
// path order, under the workspace; empty when none match.
func (jr *jobRun) hashFiles(patterns []string) (string, error) {
	var matched []string
	err := filepath.WalkDir(jr.dirs.workspace, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(jr.dirs.workspace, p)
		if filterMatch(patterns, []string{filepath.ToSlash(rel)}) {
			matched = append(matched, p)
		}
		return nil
	})
	if err != nil || len(matched) == 0 {
		return "", err
	}
	sort.Strings(matched)
	all := sha256.New()
	for _, p := range matched {
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		all.Write(h.Sum(nil))
	}
	return hex.EncodeToString(all.Sum(nil)), nil
}
