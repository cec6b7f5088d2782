package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
)

// harness runs the action as the runner would: environment variables,
// event file, output and summary files, the emulator as GitHub, and the
// reference adapter on PATH.
type harness struct {
	t         *testing.T
	gh        *ghemu.Server
	workspace string
	binDir    string
	env       map[string]string
}

func newHarness(t *testing.T, opts ...ghemu.Options) *harness {
	t.Helper()
	h := &harness{t: t, gh: ghemu.New(t, opts...), workspace: deploytest.CopyExample(t), binDir: t.TempDir()}
	clock = h.gh.Now // GitHub's clock and the runner's agree
	t.Cleanup(func() { clock = time.Now })
	if err := os.Symlink(deploytest.LocalAdapter(t), filepath.Join(h.binDir, "promptarena-deploy-local")); err != nil {
		t.Fatal(err)
	}
	h.env = map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": ghemu.DefaultOwner + "/" + ghemu.DefaultRepo,
		"GITHUB_API_URL": h.gh.URL, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKSPACE": h.workspace,
		"INPUT_GITHUB-TOKEN": ghemu.DefaultToken, "ACTIONS_RESULTS_URL": h.gh.ResultsURL(),
		"PATH": h.binDir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME": t.TempDir(),
	}
	return h
}

// pullRequest makes the context of a pull_request run for pr.
func (h *harness) pullRequest(pr *ghemu.Pull) *ghemu.Run {
	run := h.gh.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: pr.HeadSHA, HeadRepo: pr.HeadRepo})
	headRepo := pr.HeadRepo
	if headRepo == "" {
		headRepo = ghemu.DefaultOwner + "/" + ghemu.DefaultRepo
	}
	h.event("pull_request", run, "merge-of-"+pr.HeadSHA, map[string]any{
		"number": pr.Number,
		"pull_request": map[string]any{"number": pr.Number,
			"head": map[string]any{"sha": pr.HeadSHA, "repo": map[string]any{"full_name": headRepo}},
			"base": map[string]any{"sha": "base000", "ref": "main"}},
	})
	return run
}

func (h *harness) event(name string, run *ghemu.Run, sha string, payload map[string]any) {
	path := filepath.Join(h.t.TempDir(), "event.json")
	b, _ := json.Marshal(payload)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.env["GITHUB_EVENT_NAME"], h.env["GITHUB_EVENT_PATH"], h.env["GITHUB_SHA"] = name, path, sha
	h.env["GITHUB_RUN_ID"], h.env["GITHUB_RUN_ATTEMPT"] = fmt.Sprint(run.ID), fmt.Sprint(run.Attempt)
	h.env["ACTIONS_RUNTIME_TOKEN"] = h.gh.RuntimeToken(run)
}

// result is one run of the action.
type result struct {
	code    int
	outputs map[string]string
	summary string
	log     string
}

func (h *harness) run(inputs map[string]string) result {
	h.t.Helper()
	dir := h.t.TempDir()
	out, sum := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	for _, f := range []string{out, sum} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
	env := []string{"GITHUB_OUTPUT=" + out, "GITHUB_STEP_SUMMARY=" + sum}
	for k, v := range h.env {
		env = append(env, k+"="+v)
	}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	var log syncBuffer
	code := realMain(context.Background(), nil, env, &log, &log)
	summary, _ := os.ReadFile(sum)
	return result{code: code, outputs: readOutputs(h.t, out), summary: string(summary), log: log.String()}
}

// readOutputs parses GITHUB_OUTPUT's heredoc format.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
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
	return out
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
func (h *harness) push(sha, message string) *ghemu.Run {
	run := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: sha, HeadBranch: "main"})
	h.event("push", run, sha, map[string]any{"ref": "refs/heads/main", "after": sha, "head_commit": map[string]any{"id": sha, "message": message}})
	h.env["GITHUB_REF"] = "refs/heads/main"
	return run
}

// checkout copies main's state file into the workspace, as actions/checkout
// of the next run would.
func (h *harness) checkout() {
	h.t.Helper()
	if b, ok := h.gh.GetFile("main", ".promptarena/deploy.state"); ok {
		h.writeFile(".promptarena/deploy.state", string(b))
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
	for _, a := range h.gh.Artifacts() {
		if a.Name != from {
			continue
		}
		files := h.artifactFiles(a.ID)
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
