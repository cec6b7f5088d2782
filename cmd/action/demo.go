//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/evalresults/evaltest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
	"github.com/arena-deploy/arena-deploy-action/internal/report/reporttest"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// demo runs the whole journey on the bundled example: a pull request is
// planned, merged and applied, its status is read, a second pull request
// changes a prompt, and its apply is refused because the pack changed on
// main after the review. Each step is shown as a person sees it on GitHub
// (the log with its commands executed, the outputs, the comment or
// summary), and the state decoded. GitHub is the in-repo emulator on
// loopback and the adapter is the reference one: no network, no cloud, no
// prior build.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors in the CLI's words, below
	example := fs.String("example", filepath.Join(deploytest.RepoRoot(), "testdata", "example"), "arena project to deploy")
	keep := fs.Bool("keep", false, "keep the demo's working directory")
	const usage = "usage: arena-deploy demo [--keep] [--example <dir>]\n" +
		"  --keep            keep the demo's temporary directory (its repository, runner files and deployed prompts)\n" +
		"  --example <dir>   the arena project to deploy (default: testdata/example of this repository)"
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(stdout, usage)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "arena-deploy: demo: %s\n%s\n", flagError(err), usage)
		return exitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "arena-deploy: demo: unexpected argument %q\n%s\n", fs.Arg(0), usage)
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

// The demo's commits: pull request heads and what lands on main.
const (
	demoHead1   = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
	demoMerge1  = "f00dfeedcafe0123456789abcdef0123456789ab"
	demoHead2   = "0badc0de0badc0de0badc0de0badc0de0badc0de"
	demoHotfix  = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
	demoMerge2  = "decade00decade00decade00decade00decade00"
	demoHead3   = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"
	demoMerge3  = "facade00facade00facade00facade00facade00"
	demoEnv     = "production"
	demoPackRel = "support-bot.pack.json"
)

