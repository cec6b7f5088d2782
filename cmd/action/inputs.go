package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/buildinfo"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/notify"
	"github.com/arena-deploy/arena-deploy-action/internal/run"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
	"github.com/arena-deploy/arena-deploy-action/internal/targets"
)

// version is stamped at build time with -ldflags "-X main.version=..."
// (releases and CI); unstamped builds name their commit instead.
var version string

// actionVersion is the version this binary reports (buildinfo.Version).
func actionVersion() string { return buildinfo.Version(version) }

// errUsage marks bad inputs or flags: exit code 2.
var errUsage = errors.New("usage")

// inputDefaults are the defaults of action.yml, applied in both modes.
var inputDefaults = map[string]string{
	"command": "auto", "environment": "default", "config": "arena.yaml", "working-directory": ".",
	"comment": "true", "state-backend": "git", "state-path": ".promptarena/deploy.state",
	"on-missing-plan": "fail", "on-stale-plan": "fail", "drift-issue": "false", "fail-on-drift": "false",
	"allow-adapter-change": "false", "lock-timeout": "0s", "allow-pull-request-target": "false", "create-deployment": "false", "adapter-oidc": "false",
	"state-branch": "arena-deploy-state",
	"configs":      "**/arena.yaml", "shared-files": ".github/workflows/**", "all-targets": "false",
	"preview-environment": "preview", "force-unlock": "false", "notify-on": "apply-failed, drift, rollback", "rollback-to": "previous",
	"evaluation-policy": "no-failures",
}

// inputNames are every input of action.yml, also the CLI's flags.
var inputNames = []string{
	"command", "environment", "config", "pack", "working-directory", "github-token", "adapter", "comment",
	"fail-on", "retention-days", "state-backend", "state-path", "on-missing-plan", "on-stale-plan",
	"confirm-destroy", "confirm-adopt", "adopt-reason", "drift-issue", "fail-on-drift", "allow-adapter-change", "lock-timeout", "adapter-timeout", "create-deployment",
	"adapter-install", "adapter-repo", "adapter-sha256", "adapter-allow-unverified", "allow-pull-request-target",
	"mask-env", "adapter-oidc",
	"state-branch",
	"configs", "environments", "follows", "shared-files", "all-targets",
	"preview-environment", "confirm-unlock", "force-unlock", "notify-webhook", "notify-on", "confirm-rollback", "rollback-to", "rollback-reason", "state-token",
	"evaluations", "evaluation-policy", "evaluation-override",
}

// emptyInput marks an input given as an empty string on purpose, where
// empty means something other than the default (state-branch).
const emptyInput = "\x00empty"

// explicitlyEmpty says whether name was set to "" rather than left out:
// the runner passes every input, so INPUT_<NAME>= present and empty is a
// choice; on the CLI, the flag given with no value.
func explicitlyEmpty(in inputs, environ []string, name string) bool {
	if in[name] == emptyInput {
		return true
	}
	for _, kv := range environ {
		if kv == "INPUT_"+strings.ToUpper(name)+"=" {
			return true
		}
	}
	return false
}

// inputs is a lookup of resolved input values.
type inputs map[string]string

func (in inputs) get(name string) string {
	if in[name] == emptyInput {
		return ""
	}
	if v := strings.TrimSpace(in[name]); v != "" {
		return v
	}
	return inputDefaults[name]
}

func (in inputs) bool(name string) (bool, error) {
	v := in.get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		// Only an input can be wrong here: the CLI's flags are checked
		// as they are parsed.
		return false, fmt.Errorf("%w: input %s must be true or false, not %q", errUsage, name, v)
	}
	return b, nil
}

// actionInputs reads INPUT_<NAME> as the runner passes them (upper case,
// the dash kept).
func actionInputs(getenv func(string) string) inputs {
	in := inputs{}
	for _, n := range inputNames {
		in[n] = getenv("INPUT_" + strings.ToUpper(n))
	}
	return in
}

