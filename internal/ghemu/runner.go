package ghemu

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Runner plays the GitHub Actions runner for a Docker action: the
// environment of each run (event file, output and summary files, tokens,
// the results service) pointing at the emulator.
type Runner struct {
	Server    *Server
	Workspace string
	Env       map[string]string
	tmp       string
	n         int
}

// NewRunner prepares runs of the default repo checked out in workspace;
// tmp holds event, output and summary files.
func (s *Server) NewRunner(workspace, tmp string) *Runner {
	return &Runner{Server: s, Workspace: workspace, tmp: tmp, Env: map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": DefaultOwner + "/" + DefaultRepo,
		"GITHUB_API_URL": s.URL, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKSPACE": workspace,
		"INPUT_GITHUB-TOKEN": DefaultToken, "ACTIONS_RESULTS_URL": s.ResultsURL(),
	}}
}

// PullRequest sets up a pull_request run for pr.
func (r *Runner) PullRequest(pr *Pull) (*Run, error) { return r.PullRequestActivity(pr, "", "") }

// PullRequestActivity sets up a pull_request run for pr with the event's
// activity type (opened, synchronize, closed, ...) and, for synchronize,
// the head before the push.
func (r *Runner) PullRequestActivity(pr *Pull, action, before string) (*Run, error) {
	headRepo := pr.HeadRepo
	if headRepo == "" {
		headRepo = DefaultOwner + "/" + DefaultRepo
	}
	run := r.Server.AddRun(Run{Event: "pull_request", HeadSHA: pr.HeadSHA, HeadRepo: headRepo})
	r.Env["GITHUB_ACTOR"] = pr.User
	if r.Env["GITHUB_ACTOR"] == "" {
		r.Env["GITHUB_ACTOR"] = "octocat"
	}
	payload := map[string]any{
		"number": pr.Number,
		"pull_request": map[string]any{"number": pr.Number,
			"head": map[string]any{"sha": pr.HeadSHA, "repo": map[string]any{"full_name": headRepo}},
			"base": map[string]any{"sha": pr.BaseSHA, "ref": pr.BaseRef}},
	}
	if action != "" {
		payload["action"] = action
	}
	if before != "" {
		payload["before"], payload["after"] = before, pr.HeadSHA
	}
	return run, r.event("pull_request", run, "merge-of-"+pr.HeadSHA, "refs/pull/"+fmt.Sprint(pr.Number)+"/merge", payload)
}

// Push sets up a push run of sha to main.
func (r *Runner) Push(sha, message string) (*Run, error) {
	r.Server.Mainline(sha)
	run := r.Server.AddRun(Run{Event: "push", HeadSHA: sha, HeadBranch: "main"})
	r.Env["GITHUB_ACTOR"] = "octocat" // who merged
	return run, r.event("push", run, sha, "refs/heads/main", map[string]any{
		"ref": "refs/heads/main", "before": r.Server.before(sha), "after": sha, "head_commit": map[string]any{"id": sha, "message": message}})
}

// Dispatch sets up a workflow_dispatch run on main at sha.
func (r *Runner) Dispatch(sha string) (*Run, error) {
	run := r.Server.AddRun(Run{Event: "workflow_dispatch", HeadSHA: sha, HeadBranch: "main"})
	return run, r.event("workflow_dispatch", run, sha, "refs/heads/main", map[string]any{})
}

func (r *Runner) event(name string, run *Run, sha, ref string, payload map[string]any) error {
	r.n++
	path := filepath.Join(r.tmp, fmt.Sprintf("event-%d.json", r.n))
	if _, ok := payload["repository"]; !ok {
		payload["repository"] = map[string]any{"full_name": DefaultOwner + "/" + DefaultRepo, "default_branch": "main"}
	}
	b, _ := json.Marshal(payload)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	r.Env["GITHUB_EVENT_NAME"], r.Env["GITHUB_EVENT_PATH"], r.Env["GITHUB_SHA"], r.Env["GITHUB_REF"] = name, path, sha, ref
	r.Env["GITHUB_RUN_ID"], r.Env["GITHUB_RUN_ATTEMPT"] = fmt.Sprint(run.ID), fmt.Sprint(run.Attempt)
	r.Env["ACTIONS_RUNTIME_TOKEN"] = r.Server.RuntimeToken(run)
	return nil
}

// Step is the files of one step's outputs and summary.
type Step struct {
	OutputPath, SummaryPath string
}

// Environ is the environment of a step with the given inputs.
func (r *Runner) Environ(inputs map[string]string) ([]string, *Step, error) {
	r.n++
	st := &Step{OutputPath: filepath.Join(r.tmp, fmt.Sprintf("output-%d", r.n)), SummaryPath: filepath.Join(r.tmp, fmt.Sprintf("summary-%d", r.n))}
	for _, f := range []string{st.OutputPath, st.SummaryPath} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return nil, nil, err
		}
	}
	env := []string{"GITHUB_OUTPUT=" + st.OutputPath, "GITHUB_STEP_SUMMARY=" + st.SummaryPath}
	for k, v := range r.Env {
		env = append(env, k+"="+v)
	}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	return env, st, nil
}

// Outputs parses the step's GITHUB_OUTPUT file (heredoc format).
func (st *Step) Outputs() (map[string]string, error) {
	f, err := os.Open(st.OutputPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			continue
		}
		var lines []string
		for sc.Scan() && sc.Text() != delim {
			lines = append(lines, sc.Text())
		}
		out[k] = strings.Join(lines, "\n")
	}
	return out, sc.Err()
}

// Summary is the step's job summary.
func (st *Step) Summary() string {
	b, _ := os.ReadFile(st.SummaryPath)
	return string(b)
}

// Checkout copies main's version of path into the workspace, as
// actions/checkout of the next run would.
func (r *Runner) Checkout(path string) error {
	b, ok := r.Server.GetFile("main", path)
	if !ok {
		return nil
	}
	p := filepath.Join(r.Workspace, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}
