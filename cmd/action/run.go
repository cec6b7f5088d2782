package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/chown"
	"github.com/arena-deploy/arena-deploy-action/internal/events"
	"github.com/arena-deploy/arena-deploy-action/internal/ghclient"
	"github.com/arena-deploy/arena-deploy-action/internal/mask"
	"github.com/arena-deploy/arena-deploy-action/internal/notify"
	"github.com/arena-deploy/arena-deploy-action/internal/preview"
	"github.com/arena-deploy/arena-deploy-action/internal/report"
	"github.com/arena-deploy/arena-deploy-action/internal/run"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the run failed; failure-reason says why
	exitUsage   = 2 // bad inputs or flags
)

// clock is the run's clock; tests share the emulator's.
var clock = time.Now

// sleep waits between retries; tests make it instant.
var sleep func(context.Context, time.Duration) error

// hooks are a run's clock and wait between retries: the package's, or a
// test's own when tests run in parallel.
type hooks struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// realMain runs one command and returns the exit code.
func realMain(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	return runMain(ctx, hooks{now: clock, sleep: sleep}, args, environ, stdout, stderr)
}

// runMain is realMain with the clock and wait given.
func runMain(ctx context.Context, hk hooks, args, environ []string, stdout, stderr io.Writer) (code int) {
	getenv := lookup(environ)
	if len(args) > 0 && args[0] == "demo" {
		return demo(ctx, args[1:], stdout, stderr)
	}
	inActions := getenv("GITHUB_ACTIONS") == "true"
	var (
		in        inputs
		sink      report.Sink
		log       = stderr // the adapter's stderr, masked
		workspace = getenv("GITHUB_WORKSPACE")
		on        = surface.Workflow
		err       error
	)
	if inActions {
		if err := runnerFiles(getenv); err != nil {
			fmt.Fprintf(stderr, "arena-deploy: %s\n", err)
			return exitUsage
		}
		in = actionInputs(getenv)
		act := report.NewActions(stdout, getenv)
		// The adapter's log shares the step's stream with our commands,
		// fenced by stop-commands.
		sink, log = act, act.Log()
	} else {
		var opt cliOptions
		if in, opt, err = cliInputs(args, stdout, stderr); err != nil {
			if errors.Is(err, errHelp) || errors.Is(err, errVersion) {
				return exitOK
			}
			return exitUsage
		}
		cli := newCLIReporter(stdout, stderr, opt)
		defer func() { cli.finish(in.get("command"), code) }()
		sink, on = cli, surface.CLI
		if workspace, err = os.Getwd(); err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return exitFailure
		}
	}
	// One masker for everything the run prints, posts or stores, knowing
	// the environment's secrets before anything is printed.
	rep := report.New(sink, mask.NewMasker())
	for _, v := range mask.EnvSecrets(environ, names(in.get("mask-env"))) {
		rep.AddMask(v)
	}
	// The webhook's address carries its token.
	if u := in.get("notify-webhook"); u != "" {
		rep.AddMask(u)
		// And its parts a log line may name alone (a retry names the
		// address without its query).
		for _, part := range notify.Secrets(u) {
			rep.AddMask(part)
		}
	}
	// Without a token an apply would deploy and keep the state only in
	// the runner's throwaway workspace: refuse before anything else.
	if inActions && githubToken(in, getenv) == "" {
		rep.SetOutput("failure-reason", run.ReasonInvalidInput)
		rep.Errorf("%s", errNoToken)
		return exitUsage
	}
	if inActions {
		defer handOver(workspace, rep)()
	}
	usage := func(err error) int {
		rep.SetOutput("failure-reason", run.ReasonInvalidInput)
		rep.Errorf("%s", strings.TrimPrefix(err.Error(), "usage: "))
		return exitUsage
	}
	o, err := options(in, workspace, getenv, environ, on)
	if err != nil {
		return usage(err)
	}
	if days, warning := capRetention(o.RetentionDays, getenv("GITHUB_RETENTION_DAYS")); warning != "" {
		rep.Warningf("%s", warning)
		o.RetentionDays = days
	}
	var d *run.Deps
	if inActions {
		d, err = deps(in, getenv, rep, log, hk)
	} else {
		d, err = cliDeps(in, getenv, rep, log, hk)
	}
	if err != nil {
		return usage(err)
	}
	allowPRT, err := in.bool("allow-pull-request-target")
	if err == nil {
		err = route(o, d, allowPRT)
	}
	if err != nil {
		return usage(err)
	}
	if err := dispatch(ctx, o, d); err != nil {
		reason, hint := run.ClassifyOn(err, on)
		rep.SetOutput("failure-reason", reason)
		msg := err.Error()
		if hint != "" && !strings.Contains(msg, hint) {
			msg += "\n" + hint // what to do, for errors that are not a Failure
		}
		rep.Errorf("%s", msg)
		return exitCode(reason)
	}
	return exitOK
}