func (d *demoRun) journey(ctx context.Context, w io.Writer) error {
	// Every run evaluates the pack first (promptarena's results, as its test
	// action writes them to out/); apply refuses a case that passed at the
	// last apply and fails now.
	prod := map[string]string{"environment": demoEnv, "evaluations": "out", "evaluation-policy": "no-regressions"}
	fmt.Fprintln(w, "arena-deploy-action, start to finish: three pull requests to one environment, two of them refused.")
	fmt.Fprintln(w, "GitHub is an emulator on loopback and the adapter the reference one, which deploys into a folder.")
	fmt.Fprintln(w, "Each job first evaluates the pack with promptarena (its results stand in here) and hands them over.")
	fmt.Fprintln(w, "Each run is shown as GitHub shows it: its log (│), its outputs, the pull request's comment (║)")
	fmt.Fprintln(w, "or the job summary (┃). $DEMO is the demo's temporary directory.")

	heading(w, "1. Pull request #1 adds a support bot: the action plans it and comments")
	explain(w, "The plan is what the adapter would do; the comment is the review. The plan is saved as an artifact.")
	// main holds only a README before #1, which adds the project.
	d.gh.SetFile("main", "README.md", []byte("# app\n"))
	pr := d.gh.AddPull(ghemu.Pull{Title: "Deploy the support bot", HeadSHA: demoHead1, HeadRef: "support-bot", BaseSHA: d.gh.Head("main")})
	if _, err := d.runner.PullRequest(pr); err != nil {
		return err
	}
	if err := d.evaluate(evaltest.Base); err != nil {
		return err
	}
	if _, err := d.step(ctx, w, prod, 0); err != nil {
		return err
	}
	d.showComment(w, pr.Number)

	heading(w, "2. Pull request #1 is merged: the action applies exactly the reviewed plan")
	explain(w, "It locks production, finds #1's plan, checks that the pack, config, adapter and deployed")
	explain(w, "state still match it, applies it, and records the new state on a branch of its own, with the")
	explain(w, "merge's own evaluation results beside it: the baseline the next pull requests compare with.")
	d.gh.MergePull(pr.Number, demoMerge1)
	if _, err := d.runner.Push(demoMerge1, "Deploy the support bot (#1)"); err != nil {
		return err
	}
	if err := d.evaluate(evaltest.Base); err != nil {
		return err
	}
	st, err := d.step(ctx, w, prod, 0)
	if err != nil {
		return err
	}
	d.showComment(w, pr.Number)
	outs, err := st.Outputs()
	if err != nil {
		return err
	}
	applied, err := d.showState(w, outs["state-sha"])
	if err != nil {
		return err
	}

	heading(w, "3. Anyone can ask for the status (workflow_dispatch, command: status)")
	explain(w, "The adapter checks each deployed resource; the job summary is the report.")
	if _, err := d.runner.Dispatch(demoMerge1); err != nil {
		return err
	}
	if _, err := d.step(ctx, w, map[string]string{"environment": demoEnv, "command": "status"}, 0, summaryLines(12)); err != nil {
		return err
	}

	heading(w, "4. Pull request #2 edits a prompt: the plan shows one update and the prompt's diff")
	explain(w, "Reviewers see what changes in production and the prompt's text, compared with what is deployed.")
	pack := filepath.Join(d.runner.Workspace, demoPackRel)
	reviewedMain, err := os.ReadFile(pack)
	if err != nil {
		return err
	}
	// Pull request #1 put the pack on main: that commit is #2's base. The
	// diff compares with the pack #1's apply recorded on the state branch.
	d.gh.SetFile("main", demoPackRel, reviewedMain)
	reviewed := bytes.Replace(reviewedMain, []byte("five bullet points"), []byte("three bullet points"), 1)
	if err := os.WriteFile(pack, reviewed, 0o644); err != nil {
		return err
	}
	pr2 := d.gh.AddPull(ghemu.Pull{Title: "Shorter escalation summaries", HeadSHA: demoHead2, HeadRef: "shorter",
		BaseSHA: d.gh.Head("main"), User: "monalisa"})
	if _, err := d.runner.PullRequest(pr2); err != nil {
		return err
	}
	if err := d.evaluate(evaltest.Base, "five bullet points", "three bullet points"); err != nil {
		return err
	}
	if _, err := d.step(ctx, w, prod, 0); err != nil {
		return err
	}
	d.showComment(w, pr2.Number)

	heading(w, "5. A teammate pushes a refund-prompt edit straight to main, before #2 merges")
	explain(w, "That push runs the workflow too. No pull request, so no reviewed plan: nothing is deployed.")
	hotfix := bytes.Replace(reviewedMain, []byte(demoRefundOld), []byte(demoRefundNew), 1)
	if bytes.Equal(hotfix, reviewedMain) {
		return errors.New("the example's refund prompt changed: update the demo's edit")
	}
	d.gh.SetFile("main", demoPackRel, hotfix)
	if err := os.WriteFile(pack, hotfix, 0o644); err != nil {
		return err
	}
	if _, err := d.runner.Push(demoHotfix, "Refunds: always offer up to the limit"); err != nil {
		return err
	}
	st, err = d.step(ctx, w, prod, exitFailure)
	if err != nil {
		return err
	}
	if out, _ := st.Outputs(); out["failure-reason"] != "plan-not-found" {
		return fmt.Errorf("the direct push was not refused as plan-not-found: outputs %v", out)
	}

	heading(w, "6. Pull request #2 is merged: the pack is not the one reviewed, so the apply is refused")
	explain(w, "The merge commit's pack is #2's reviewed pack plus the teammate's edit, which nobody reviewed")
	explain(w, "in #2. The action applies nothing and says why, on the pull request.")
	merged := bytes.Replace(hotfix, []byte("five bullet points"), []byte("three bullet points"), 1)
	if err := os.WriteFile(pack, merged, 0o644); err != nil {
		return err
	}
	d.gh.MergePull(pr2.Number, demoMerge2)
	if _, err := d.runner.Push(demoMerge2, "Shorter escalation summaries (#2)"); err != nil {
		return err
	}
	if err := d.evaluate(evaltest.Base, "five bullet points", "three bullet points", demoRefundOld, demoRefundNew); err != nil {
		return err
	}
	st, err = d.step(ctx, w, prod, exitFailure)
	if err != nil {
		return err
	}
	if out, _ := st.Outputs(); out["failure-reason"] != "pack-mismatch" {
		return fmt.Errorf("the altered pack was not refused as pack-mismatch: outputs %v", out)
	}
	d.showComment(w, pr2.Number)
	now, _, _, err := d.loadState()
	if err != nil {
		return err
	}
	if now.PackChecksum != applied.PackChecksum {
		return fmt.Errorf("the refused apply changed the state: %s, was %s", now.PackChecksum, applied.PackChecksum)
	}
	deployed, err := os.ReadFile(filepath.Join(d.runner.Workspace, ".deployed", demoEnv, "prompts", "escalation.json"))
	if err != nil {
		return err
	}
	if !bytes.Contains(deployed, []byte("five bullet points")) {
		return errors.New("the refused apply changed the deployed escalation prompt")
	}
	fmt.Fprintf(w, "\nProduction is untouched: its state still records pull request #1's pack (%.19s…),\n", applied.PackChecksum)
	fmt.Fprintln(w, "and the deployed escalation prompt still asks for five bullet points.")
	explain(w, "The way forward is the hint: a pull request whose pack is main's, its plan reviewed, then merged.")

	heading(w, "7. Pull request #3 carries main's pack: its evaluation shows the refund edit's regression")
	explain(w, "The comment's evaluation section compares this pull request's results with the baseline #1's")
	explain(w, "apply recorded: the refund scenario passed then and fails now, above the prompts' diff.")
	d.gh.SetFile("main", demoPackRel, merged)
	pr3 := d.gh.AddPull(ghemu.Pull{Title: "Deploy main's prompts", HeadSHA: demoHead3, HeadRef: "deploy-main", BaseSHA: d.gh.Head("main")})
	if _, err := d.runner.PullRequest(pr3); err != nil {
		return err
	}
	if err := d.evaluate(evaltest.PR, "five bullet points", "three bullet points", demoRefundOld, demoRefundNew); err != nil {
		return err
	}
	st, err = d.step(ctx, w, prod, 0)
	if err != nil {
		return err
	}
	if out, _ := st.Outputs(); out["evaluation-verdict"] != "blocked" || out["evaluation-newly-failing"] == "0" {
		return fmt.Errorf("the regression was not shown: outputs %v", out)
	}
	d.showCommentPart(w, pr3.Number, "#### Evaluations", "#### Prompts")

	heading(w, "8. Pull request #3 is merged: its own evaluation regresses, so the apply is refused")
	explain(w, "Apply gates on the results the merge's own run wrote, never the pull request's. Nothing is deployed;")
	explain(w, "a release owner who must ship anyway runs it by hand with evaluation-override, which is recorded.")
	d.gh.MergePull(pr3.Number, demoMerge3)
	if _, err := d.runner.Push(demoMerge3, "Deploy main's prompts (#3)"); err != nil {
		return err
	}
	if err := d.evaluate(evaltest.PR, "five bullet points", "three bullet points", demoRefundOld, demoRefundNew); err != nil {
		return err
	}
	st, err = d.step(ctx, w, prod, exitFailure)
	if err != nil {
		return err
	}
	if out, _ := st.Outputs(); out["failure-reason"] != "evaluation-blocked" {
		return fmt.Errorf("the regression was not refused as evaluation-blocked: outputs %v", out)
	}
	d.showCommentPart(w, pr3.Number, "> [!CAUTION]", "Compared with")
	if now, _, _, err := d.loadState(); err != nil || now.PackChecksum != applied.PackChecksum {
		return fmt.Errorf("the refused apply changed the state (%v)", err)
	}
	fmt.Fprintln(w, "\nProduction is still pull request #1's: the refund prompt that regressed was never deployed.")

	heading(w, "The end")
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

type stepOption func(*stepView)

type stepView struct{ summary int }

// summaryLines shows the first n lines of the step's job summary.
func summaryLines(n int) stepOption { return func(v *stepView) { v.summary = n } }

// step runs the action once, as the runner would, and shows what a person
// sees of it on GitHub: its log (commands executed, not printed), the
// outputs the runner collected and, if asked, the job summary's start.
// want is the exit code the story expects.
func (d *demoRun) step(ctx context.Context, w io.Writer, inputs map[string]string, want int, opts ...stepOption) (*ghemu.Step, error) {
	var v stepView
	for _, o := range opts {
		o(&v)
	}
	env, st, err := d.runner.Environ(inputs)
	if err != nil {
		return nil, err
	}
	var log bytes.Buffer
	code := realMain(ctx, nil, env, &log, &log)
	fmt.Fprintln(w, "The step's log:")
	for _, line := range reporttest.View(log.String()) {
		fmt.Fprintln(w, "  │ "+d.tidy(line))
	}
	if code != want {
		return st, fmt.Errorf("the action exited %d, the story expects %d; its log is above", code, want)
	}
	outs, err := orderedOutputs(st.OutputPath)
	if err != nil {
		return st, err
	}
	fmt.Fprintln(w, "Its outputs (steps.<id>.outputs; empty ones left out):")
	for _, line := range wrapPairs(outs, 100) {
		fmt.Fprintln(w, "  "+line)
	}
	if v.summary > 0 {
		lines := strings.Split(strings.TrimSpace(st.Summary()), "\n")
		fmt.Fprintf(w, "Its job summary (the first %d of %d lines):\n", min(v.summary, len(lines)), len(lines))
		for _, l := range asShown(lines[:min(v.summary, len(lines))]) {
			fmt.Fprintln(w, "  ┃ "+d.tidy(l))
		}
	}
	return st, nil
}

// The teammate's refund edit of step 5.
const (
	demoRefundOld = "Never promise a refund above"
	demoRefundNew = "Always offer a refund up to"
)

// evaluate writes the results of the job's evaluation step, as
// promptarena's test action leaves them in out/: the fixture promptarena
// run wrote for the example's prompts, edited as the pack under test is
// (old, new pairs), for one provider in one region and the scenarios the
// story needs.
func (d *demoRun) evaluate(fixture string, replace ...string) error {
	return evaltest.Write(filepath.Join(d.runner.Workspace, "out"), fixture, evaltest.Options{Replace: replace,
		Keep: evaltest.Only(evaltest.MainUS, "greet", "refund-limit", "escalation-summary")})
}

// tidy shortens the demo's temporary directory, which means nothing to a
// reader.
func (d *demoRun) tidy(s string) string {
	return strings.ReplaceAll(s, d.dir, "$DEMO")
}

type output struct{ name, value string }

// orderedOutputs reads GITHUB_OUTPUT (heredoc entries) in the order the
// action wrote it, which groups related outputs.
func orderedOutputs(path string) ([]output, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the step's outputs: %w", err)
	}
	var out []output
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		v := strings.Join(val, "\n")
		// Written twice, the runner keeps the last value.
		if i := slices.IndexFunc(out, func(o output) bool { return o.name == name }); i >= 0 {
			out[i].value = v
			continue
		}
		out = append(out, output{name, v})
	}
	return slices.DeleteFunc(out, func(o output) bool { return o.value == "" }), nil
}

