package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/adaptersdk"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// subprocess turns the test binary into a real process of the journey:
// the reference adapter made slow to apply (run under the adapter's name
// with ARENA_SLOW_APPLY set), or the action itself (ARENA_TEST_ACTION).
func subprocess() {
	if marker := os.Getenv("ARENA_SLOW_APPLY"); marker != "" && filepath.Base(os.Args[0]) == localadapter.BinaryName {
		wd, _ := os.Getwd()
		if err := adaptersdk.Serve(slowApply{&localadapter.Provider{BaseDir: wd, Version: version}, marker}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv("ARENA_TEST_ACTION") == "1" {
		main()
	}
}

// slowApply is the reference adapter whose apply says it started, then
// takes an hour.
type slowApply struct {
	*localadapter.Provider
	marker string
}

func (p slowApply) Apply(ctx context.Context, _ *deploy.PlanRequest, _ deploy.ApplyCallback) (string, error) {
	_ = os.WriteFile(p.marker, []byte("applying"), 0o644)
	select {
	case <-ctx.Done():
	case <-time.After(time.Hour):
	}
	return "", ctx.Err()
}

// TestSIGTERMDuringApply: the runner cancels the job while the adapter
// applies. The action is a real process receiving SIGTERM; the comment
// must not stay "applying": the final report gets its grace period, and
// the run ends with failure-reason cancelled.
func TestSIGTERMDuringApply(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, localadapter.BinaryName)); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "applying")
	h.env["PATH"] = bin + string(os.PathListSeparator) + h.env["PATH"]
	h.env["ARENA_SLOW_APPLY"] = marker
	// The test binary is another adapter binary than the plan's.
	env, step, err := h.runner.Environ(map[string]string{"allow-adapter-change": "true"})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(env, "ARENA_TEST_ACTION=1")
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for applying := false; !applying; {
		select {
		case err := <-done:
			t.Fatalf("the action ended (%v) before the adapter applied:\n%s", err, log.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("the adapter never started applying:\n%s", log.String())
		case <-time.After(20 * time.Millisecond):
			_, err := os.Stat(marker)
			applying = err == nil
		}
	}
	if c := h.gh.Comments(pr.Number); !strings.Contains(c[0].Body, "pplying") {
		t.Fatalf("the comment did not say applying before the cancellation: %s", c[0].Body)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(10 * time.Second): // the runner kills the step 10 s after its first signal
		_ = cmd.Process.Kill()
		t.Fatalf("still running 10 s after SIGTERM:\n%s", log.String())
	}
	var exit *exec.ExitError
	if !errorsAs(err, &exit) || exit.ExitCode() != exitFailure {
		t.Fatalf("exit %v after %s:\n%s", err, time.Since(start), log.String())
	}
	outputs, err := step.Outputs()
	if err != nil || outputs["failure-reason"] != "cancelled" || outputs["applied"] != "false" {
		t.Fatalf("outputs %v %v:\n%s", outputs, err, log.String())
	}
	body := h.gh.Comments(pr.Number)[0].Body
	if strings.Contains(body, "pplying the reviewed plan") || !strings.Contains(body, "cancelled") {
		t.Errorf("the comment was not updated after the cancellation:\n%s", body)
	}
	if !strings.Contains(step.Summary(), "cancelled") {
		t.Errorf("no summary of the cancelled run:\n%s", step.Summary())
	}
	if h.anyState() {
		t.Error("a state was written for an apply that was stopped")
	}
	// The cancelled run freed its deploy lock: the next run need not wait
	// for it to expire.
	if _, ok := h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", "default").StateDir()+"/lock.json"); ok {
		t.Error("the cancelled run left its deploy lock behind")
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestPlanCancelledWhileCommenting: the runner cancels a plan (SIGINT,
// here its context) while it creates the pull request comment. The plan
// may be uploaded, but the run was stopped: it ends failed, with
// failure-reason cancelled, never green.
func TestPlanCancelledWhileCommenting(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.gh.Inject("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", ghemu.Fault{Before: cancel, Reset: true})
	r := h.runCtx(ctx, nil)
	if r.code != exitFailure || r.outputs["failure-reason"] != "cancelled" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if !strings.Contains(r.summary, "cancelled") {
		t.Errorf("the summary does not say the run was cancelled:\n%s", r.summary)
	}
}
