package imagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// The knobs, all set by .ci/run:
//
//	ARENA_TEST_IMAGE         the image to run; the tests skip without it
//	ARENA_TEST_ENGINE        docker or podman (default podman)
//	ARENA_TEST_ENGINE_FLAGS  extra flags for `run`, space-separated (podman
//	                         here needs --runtime runc and lower ulimits)
//	ARENA_TEST_VERSION       the version the image's binary was stamped with
func engine(t *testing.T) (bin string, flags []string, image string) {
	t.Helper()
	image = os.Getenv("ARENA_TEST_IMAGE")
	if image == "" {
		t.Skip("ARENA_TEST_IMAGE is not set: `bash .ci/run` builds the image and sets it")
	}
	name := os.Getenv("ARENA_TEST_ENGINE")
	if name == "" {
		name = "podman"
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("ARENA_TEST_IMAGE is set but %s is not installed: %v", name, err)
	}
	return bin, strings.Fields(os.Getenv("ARENA_TEST_ENGINE_FLAGS")), image
}

// runner is the host side of one job: the directories actions/runner makes
// under RUNNER_TEMP and mounts into a docker action's container
// (src/Runner.Worker/Handlers/ContainerActionHandler.cs), and the emulator.
type runner struct {
	t                                      *testing.T
	gh                                     *ghemu.Server
	emu                                    *ghemu.Runner
	bin, image                             string
	flags                                  []string
	temp, home, workflow, files, workspace string
	// mounts maps host directories to the container's, in the runner's
	// order; values under them are translated like the runner does.
	mounts [][2]string
	// env is the step's `env:`, host paths and all, as a workflow sets it.
	env map[string]string
}

func newRunner(t *testing.T) *runner {
	bin, flags, image := engine(t)
	root := t.TempDir()
	r := &runner{t: t, bin: bin, flags: flags, image: image, env: map[string]string{},
		temp:      filepath.Join(root, "work", "_temp"),
		workspace: filepath.Join(root, "work", "app", "app"),
	}
	r.home = filepath.Join(r.temp, "_github_home")
	r.workflow = filepath.Join(r.temp, "_github_workflow")
	r.files = filepath.Join(r.temp, "_runner_file_commands")
	for _, d := range []string{r.home, r.workflow, r.files, filepath.Dir(r.workspace)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(r.workspace, os.DirFS(filepath.Join(deploytest.RepoRoot(), "testdata", "example"))); err != nil {
		t.Fatal(err)
	}
	r.mounts = [][2]string{
		{r.home, "/github/home"},
		{r.workflow, "/github/workflow"},
		{r.files, "/github/file_commands"},
		{r.workspace, "/github/workspace"},
	}
	r.gh = ghemu.New(t)
	// Event, output and summary files go where the runner puts its file
	// commands; the event is moved to _github_workflow in step.
	r.emu = r.gh.NewRunner(r.workspace, r.files)
	return r
}

// translate is the runner's TranslateToContainerPath: a value that is one
// of the mounted host directories, or under one, becomes the container's
// path; anything else (RUNNER_TEMP itself) is passed as it is.
func (r *runner) translate(v string) string {
	for _, m := range r.mounts {
		if v == m[0] {
			return m[1]
		}
		if strings.HasPrefix(v, m[0]+string(filepath.Separator)) {
			return m[1] + "/" + filepath.ToSlash(strings.TrimPrefix(v, m[0]+string(filepath.Separator)))
		}
	}
	return v
}

type result struct {
	code    int
	outputs map[string]string
	summary string
	log     string
	elapsed time.Duration
}

// step runs the container once, as `docker run` of a docker action step:
// --workdir /github/workspace, every variable passed as `-e NAME` with its
// translated value in the engine's environment, GITHUB_ACTIONS and CI, the
// runner's mounts, and the inputs as INPUT_* variables.
func (r *runner) step(inputs map[string]string) result {
	r.t.Helper()
	environ, st, err := r.emu.Environ(inputs)
	if err != nil {
		r.t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	// The runner writes the event to _github_workflow/event.json.
	event, err := os.ReadFile(env["GITHUB_EVENT_PATH"])
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.workflow, "event.json"), event, 0o644); err != nil {
		r.t.Fatal(err)
	}
	env["GITHUB_EVENT_PATH"] = filepath.Join(r.workflow, "event.json")
	env["HOME"] = r.home
	env["RUNNER_TEMP"] = r.temp
	env["RUNNER_OS"], env["RUNNER_ARCH"] = "Linux", "X64"
	env["GITHUB_ACTION"] = "arena"
	for k, v := range r.env {
		env[k] = v
	}
	// The runner does not pass the host's PATH: the image's ENV PATH holds.
	delete(env, "PATH")

	name := fmt.Sprintf("arena-imagetest-%d", time.Now().UnixNano())
	args := append([]string{"run", "--name", name, "--label", "arena-imagetest", "--workdir", "/github/workspace", "--rm"}, r.flags...)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cmdEnv := os.Environ()
	for _, k := range keys {
		args = append(args, "-e", k)
		cmdEnv = append(cmdEnv, k+"="+r.translate(env[k]))
	}
	args = append(args, "-e", "GITHUB_ACTIONS=true", "-e", "CI=true", "--network", "host")
	// The runner also mounts /var/run/docker.sock; only where there is one.
	if fi, err := os.Stat("/var/run/docker.sock"); err == nil && fi.Mode()&os.ModeSocket != 0 {
		args = append(args, "-v", "/var/run/docker.sock:/var/run/docker.sock")
	}
	for _, m := range r.mounts {
		args = append(args, "-v", m[0]+":"+m[1])
	}
	args = append(args, r.image)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = cmdEnv
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	err = cmd.Run()
	res := result{log: log.String(), elapsed: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("%s run: %v\n%s", r.bin, err, res.log)
	}
	if res.outputs, err = st.Outputs(); err != nil {
		r.t.Fatal(err)
	}
	res.summary = st.Summary()
	return res
}