// wrapPairs lays name=value pairs out on lines of about width columns.
func wrapPairs(outs []output, width int) []string {
	var lines []string
	var cur string
	for _, o := range outs {
		pair := o.name + "=" + strings.ReplaceAll(o.value, "\n", `\n`)
		if cur != "" && len(cur)+3+len(pair) > width {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += "   "
		}
		cur += pair
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// showComment prints the pull request's comment as GitHub shows it: the
// hidden marker left out, closed <details> folded to their summary.
func (d *demoRun) showComment(w io.Writer, pr int) {
	cs := d.gh.Comments(pr)
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "The comment on pull request #%d (▸ is a folded section):\n", pr)
	for _, l := range renderComment(cs[len(cs)-1].Body) {
		fmt.Fprintln(w, "  ║ "+d.tidy(l))
	}
}

// showCommentPart shows the lines of the pull request's comment from the
// first that starts with from to the first after it that starts with to.
func (d *demoRun) showCommentPart(w io.Writer, pr int, from, to string) {
	cs := d.gh.Comments(pr)
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "The comment on pull request #%d, from %q:\n", pr, strings.TrimSpace(from))
	in := false
	for _, l := range renderComment(cs[len(cs)-1].Body) {
		switch {
		case !in && strings.HasPrefix(l, from):
			in = true
		case in && strings.HasPrefix(l, to):
			fmt.Fprintln(w, "  ║ …")
			return
		}
		if in {
			fmt.Fprintln(w, "  ║ "+d.tidy(l))
		}
	}
}