// options turns inputs into the run's options; workspace is the directory
// working-directory is relative to; on is where the inputs were set, which
// the messages name them as.
func options(in inputs, workspace string, getenv func(string) string, environ []string, on surface.Surface) (*run.Options, error) {
	o := &run.Options{
		Command: in.get("command"), Environment: in.get("environment"), ConfigPath: in.get("config"),
		PackPath: in.get("pack"), AdapterPath: in.get("adapter"), StateBackend: in.get("state-backend"),
		StatePath: in.get("state-path"), OnMissingPlan: in.get("on-missing-plan"), OnStalePlan: in.get("on-stale-plan"),
		Confirm: in.get("confirm-destroy"), ConfirmUnlock: in.get("confirm-unlock"), ConfirmAdopt: in.get("confirm-adopt"), AdoptReason: in.get("adopt-reason"), HomeDir: getenv("HOME"), PathEnv: getenv("PATH"), RunnerTemp: getenv("RUNNER_TEMP"), Version: actionVersion(),
		AdapterInstall: in.get("adapter-install"), AdapterRepo: in.get("adapter-repo"),
		AdapterSHA256: in.get("adapter-sha256"), OS: runtime.GOOS, Arch: runtime.GOARCH, Surface: on,
		LocalUser: cmp.Or(getenv("USER"), getenv("LOGNAME")),
	}
	var err error
	for name, dst := range map[string]*bool{"comment": &o.Comment, "drift-issue": &o.DriftIssue, "fail-on-drift": &o.FailOnDrift, "allow-adapter-change": &o.AllowAdapterChange, "adapter-allow-unverified": &o.AdapterAllowUnverified, "create-deployment": &o.CreateDeployment, "force-unlock": &o.ForceUnlock, "adapter-oidc": &o.AdapterOIDC} {
		if *dst, err = in.bool(name); err != nil {
			return nil, err
		}
	}
	o.AdapterEnv = adapterEnv(environ, o.AdapterOIDC)
	if o.Targets, err = targetsOptions(in); err != nil {
		return nil, err
	}
	if o.Command == run.CommandPreview {
		o.Preview = &run.PreviewOptions{Template: in.get("preview-environment")}
	}
	o.Rollback = run.RollbackOptions{Confirm: in.get("confirm-rollback"), To: in.get("rollback-to"), Reason: in.get("rollback-reason")}
	if o.Notify, err = notifyOptions(in); err != nil {
		return nil, err
	}
	rel := in.get("working-directory")
	o.WorkDir = filepath.Clean(filepath.Join(workspace, rel))
	if filepath.IsAbs(rel) {
		o.WorkDir = filepath.Clean(rel)
	}
	o.WorkDirRel = filepath.ToSlash(filepath.Clean(rel))
	// The fence: the run refuses any path (working-directory included)
	// that resolves outside it.
	o.Workspace = workspace
	if err := checkProjectPaths(o, rel); err != nil {
		return nil, err
	}
	if o.FailOn, err = parseActions(in.get("fail-on"), on); err != nil {
		return nil, err
	}
	if v := in.get("retention-days"); v != "" {
		if o.RetentionDays, err = strconv.Atoi(v); err != nil || o.RetentionDays < 1 || o.RetentionDays > 90 {
			return nil, fmt.Errorf("%w: retention-days must be a whole number from 1 to 90, not %q", errUsage, v)
		}
	}
	if o.AdapterTimeouts, err = deploy.ParseTimeouts(in.get("adapter-timeout")); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errUsage, on.Name("adapter-timeout"), err)
	}
	if o.StateBranch = in.get("state-branch"); explicitlyEmpty(in, environ, "state-branch") {
		o.StateBranch = ""
	}
	o.Evaluations, o.EvaluationOverride = in.get("evaluations"), in.get("evaluation-override")
	if o.EvaluationPolicy, err = evalgate.ParsePolicy(in.get("evaluation-policy")); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if o.LockWait, err = time.ParseDuration(in.get("lock-timeout")); err != nil {
		return nil, fmt.Errorf("%w: %s must be a duration such as 30s or 5m, not %q", errUsage, on.Name("lock-timeout"), in.get("lock-timeout"))
	}
	return o, checkChoice(o)
}

// capRetention caps retention-days at the repository's retention
// (GITHUB_RETENTION_DAYS), as actions/upload-artifact does: a longer one
// is not granted, so the plan would expire earlier than the input says.
func capRetention(days int, repoMax string) (int, string) {
	maxDays, err := strconv.Atoi(repoMax)
	if err != nil || maxDays < 1 || days <= maxDays {
		return days, ""
	}
	return maxDays, fmt.Sprintf("retention-days is %d, but this repository keeps artifacts at most %d days "+
		"(its Actions settings, GITHUB_RETENTION_DAYS): using %d. Raise the repository's retention, or lower retention-days.", days, maxDays, maxDays)
}

