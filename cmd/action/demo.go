//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// demo runs the whole journey on the bundled example: a pull request is
// planned, merged and applied, then its status is read and a second pull
// request changes a prompt. GitHub is the in-repo emulator on loopback and
// the adapter is the reference one: no network, no cloud, no prior build.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	example := fs.String("example", filepath.Join(deploytest.RepoRoot(), "testdata", "example"), "arena project to deploy")
	keep := fs.Bool("keep", false, "keep the demo's working directory")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	d, err := newDemo(*example)
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return exitFailure
	}
	defer d.close(*keep, stdout)
	if err := d.journey(ctx, stdout); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return exitFailure
	}
	return exitOK
}

type demoRun struct {
	gh     *ghemu.Server
	runner *ghemu.Runner
	dir    string
}

func newDemo(example string) (*demoRun, error) {
	if _, err := os.Stat(filepath.Join(example, "arena.yaml")); err != nil {
		return nil, fmt.Errorf("no example project at %s (run from the repository, or pass --example): %w", example, err)
	}
	dir, err := os.MkdirTemp("", "arena-deploy-demo-")
	if err != nil {
		return nil, err
	}
	ws, bin, tmp := filepath.Join(dir, "repo"), filepath.Join(dir, "bin"), filepath.Join(dir, "runner")
	for _, p := range []string{bin, tmp} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.CopyFS(ws, os.DirFS(example)); err != nil {
		return nil, err
	}
	// This binary is the reference adapter when called by its name.
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := os.Symlink(self, filepath.Join(bin, localadapter.BinaryName)); err != nil {
		return nil, err
	}
	_, specErr := os.Stat(ghemu.SpecPath())
	gh := ghemu.New(nil, ghemu.Options{NoValidation: specErr != nil})
	runner := gh.NewRunner(ws, tmp)
	runner.Env["PATH"] = bin + string(os.PathListSeparator) + os.Getenv("PATH")
	runner.Env["HOME"] = dir
	clock = gh.Now
	return &demoRun{gh: gh, runner: runner, dir: dir}, nil
}

func (d *demoRun) close(keep bool, w io.Writer) {
	d.gh.Close()
	if keep {
		fmt.Fprintf(w, "\nThe demo's files are in %s\n", d.dir)
		return
	}
	_ = os.RemoveAll(d.dir)
}

func (d *demoRun) journey(ctx context.Context, w io.Writer) error {
	heading(w, "1. Pull request #1 opened: the action plans and comments")
	// main holds only a README before #1, which adds the project.
	d.gh.SetFile("main", "README.md", []byte("# app\n"))
	pr := d.gh.AddPull(ghemu.Pull{Title: "Deploy the support bot", HeadSHA: "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0", HeadRef: "support-bot",
		BaseSHA: d.gh.Head("main")})
	if _, err := d.runner.PullRequest(pr); err != nil {
		return err
	}
	if _, err := d.step(ctx, w, map[string]string{"environment": "production"}); err != nil {
		return err
	}
	d.showComment(w, pr.Number)

	heading(w, "2. Merged (squash): the action locks the target, verifies the reviewed plan, applies it, commits the state to its branch")
	d.gh.MergePull(pr.Number, "f00dfeedcafe0123456789abcdef0123456789ab")
	if _, err := d.runner.Push("f00dfeedcafe0123456789abcdef0123456789ab", "Deploy the support bot (#1)"); err != nil {
		return err
	}
	if _, err := d.step(ctx, w, map[string]string{"environment": "production"}); err != nil {
		return err
	}
	d.showComment(w, pr.Number)
	for _, c := range d.gh.Commits("arena-deploy-state") {
		fmt.Fprintf(w, "Commit on arena-deploy-state: %q\n", c.Message)
	}

	heading(w, "3. Status of production")
	if err := d.runner.Checkout(".promptarena/deploy.state"); err != nil {
		return err
	}
	if _, err := d.runner.Dispatch("f00dfeedcafe0123456789abcdef0123456789ab"); err != nil {
		return err
	}
	st, err := d.step(ctx, w, map[string]string{"environment": "production", "command": "status"})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, st.Summary())

	heading(w, "4. Pull request #2 edits a prompt: the plan shows one update and the prompt's diff")
	pack := filepath.Join(d.runner.Workspace, "support-bot.pack.json")
	b, err := os.ReadFile(pack)
	if err != nil {
		return err
	}
	// Pull request #1 put the pack on main: that commit is #2's base. The
	// diff compares with the pack #1's apply recorded on the state branch.
	d.gh.SetFile("main", "support-bot.pack.json", b)
	if err := os.WriteFile(pack, bytes.Replace(b, []byte("five bullet points"), []byte("three bullet points"), 1), 0o644); err != nil {
		return err
	}
	pr2 := d.gh.AddPull(ghemu.Pull{Title: "Shorter escalation summaries", HeadSHA: "0badc0de0badc0de0badc0de0badc0de0badc0de", HeadRef: "shorter",
		BaseSHA: d.gh.Head("main"), User: "monalisa"})
	if _, err := d.runner.PullRequest(pr2); err != nil {
		return err
	}
	if _, err := d.step(ctx, w, map[string]string{"environment": "production"}); err != nil {
		return err
	}
	d.showComment(w, pr2.Number)

	dir := target.New(".", "arena.yaml", "production").StateDir()
	heading(w, "Final state: "+dir+"/deploy.state on the branch arena-deploy-state")
	state, _ := d.gh.GetFile("arena-deploy-state", dir+"/deploy.state")
	fmt.Fprintln(w, string(state))
	if v := d.gh.Violations(); len(v) > 0 {
		return fmt.Errorf("%d requests broke GitHub's API contract, first: %+v", len(v), v[0])
	}
	rest := 0
	for _, r := range d.gh.Requests() {
		if strings.HasPrefix(r.Path, "/repos/") {
			rest++
		}
	}
	fmt.Fprintf(w, "%d requests to the emulator; the %d REST calls among them were checked against GitHub's OpenAPI description.\n", len(d.gh.Requests()), rest)
	return nil
}

// step runs the action once and shows its log indented.
func (d *demoRun) step(ctx context.Context, w io.Writer, inputs map[string]string) (*ghemu.Step, error) {
	env, st, err := d.runner.Environ(inputs)
	if err != nil {
		return nil, err
	}
	var log bytes.Buffer
	code := realMain(ctx, nil, env, &log, &log)
	for _, line := range strings.Split(strings.TrimRight(log.String(), "\n"), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			fmt.Fprintln(w, "  │ "+line)
		}
	}
	if code != 0 {
		return st, errors.New("the action failed; its log is above")
	}
	return st, nil
}

func (d *demoRun) showComment(w io.Writer, pr int) {
	cs := d.gh.Comments(pr)
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nThe comment on pull request #%d:\n\n%s\n", pr, cs[len(cs)-1].Body)
}

func heading(w io.Writer, s string) {
	fmt.Fprintf(w, "\n━━━ %s\n\n", s)
}