// usageReasons are the failure reasons of a mistake in the command line or
// the inputs (a bad value, a path outside the workspace or naming nothing,
// destroy without its confirmation): exit code 2, like a bad flag. Every
// other failure exits 1.
var usageReasons = map[string]bool{
	run.ReasonInvalidInput: true, run.ReasonConfigNotFound: true, run.ReasonDestroyRefused: true,
}

// exitCode is the exit code of a run that failed for reason.
func exitCode(reason string) int {
	if usageReasons[reason] {
		return exitUsage
	}
	return exitFailure
}

// runnerFiles checks that the runner gave the files a step writes its
// outputs and summary to: without them go-githubactions panics at the
// first output. Only a run outside a real step lacks them.
func runnerFiles(getenv func(string) string) error {
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} {
		path := getenv(name)
		if path == "" {
			return fmt.Errorf("GITHUB_ACTIONS is true but %s is not set: the runner sets both for a step of a job. "+
				"To use the command line elsewhere, unset GITHUB_ACTIONS (env -u GITHUB_ACTIONS arena-deploy plan ...)", name)
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("%s (%s) cannot be written: %w", name, path, err)
		}
		_ = f.Close()
	}
	return nil
}

// errNoToken is the message for a run in GitHub Actions without a token.
var errNoToken = errors.New("input github-token is empty. In GitHub Actions the action needs a token for the pull request " +
	"comment, the plan artifact and the deploy state; without one an apply would keep the state only in the runner's " +
	"throwaway workspace. Pass github-token: ${{ github.token }} (action.yml's default; a docker:// step must pass it " +
	"itself), with the permissions of arena-deploy-action's docs/permissions.md")

// handOver starts handing the files this run creates in the workspace to
// the workspace's owner (the action runs as root in its container); the
// returned func finishes it.
func handOver(workspace string, rep run.Reporter) func() {
	h, err := chown.Start(workspace)
	if err != nil {
		rep.Warningf("Files this run creates in the workspace stay owned by root: %s", err)
		return func() {}
	}
	return func() {
		n, err := h.Finish()
		if err != nil {
			rep.Warningf("Some files this run created in the workspace could not be given to its owner, and stay owned by root: %s", err)
		}
		if n > 0 {
			uid, gid := h.Owner()
			rep.Infof("Gave the %d files this run created in the workspace to its owner (%d:%d)", n, uid, gid)
		}
	}
}

func lookup(environ []string) func(string) string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// deps builds the GitHub clients, the artifact uploader and the event
// context from the runner's variables. Every HTTP client follows the one
// retry policy of internal/ghclient.
func deps(in inputs, getenv func(string) string, rep run.Reporter, log io.Writer, hk hooks) (*run.Deps, error) {
	policy := ghclient.Policy{Sleep: hk.sleep, Now: hk.now, AttemptTimeout: 2 * time.Minute, Logf: rep.Infof}
	blobPolicy := policy
	blobPolicy.AttemptTimeout = 5 * time.Minute
	d := &run.Deps{Report: rep, Log: log, BlobClient: ghclient.Client(nil, blobPolicy), Now: hk.now, Sleep: hk.sleep}
	if getenv("GITHUB_EVENT_PATH") != "" || getenv("GITHUB_REPOSITORY") != "" {
		g, err := githubContext(getenv)
		if err != nil {
			return nil, err
		}
		d.GH = g
	}
	if token := githubToken(in, getenv); token != "" && d.GH != nil && d.GH.Owner != "" {
		rep.AddMask(token)
		gh, err := ghclient.GitHub(ghclient.Client(nil, policy), getenv("GITHUB_API_URL"), token)
		if err != nil {
			return nil, err
		}
		d.GitHub = gh
		// The state has a client of its own: a rate limit met by any other
		// call cannot block the write after a deploy, and it waits longer
		// for a reset than other calls do, since failing it would leave the
		// deploy's state to be restored by hand.
		statePolicy := policy
		statePolicy.MaxWait = stateMaxWait
		// A token of its own for the state when state-token says so: a
		// deploy App's, the one identity a hardened state branch lets write.
		stateToken := token
		if t := in.get("state-token"); t != "" {
			stateToken = t
			rep.AddMask(t)
		}
		if d.StateGitHub, err = ghclient.GitHub(ghclient.Client(nil, statePolicy), getenv("GITHUB_API_URL"), stateToken); err != nil {
			return nil, err
		}
	}
	if up, err := artifacts.NewUploader(getenv("ACTIONS_RESULTS_URL"), getenv("ACTIONS_RUNTIME_TOKEN"), ghclient.Client(nil, blobPolicy)); err == nil {
		up.Policy = blobPolicy
		d.Uploader = up
	} else if getenv("GITHUB_ACTIONS") == "true" {
		d.NoArtifactService = err
	}
	return d, nil
}

