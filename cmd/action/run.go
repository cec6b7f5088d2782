package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/sethvargo/go-githubactions"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/events"
	"github.com/arena-deploy/arena-deploy-action/internal/run"
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

// realMain runs one command and returns the exit code.
func realMain(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	getenv := lookup(environ)
	if len(args) > 0 && args[0] == "demo" {
		return demo(ctx, args[1:], stdout, stderr)
	}
	inActions := getenv("GITHUB_ACTIONS") == "true"
	var (
		in        inputs
		rep       run.Reporter
		workspace = getenv("GITHUB_WORKSPACE")
		err       error
	)
	if inActions {
		in = actionInputs(getenv)
		rep = githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout))
	} else {
		if in, err = cliInputs(args, stderr); err != nil {
			return exitUsage
		}
		cli := newCLIReporter(stdout)
		defer cli.printOutputs()
		rep = cli
		if workspace, err = os.Getwd(); err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return exitFailure
		}
	}
	o, err := options(in, workspace, getenv, environ)
	if err != nil {
		rep.SetOutput("failure-reason", run.ReasonInvalidInput)
		rep.Errorf("%s", strings.TrimPrefix(err.Error(), "usage: "))
		return exitUsage
	}
	d, err := deps(in, getenv, rep, stderr)
	if err != nil {
		rep.SetOutput("failure-reason", run.ReasonInvalidInput)
		rep.Errorf("%s", err)
		return exitUsage
	}
	allowPRT, err := in.bool("allow-pull-request-target")
	if err == nil {
		err = route(o, d, allowPRT)
	}
	if err != nil {
		rep.SetOutput("failure-reason", run.ReasonInvalidInput)
		rep.Errorf("%s", strings.TrimPrefix(err.Error(), "usage: "))
		return exitUsage
	}
	if err := dispatch(ctx, o, d); err != nil {
		reason, _ := run.Classify(err)
		rep.SetOutput("failure-reason", reason)
		rep.Errorf("%s", err)
		return exitFailure
	}
	return exitOK
}

func lookup(environ []string) func(string) string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// deps builds the GitHub client, the artifact uploader and the event
// context from the runner's variables.
func deps(in inputs, getenv func(string) string, rep run.Reporter, log io.Writer) (*run.Deps, error) {
	d := &run.Deps{Report: rep, Log: log, BlobClient: &http.Client{Timeout: 5 * time.Minute}, Now: clock, Sleep: sleep}
	if getenv("GITHUB_EVENT_PATH") != "" || getenv("GITHUB_REPOSITORY") != "" {
		g, err := githubContext(getenv)
		if err != nil {
			return nil, err
		}
		d.GH = g
	}
	token := in.get("github-token")
	if token == "" {
		token = getenv("GITHUB_TOKEN")
	}
	if token != "" && d.GH != nil && d.GH.Owner != "" {
		rep.AddMask(token)
		gh, err := githubClient(getenv("GITHUB_API_URL"), token)
		if err != nil {
			return nil, err
		}
		d.GitHub = gh
	}
	if up, err := artifacts.NewUploader(getenv("ACTIONS_RESULTS_URL"), getenv("ACTIONS_RUNTIME_TOKEN"), &http.Client{Timeout: 5 * time.Minute}); err == nil {
		d.Uploader = up
	} else if getenv("GITHUB_ACTIONS") == "true" {
		rep.Warningf("Plans cannot be uploaded as artifacts: %s", err)
	}
	return d, nil
}

// githubClient honours GITHUB_API_URL as given (GitHub Enterprise Server
// passes https://host/api/v3), rather than guessing a path suffix.
func githubClient(apiURL, token string) (*github.Client, error) {
	c := github.NewClient(&http.Client{Timeout: 2 * time.Minute}).WithAuthToken(token)
	if apiURL == "" {
		return c, nil
	}
	u, err := url.Parse(strings.TrimRight(apiURL, "/") + "/")
	if err != nil {
		return nil, fmt.Errorf("GITHUB_API_URL %q: %w", apiURL, err)
	}
	c.BaseURL = u
	return c, nil
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
	}
	return fmt.Errorf("%w: command %q is not available yet", errUsage, cmd)
}

// cliReporter prints what GitHub Actions would show, for CLI use.
type cliReporter struct {
	w       io.Writer
	outputs [][2]string
}

func newCLIReporter(w io.Writer) *cliReporter { return &cliReporter{w: w} }

func (c *cliReporter) Infof(f string, a ...any)    { fmt.Fprintf(c.w, f+"\n", a...) }
func (c *cliReporter) Warningf(f string, a ...any) { fmt.Fprintf(c.w, "warning: "+f+"\n", a...) }
func (c *cliReporter) Errorf(f string, a ...any)   { fmt.Fprintf(c.w, "error: "+f+"\n", a...) }
func (c *cliReporter) Group(t string)              { fmt.Fprintf(c.w, "── %s\n", t) }
func (c *cliReporter) EndGroup()                   {}
func (c *cliReporter) AddMask(string)              {}
func (c *cliReporter) AddStepSummary(md string)    { fmt.Fprintf(c.w, "\n%s\n", md) }
func (c *cliReporter) SetOutput(k, v string) {
	for i := range c.outputs {
		if c.outputs[i][0] == k {
			c.outputs[i][1] = v
			return
		}
	}
	c.outputs = append(c.outputs, [2]string{k, v})
}

func (c *cliReporter) printOutputs() {
	if len(c.outputs) == 0 {
		return
	}
	fmt.Fprintln(c.w, "outputs:")
	for _, kv := range c.outputs {
		fmt.Fprintf(c.w, "  %s=%s\n", kv[0], kv[1])
	}
}