// TestPlanAndApplyInImage is the journey of the README's workflow, run in
// the image: a pull request is planned (comment, artifact, outputs), merged
// and applied (state committed, comment updated, files deployed by the
// image's reference adapter).
func TestPlanAndApplyInImage(t *testing.T) {
	r := newRunner(t)
	pr := r.gh.AddPull(ghemu.Pull{Title: "Deploy the support bot", HeadSHA: "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0", HeadRef: "support-bot"})
	if _, err := r.emu.PullRequest(pr); err != nil {
		t.Fatal(err)
	}
	plan := r.step(map[string]string{"environment": "production"})
	t.Logf("plan in the container: %s", plan.elapsed)
	if plan.code != 0 {
		t.Fatalf("plan exited %d %v\n%s", plan.code, plan.outputs, plan.log)
	}
	o := plan.outputs
	if o["has-changes"] != "true" || o["to-create"] != "4" || o["plan-id"] == "" || o["artifact-name"] == "" || o["comment-id"] == "" {
		t.Errorf("plan outputs %v", o)
	}
	// The image's reference adapter is the link to the action binary, found
	// on the image's PATH, and reports the version the binary was stamped with.
	if !strings.Contains(plan.log, "/usr/local/bin/promptarena-deploy-local") {
		t.Errorf("the plan did not use the image's reference adapter:\n%s", plan.log)
	}
	if v := os.Getenv("ARENA_TEST_VERSION"); v != "" && !strings.Contains(plan.log, "Adapter local "+v+" ") {
		t.Errorf("the log does not show version %s:\n%s", v, plan.log)
	}
	// Workflow commands reach the runner on stdout; the token is masked.
	if !strings.Contains(plan.log, "::add-mask::"+ghemu.DefaultToken) {
		t.Errorf("the token was not masked:\n%s", plan.log)
	}
	if !strings.Contains(plan.summary, "Arena plan for **production**") {
		t.Errorf("job summary: %q", plan.summary)
	}
	cs := r.gh.Comments(pr.Number)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "+4 to create") {
		t.Fatalf("comments: %+v", cs)
	}
	var found bool
	for _, a := range r.gh.Artifacts() {
		found = found || a.Name == o["artifact-name"]
	}
	if !found {
		t.Errorf("no artifact %s in %+v", o["artifact-name"], r.gh.Artifacts())
	}

	const merge = "f00dfeedcafe0123456789abcdef0123456789ab"
	r.gh.MergePull(pr.Number, merge)
	if _, err := r.emu.Push(merge, "Deploy the support bot (#1)"); err != nil {
		t.Fatal(err)
	}
	apply := r.step(map[string]string{"environment": "production"})
	t.Logf("apply in the container: %s", apply.elapsed)
	if apply.code != 0 {
		t.Fatalf("apply exited %d %v\n%s", apply.code, apply.outputs, apply.log)
	}
	o = apply.outputs
	if o["applied"] != "true" || o["created"] != "4" || o["plan-id"] != plan.outputs["plan-id"] || o["state-sha"] == "" {
		t.Errorf("apply outputs %v", o)
	}
	// The state is committed to the state branch, under the target's folder.
	raw, ok := r.gh.GetFile("arena-deploy-state", target.New(".", "arena.yaml", "production").StateDir()+"/deploy.state")
	var state deploy.State
	if err := json.Unmarshal(raw, &state); !ok || err != nil || state.Environment != "production" || state.PackChecksum != plan.outputs["pack-checksum"] {
		t.Errorf("state on the state branch (%v): %s", err, raw)
	}
	if _, err := os.Stat(filepath.Join(r.workspace, ".deployed", "production", "prompts", "greeting.json")); err != nil {
		t.Errorf("the reference adapter did not deploy into the workspace: %v", err)
	}
	cs = r.gh.Comments(pr.Number)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "Applied") {
		t.Errorf("comment after apply: %+v", cs)
	}
}