// cliDeps are the CLI's collaborators: no GitHub context (plans and state
// stay in the project, whatever GITHUB_* variables the shell has), and a
// GitHub client for adapter-install's release lookups only, with the token
// when there is one (public releases need none).
func cliDeps(in inputs, getenv func(string) string, rep run.Reporter, log io.Writer, hk hooks) (*run.Deps, error) {
	policy := ghclient.Policy{Sleep: hk.sleep, Now: hk.now, AttemptTimeout: 2 * time.Minute, Logf: rep.Infof}
	blob := ghclient.Client(nil, policy)
	d := &run.Deps{Report: rep, Log: log, BlobClient: blob, Now: hk.now, Sleep: hk.sleep}
	token := githubToken(in, getenv)
	if token != "" {
		rep.AddMask(token)
	}
	releases, err := ghclient.GitHub(ghclient.Client(nil, policy), getenv("GITHUB_API_URL"), token)
	if err != nil {
		return nil, err
	}
	d.Releases = releases
	return d, nil
}

// stateMaxWait is how long the state client waits for a rate limit's reset.
const stateMaxWait = 10 * time.Minute

// githubToken is the github-token input, else GITHUB_TOKEN.
func githubToken(in inputs, getenv func(string) string) string {
	if token := in.get("github-token"); token != "" {
		return token
	}
	return getenv("GITHUB_TOKEN")
}

// route resolves command auto from the event, and how far a plan of this
// event may be trusted (internal/events holds the table).
func route(o *run.Options, d *run.Deps, allowPRT bool) error {
	c := events.Context{Command: o.Command, AllowPRT: allowPRT}
	if g := d.GH; g != nil {
		c.Event, c.Repo, c.HeadRepo, c.PRNumber, c.HasGitHub = g.EventName, g.Owner+"/"+g.Repo, g.HeadRepo, g.PRNumber, g.EventName != ""
	}
	r, err := events.Resolve(c)
	if err != nil {
		return fmt.Errorf("%w: %s", errUsage, strings.TrimPrefix(err.Error(), events.ErrRefused.Error()+": "))
	}
	o.Command, o.ReviewOnly = r.Command, r.ReviewOnly
	o.Comment = o.Comment && r.Comment
	if o.Command == run.CommandPreview {
		// The pull request's own target: its environment is pr-<number>,
		// whatever the environment input says.
		o.Environment = preview.Env(d.GH.PRNumber)
		o.Preview.Number = d.GH.PRNumber
	}
	if r.Notice != "" {
		d.Report.Infof("%s", r.Notice)
	}
	return nil
}

// dispatch runs the command.
func dispatch(ctx context.Context, o *run.Options, d *run.Deps) error {
	cmd := o.Command
	switch cmd {
	case run.CommandPlan:
		_, err := run.Plan(ctx, o, d)
		return err
	case run.CommandApply:
		_, err := run.Apply(ctx, o, d)
		return err
	case run.CommandStatus:
		_, err := run.Status(ctx, o, d)
		return err
	case run.CommandRefresh:
		_, err := run.Refresh(ctx, o, d)
		return err
	case run.CommandDestroy:
		return run.Destroy(ctx, o, d)
	case run.CommandAdopt:
		return run.Adopt(ctx, o, d)
	case run.CommandTargets:
		_, err := run.Targets(ctx, o, d)
		return err
	case run.CommandPreview:
		_, err := run.Preview(ctx, o, d)
		return err
	case run.CommandUnlock:
		return run.Unlock(ctx, o, d)
	case run.CommandRollback:
		_, err := run.Rollback(ctx, o, d)
		return err
	}
	return fmt.Errorf("%w: command %q is not available yet", errUsage, cmd)
}