func checkChoice(o *run.Options) error {
	choices := []struct{ name, val, allowed string }{
		{"command", o.Command, "auto plan apply status refresh destroy adopt targets preview unlock rollback"},
		{"state-backend", o.StateBackend, "git artifact file"},
		{"on-missing-plan", o.OnMissingPlan, "fail plan-and-apply"},
		{"on-stale-plan", o.OnStalePlan, "fail replan"},
	}
	for _, c := range choices {
		if !strings.Contains(" "+c.allowed+" ", " "+c.val+" ") {
			return fmt.Errorf("%w: %s is %q; use one of: %s", errUsage, o.Surface.Input(c.name), c.val, strings.ReplaceAll(c.allowed, " ", ", "))
		}
	}
	return nil
}

// checkProjectPaths says plainly when working-directory or config name the
// wrong kind of thing, before anything is read.
func checkProjectPaths(o *run.Options, rel string) error {
	on := o.Surface
	fi, err := os.Stat(o.WorkDir)
	switch {
	case errors.Is(err, os.ErrNotExist) && on == surface.CLI:
		return fmt.Errorf("%w: %s %s does not exist (it is relative to the current directory %s); pass %s <the directory holding arena.yaml>",
			errUsage, on.Name("working-directory"), rel, o.Workspace, on.Name("working-directory"))
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: working-directory %s does not exist (it is relative to the repository root %s); set it to the directory holding arena.yaml, or check out the repository first",
			errUsage, rel, o.Workspace)
	case err == nil && !fi.IsDir():
		return fmt.Errorf("%w: %s %s is a file, not a directory: give the directory holding it and the file's name as the config (%s, %s)",
			errUsage, on.Name("working-directory"), rel, on.Setting("working-directory", filepath.ToSlash(filepath.Dir(rel))), on.Setting("config", filepath.Base(rel)))
	}
	if fi, err := os.Stat(filepath.Join(o.WorkDir, o.ConfigPath)); err == nil && fi.IsDir() {
		return fmt.Errorf("%w: %s %s is a directory; give the arena file, e.g. %s",
			errUsage, on.Name("config"), o.ConfigPath, on.Setting("config", filepath.ToSlash(filepath.Join(o.ConfigPath, "arena.yaml"))))
	}
	return nil
}

// targetsOptions reads the inputs of command targets (follows orders
// plans too).
func targetsOptions(in inputs) (run.TargetsOptions, error) {
	var err error
	to := run.TargetsOptions{Patterns: names(in.get("configs")), Environments: names(in.get("environments")), Shared: names(in.get("shared-files"))}
	if to.All, err = in.bool("all-targets"); err != nil {
		return to, err
	}
	if to.Follows, err = targets.ParseFollows(in.get("follows")); err != nil {
		return to, fmt.Errorf("%w: input %v", errUsage, strings.TrimPrefix(err.Error(), targets.ErrInvalid.Error()+": "))
	}
	if err := targets.CheckPatterns(to.Patterns); err != nil {
		return to, fmt.Errorf("%w: input configs: %v", errUsage, strings.TrimPrefix(err.Error(), targets.ErrInvalid.Error()+": "))
	}
	if err := targets.CheckShared(to.Shared); err != nil {
		return to, fmt.Errorf("%w: input shared-files: %v", errUsage, strings.TrimPrefix(err.Error(), targets.ErrInvalid.Error()+": "))
	}
	return to, nil
}

// notifyOptions reads notify-webhook and notify-on. The address is a
// secret (it carries the webhook's token): it is masked before anything
// runs (cmd/action) and never repeated in a message.
func notifyOptions(in inputs) (run.NotifyOptions, error) {
	n := run.NotifyOptions{Webhook: in.get("notify-webhook"), On: names(in.get("notify-on"))}
	if n.Webhook == "" {
		return n, nil
	}
	if err := notify.Check(n.Webhook); err != nil {
		return n, fmt.Errorf("%w: input notify-webhook: %s", errUsage, strings.TrimPrefix(err.Error(), notify.ErrBadURL.Error()+": "))
	}
	for _, k := range n.On {
		if !slices.Contains(notify.Kinds, k) {
			return n, fmt.Errorf("%w: notify-on takes %s, not %q", errUsage, strings.Join(notify.Kinds, ", "), k)
		}
	}
	return n, nil
}