// TestAdaptersThatCannotRunInImage: the adapters that work on a runner but
// not in the FROM scratch image fail adapter-failed (or adapter-not-found)
// naming what is missing and the fix, not exec's "no such file or
// directory" about a file that exists.
func TestAdaptersThatCannotRunInImage(t *testing.T) {
	r := newRunner(t)
	dynamic, err := exec.LookPath("true") // linked against the host's C library
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dynamic)
	if err != nil {
		t.Fatal(err)
	}
	tools := filepath.Join(r.workspace, "tools")
	if err := os.MkdirAll(tools, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"glibc-adapter": b,
		"wrapper.sh":    []byte("#!/bin/sh\nexec promptarena-deploy-local \"$@\"\n"),
	} {
		if err := os.WriteFile(filepath.Join(tools, name), content, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// An earlier step put this one in ${{ runner.temp }}: present on the
	// host, absent in the container.
	inTemp := filepath.Join(r.temp, "adapters", "promptarena-deploy-local")
	if err := os.MkdirAll(filepath.Dir(inTemp), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inTemp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name, adapter, reason string
		says                  []string
	}{
		{"a glibc-linked binary", "tools/glibc-adapter", "adapter-failed", []string{"/github/workspace/tools/glibc-adapter", "dynamically linked", "CGO_ENABLED=0"}},
		{"a shell script wrapper", "tools/wrapper.sh", "adapter-failed", []string{"script for /bin/sh", "does not exist", "static Linux binary"}},
		{"a path under RUNNER_TEMP", inTemp, "adapter-not-found", []string{"RUNNER_TEMP", "put the adapter in the workspace"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := r.gh.AddPull(ghemu.Pull{HeadSHA: fmt.Sprintf("%040d", i+1)})
			if _, err := r.emu.PullRequest(pr); err != nil {
				t.Fatal(err)
			}
			res := r.step(map[string]string{"environment": "production", "adapter": tc.adapter})
			if res.code == 0 || res.outputs["failure-reason"] != tc.reason {
				t.Fatalf("exit %d, failure-reason %q, want %s\n%s", res.code, res.outputs["failure-reason"], tc.reason, res.log)
			}
			for _, s := range tc.says {
				if !strings.Contains(res.log, s) {
					t.Errorf("the log does not say %q:\n%s", s, res.log)
				}
			}
		})
	}
}

// TestPrivateCAInImage: behind a private CA (GitHub Enterprise Server with
// an internal CA, a TLS-intercepting proxy) the compiled-in roots fail, and
// SSL_CERT_FILE naming a CA file in the workspace makes Go, in the FROM
// scratch image, trust it. The emulator is served through a TLS proxy whose
// certificate no public root signs.
func TestPrivateCAInImage(t *testing.T) {
	r := newRunner(t)
	target, err := url.Parse(r.gh.URL)
	if err != nil {
		t.Fatal(err)
	}
	tlsProxy := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	tlsProxy.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	tlsProxy.StartTLS()
	t.Cleanup(tlsProxy.Close)
	r.emu.Env["GITHUB_API_URL"] = tlsProxy.URL
	ca := filepath.Join(r.workspace, "certs", "internal-ca.pem")
	if err := os.MkdirAll(filepath.Dir(ca), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsProxy.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name, certFile string
		trusted        bool
	}{
		{"compiled-in roots refuse the private CA", "", false},
		{"SSL_CERT_FILE in the workspace trusts it", ca, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.certFile != "" {
				r.env["SSL_CERT_FILE"] = tc.certFile // ${{ github.workspace }}/certs/internal-ca.pem
			}
			pr := r.gh.AddPull(ghemu.Pull{HeadSHA: fmt.Sprintf("%040d", i+100)})
			if _, err := r.emu.PullRequest(pr); err != nil {
				t.Fatal(err)
			}
			// The plan itself needs no API call; the comment does (and
			// failing to comment is a warning, not a failure).
			res := r.step(map[string]string{"environment": "production"})
			refused := strings.Contains(res.log, "x509: certificate signed by unknown authority")
			commented := len(r.gh.Comments(pr.Number)) == 1
			if refused == tc.trusted || commented != tc.trusted || (tc.trusted && res.code != 0) {
				t.Fatalf("exit %d, certificate refused %v, commented %v; want trusted %v\n%s", res.code, refused, commented, tc.trusted, res.log)
			}
		})
	}
}
