package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// harness runs the action as the runner would (ghemu.Runner), with the
// reference adapter on PATH.
type harness struct {
	t         *testing.T
	gh        *ghemu.Server
	runner    *ghemu.Runner
	workspace string
	env       map[string]string
	// hk, when set, is this harness's own clock and wait (newIsolated):
	// its runs leave the package's alone, so tests can run in parallel.
	hk *hooks
}

func newHarness(t *testing.T, opts ...ghemu.Options) *harness {
	t.Helper()
	h := newIsolated(t, opts...)
	h.hk = nil
	clock = h.gh.Now // GitHub's clock and the runner's agree
	sleep = func(context.Context, time.Duration) error { return nil }
	t.Cleanup(func() { clock, sleep = time.Now, nil })
	return h
}

// newIsolated is a harness whose runs use its own clock and instant waits,
// for tests that run in parallel.
func newIsolated(t *testing.T, opts ...ghemu.Options) *harness {
	t.Helper()
	gh := ghemu.New(t, opts...)
	ws := deploytest.CopyExample(t)
	runner := gh.NewRunner(ws, t.TempDir())
	h := &harness{t: t, gh: gh, runner: runner, workspace: ws, env: runner.Env}
	binDir := t.TempDir()
	if err := os.Symlink(deploytest.LocalAdapter(t), filepath.Join(binDir, "promptarena-deploy-local")); err != nil {
		t.Fatal(err)
	}
	h.env["PATH"] = binDir + string(os.PathListSeparator) + os.Getenv("PATH")
	h.env["HOME"] = t.TempDir()
	h.hk = &hooks{now: gh.Now, sleep: func(context.Context, time.Duration) error { return nil }}
	return h
}

func (h *harness) must(run *ghemu.Run, err error) *ghemu.Run {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
	return run
}

// pullRequest makes the context of a pull_request run for pr.
func (h *harness) pullRequest(pr *ghemu.Pull) *ghemu.Run { return h.must(h.runner.PullRequest(pr)) }

// result is one run of the action.
type result struct {
	code    int
	outputs map[string]string
	summary string
	log     string
}

func (h *harness) run(inputs map[string]string) result {
	h.t.Helper()
	return h.runCtx(context.Background(), inputs)
}

// runCtx runs the action with ctx: cancelling it is the runner's SIGINT.
func (h *harness) runCtx(ctx context.Context, inputs map[string]string) result {
	h.t.Helper()
	env, step, err := h.runner.Environ(inputs)
	if err != nil {
		h.t.Fatal(err)
	}
	var log syncBuffer
	var code int
	if h.hk != nil {
		code = runMain(ctx, *h.hk, nil, env, &log, &log)
	} else {
		code = realMain(ctx, nil, env, &log, &log)
	}
	outputs, err := step.Outputs()
	if err != nil {
		h.t.Fatal(err)
	}
	return result{code: code, outputs: outputs, summary: step.Summary(), log: log.String()}
}

// artifactFiles downloads an artifact through REST, as a later run would.
func (h *harness) artifactFiles(id int64) map[string][]byte {
	h.t.Helper()
	f := artifacts.NewFinder(h.gh.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo, h.gh.Client())
	data, err := f.Download(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	files, err := artifacts.Unzip(data, artifacts.DefaultLimits)
	if err != nil {
		h.t.Fatal(err)
	}
	return files
}

// rawZip returns all bytes of an artifact's zip, entries decompressed.
func rawZip(t *testing.T, data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		all.Write(b)
	}
	return all.String()
}