var (
	hiddenLine  = regexp.MustCompile(`^<!--.*-->$`)
	detailsOpen = regexp.MustCompile(`^<details( open)?><summary>(.*)</summary>$`)
	inlineTags  = strings.NewReplacer("<code>", "`", "</code>", "`", "<sub>", "", "</sub>", "")
)

// renderComment reads a comment's Markdown as a person sees it on GitHub,
// where it matters for following the story: HTML comments are invisible,
// a <details> without open shows only its summary, inline tags are
// formatting. Blank lines do not pile up.
func renderComment(body string) []string {
	var out []string
	closed := 0 // depth inside folded <details>
	depth := 0  // depth of open <details>, whose closing tags are dropped
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		t := strings.TrimSpace(l)
		if m := detailsOpen.FindStringSubmatch(t); m != nil {
			if closed > 0 {
				closed++
				continue
			}
			if m[1] == "" {
				out = append(out, "▸ "+inlineTags.Replace(m[2]))
				closed = 1
				continue
			}
			out = append(out, "▾ "+inlineTags.Replace(m[2]))
			depth++
			continue
		}
		if t == "</details>" {
			switch {
			case closed > 0:
				closed--
			case depth > 0:
				depth--
			}
			continue
		}
		if closed > 0 || hiddenLine.MatchString(t) {
			continue
		}
		l = inlineTags.Replace(l)
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	return asShown(out)
}