// parseActions reads fail-on: "delete,drift" or "DELETE, DRIFT".
func parseActions(s string, on surface.Surface) ([]deploy.Action, error) {
	var out []deploy.Action
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		a := deploy.Action(strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(part), "-", "_")))
		switch a {
		case deploy.ActionCreate, deploy.ActionUpdate, deploy.ActionDelete, deploy.ActionDrift:
			out = append(out, a)
		default:
			return nil, fmt.Errorf("%w: %s takes create, update, delete and drift, not %q", errUsage, on.Name("fail-on"), part)
		}
	}
	return out, nil
}

// adapterEnv is the adapter's environment: the runner's, less the GitHub
// token, the artifact runtime token and our own inputs, and less the OIDC
// request variables unless adapter-oidc allows them (with them, an adapter
// can mint identity tokens for the workflow). Adapters read their
// provider's credentials from the environment; GitHub's are not theirs.
func adapterEnv(environ []string, oidc bool) []string {
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "INPUT_"), k == "GITHUB_TOKEN", k == "GH_TOKEN", k == "ACTIONS_RUNTIME_TOKEN":
			continue
		case !oidc && (k == "ACTIONS_ID_TOKEN_REQUEST_TOKEN" || k == "ACTIONS_ID_TOKEN_REQUEST_URL"):
			continue
		}
		out = append(out, kv)
	}
	return out
}

// names splits a list input (mask-env) at commas, blanks and line breaks.
func names(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// event is the part of the webhook payload the action reads.
type event struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA  string `json:"sha"`
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
		Base struct {
			SHA string `json:"sha"`
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
	HeadCommit *struct {
		Message string `json:"message"`
	} `json:"head_commit"`
	// MergeGroup is the merge queue's commit (merge_group events).
	MergeGroup *struct {
		HeadSHA string `json:"head_sha"`
		BaseSHA string `json:"base_sha"`
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
	Before     string `json:"before"` // push, pull_request synchronize: the commit before it
	Action     string `json:"action"` // pull_request: opened, synchronize, closed, ...
	Repository *struct {
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
}

// githubContext reads the runner's variables and the event payload.
func githubContext(getenv func(string) string) (*run.GitHubContext, error) {
	owner, repo, _ := strings.Cut(getenv("GITHUB_REPOSITORY"), "/")
	g := &run.GitHubContext{
		Owner: owner, Repo: repo, EventName: getenv("GITHUB_EVENT_NAME"), SHA: getenv("GITHUB_SHA"),
		Ref: getenv("GITHUB_REF"), ServerURL: strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/"), Actor: getenv("GITHUB_ACTOR"),
		TriggeringActor: getenv("GITHUB_TRIGGERING_ACTOR"),
	}
	if g.ServerURL == "" {
		g.ServerURL = "https://github.com"
	}
	g.RunID, _ = strconv.ParseInt(getenv("GITHUB_RUN_ID"), 10, 64)
	g.RunAttempt, _ = strconv.Atoi(getenv("GITHUB_RUN_ATTEMPT"))
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return g, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read event %s: %w", path, err)
	}
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("parse event %s: %w", path, err)
	}
	if pr := ev.PullRequest; pr != nil {
		g.PRNumber, g.HeadSHA, g.HeadRepo = pr.Number, pr.Head.SHA, pr.Head.Repo.FullName
		g.BaseSHA, g.BaseRef = pr.Base.SHA, pr.Base.Ref
	}
	if ev.HeadCommit != nil {
		g.HeadCommitMsg = ev.HeadCommit.Message
	}
	if mg := ev.MergeGroup; mg != nil {
		g.HeadSHA, g.BaseSHA, g.BaseRef = mg.HeadSHA, mg.BaseSHA, strings.TrimPrefix(mg.BaseRef, "refs/heads/")
	}
	g.Before = ev.Before
	if ev.PullRequest != nil {
		g.PRAction = ev.Action
	}
	if ev.Repository != nil {
		g.DefaultBranch = ev.Repository.DefaultBranch
	}
	return g, nil
}