func (h *harness) writeFile(rel, content string) {
	h.t.Helper()
	p := filepath.Join(h.workspace, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncBuffer is the log: the action and the adapter's stderr copier write
// to it from different goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// merge merges pr as commit sha (merge, squash and rebase all associate
// the commit with the pull request) and makes the push run's context.
func (h *harness) merge(pr *ghemu.Pull, sha, message string) *ghemu.Run {
	h.gh.MergePull(pr.Number, sha)
	return h.push(sha, message)
}

// push makes the context of a push to main.
func (h *harness) push(sha, message string) *ghemu.Run { return h.must(h.runner.Push(sha, message)) }

// stateBranch is the state branch's default name.
const stateBranch = "arena-deploy-state"

// stateOf is the deploy.state of a target (working-directory, arena.yaml,
// env) on the state branch.
func (h *harness) stateOf(workdir, env string) ([]byte, bool) {
	return h.gh.GetFile(stateBranch, target.New(workdir, "arena.yaml", env).StateDir()+"/deploy.state")
}

// anyState says whether any target has a state on the state branch or main.
func (h *harness) anyState() bool {
	for _, env := range []string{"default", "production", "staging"} {
		if _, ok := h.stateOf(".", env); ok {
			return true
		}
	}
	_, ok := h.gh.GetFile("main", ".promptarena/deploy.state")
	return ok
}

// setStateOf replaces a target's state by hand, as someone editing the
// state branch would: record.json carries the state's bytes too.
func (h *harness) setStateOf(workdir, env string, raw []byte) {
	h.t.Helper()
	dir := target.New(workdir, "arena.yaml", env).StateDir()
	recRaw, _ := h.gh.GetFile(stateBranch, dir+"/record.json")
	var rec state.Record
	_ = json.Unmarshal(recRaw, &rec)
	rec.State = string(raw)
	b, _ := json.Marshal(rec)
	h.gh.SetFile(stateBranch, dir+"/record.json", b)
	h.gh.SetFile(stateBranch, dir+"/deploy.state", raw)
}

// checkout copies main's state file into the workspace.
func (h *harness) checkout() {
	h.t.Helper()
	if err := h.runner.Checkout(".promptarena/deploy.state"); err != nil {
		h.t.Fatal(err)
	}
}

// planPR opens (or pushes to) pr and runs the plan job for env.
func (h *harness) planPR(pr *ghemu.Pull, inputs map[string]string) result {
	h.t.Helper()
	h.pullRequest(pr)
	res := h.run(inputs)
	if res.code != 0 {
		h.t.Fatalf("plan failed: %v\n%s", res.outputs, res.log)
	}
	return res
}

// adapterTarget is the real reference adapter binary.
func (h *harness) adapterTarget() string { return deploytest.LocalAdapter(h.t) }

// renamePlanArtifact re-uploads an artifact under another name from the
// same run, as a tampering workflow could.
func (h *harness) renamePlanArtifact(from, to string) {
	h.t.Helper()
	h.reuploadArtifact(from, to, nil)
}

// reuploadArtifact re-uploads an artifact from the same run under the name
// to, with edit applied to its files first, as a tampering workflow could.
func (h *harness) reuploadArtifact(from, to string, edit func(files map[string][]byte)) {
	h.t.Helper()
	for _, a := range h.gh.Artifacts() {
		if a.Name != from {
			continue
		}
		files := h.artifactFiles(a.ID)
		if edit != nil {
			edit(files)
		}
		var list []artifacts.File
		for n, b := range files {
			list = append(list, artifacts.File{Name: n, Data: b})
		}
		var run *ghemu.Run
		for _, r := range h.gh.Runs() {
			if r.ID == a.RunID {
				run = r
			}
		}
		up, err := artifacts.NewUploader(h.gh.ResultsURL(), h.gh.RuntimeToken(run), h.gh.Client())
		if err != nil {
			h.t.Fatal(err)
		}
		if _, _, err := up.Upload(context.Background(), to, list, time.Time{}); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	h.t.Fatalf("no artifact %s", from)
}

// deployedPrompt is prompt name of the pack file as the reference adapter
// writes it: the pack's JSON for it, indented by two spaces.
func deployedPrompt(t *testing.T, packPath, name string) string {
	t.Helper()
	var pack struct {
		Prompts map[string]json.RawMessage `json:"prompts"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, packPath)), &pack); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, pack.Prompts[name], "", "  "); err != nil {
		t.Fatal(err)
	}
	return buf.String() + "\n"
}