// asShown is Markdown lines with their text as GitHub shows it: entities
// as the characters they stand for, no backslash escapes, no zero-width
// characters (invisible there, but a copied file:// link with one does not
// work); code blocks are left as they are, as GitHub shows them.
func asShown(lines []string) []string {
	out := make([]string, len(lines))
	fence := ""
	for i, l := range lines {
		out[i] = l
		if m := fenceLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil && (fence == "" || strings.TrimSpace(l) == fence) {
			if fence == "" {
				fence = m[1]
			} else {
				fence = ""
			}
			continue
		}
		if fence == "" {
			out[i] = plainText(l)
		}
	}
	return out
}

// stateLocation is where a state file is: a path on a branch.
type stateLocation struct{ branch, path string }

func (l stateLocation) String() string { return l.path + " on branch " + l.branch }

// loadState finds production's state where the action keeps it: its
// decoded form, its bytes and where that is.
func (d *demoRun) loadState() (*deploy.State, []byte, stateLocation, error) {
	key := target.New(".", "arena.yaml", demoEnv)
	places := []stateLocation{
		// The state branch by default; a committed file on main (the
		// legacy place) otherwise.
		{inputDefaults["state-branch"], path.Join(key.StateDir(), deploy.StateFile)},
		{"main", path.Join(deploy.DirName, deploy.StateFile)},
	}
	for _, p := range places {
		raw, ok := d.gh.GetFile(p.branch, p.path)
		if !ok {
			continue
		}
		var st deploy.State
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, nil, p, fmt.Errorf("the state at %s: %w", p, err)
		}
		return &st, raw, p, nil
	}
	return nil, nil, stateLocation{}, errors.New("no state was written")
}

// showState prints where the state is, the commit that wrote it (the
// apply's state-sha output) and the state file with the adapter's opaque
// state decoded.
func (d *demoRun) showState(w io.Writer, stateSHA string) (*deploy.State, error) {
	sf, raw, loc, err := d.loadState()
	if err != nil {
		return nil, err
	}
	dir := path.Dir(loc.path)
	fmt.Fprintf(w, "The deploy state is kept in %s/ on branch %s", dir, loc.branch)
	for _, c := range d.gh.Commits(loc.branch) {
		if c.SHA == stateSHA {
			fmt.Fprintf(w, ",\ncommitted as %q (%.7s, the state-sha output)", c.Message, c.SHA)
		}
	}
	fmt.Fprintln(w, ":")
	files := []struct{ name, what string }{
		{path.Base(loc.path), "PromptKit's state file, below"},
		{state.RecordFile, "the action's record: serial, applied commit, plan id"},
		{state.DeployedPackFile, "the pack applied, which the next plans diff against"},
		{state.LockRecordFile, "the lock, while a run holds it"},
	}
	for _, f := range files {
		if _, ok := d.gh.GetFile(loc.branch, path.Join(dir, f.name)); ok {
			fmt.Fprintf(w, "  %-20s %s\n", f.name, f.what)
		}
	}
	fmt.Fprintf(w, "%s:\n", path.Base(loc.path))
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "  ", "  "); err != nil {
		return nil, fmt.Errorf("the state at %s: %w", loc, err)
	}
	text := pretty.String()
	opaque := sf.State
	if opaque != "" {
		quoted, _ := json.Marshal(opaque)
		text = strings.Replace(text, string(quoted), fmt.Sprintf("<%d characters of base64: the adapter's own state, decoded below>", len(opaque)), 1)
	}
	fmt.Fprintln(w, "  "+text)
	if opaque == "" {
		return sf, nil
	}
	dec, err := base64.StdEncoding.DecodeString(opaque)
	if err != nil {
		return nil, fmt.Errorf("the state's adapter state is not base64: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, dec, "  ", "  "); err != nil {
		buf.Reset()
		buf.Write(dec) // not JSON: the adapter's business, shown as is
	}
	fmt.Fprintln(w, "The adapter's state, decoded (only the adapter reads it; the action keeps it safe):")
	fmt.Fprintln(w, "  "+d.tidy(buf.String()))
	return sf, nil
}

func heading(w io.Writer, s string) {
	fmt.Fprintf(w, "\n━━━ %s\n", s)
}

func explain(w io.Writer, s string) {
	fmt.Fprintln(w, "    "+s)
}
