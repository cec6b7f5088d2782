package workflowtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/ghexpr"
)

// Action is the action under test: this repository's action.yml (its
// inputs, their defaults and its outputs, read as the runner reads them),
// run by an Executor in place of what `uses: <Repo>@<ref>` would pull.
type Action struct {
	// Repo is what `uses:` names: owner/name, any ref.
	Repo       string
	Inputs     map[string]string // declared inputs and their defaults
	InputOrder []string
	Outputs    map[string]bool
	Executor   Executor
}

// LoadAction reads root/action.yml; it must be a docker action.
func LoadAction(root, repo string, exec Executor) (*Action, error) {
	b, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		return nil, err
	}
	var meta struct {
		Inputs  yaml.Node                     `yaml:"inputs"`
		Outputs map[string]any                `yaml:"outputs"`
		Runs    struct{ Using, Image string } `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("action.yml: %w", err)
	}
	if meta.Runs.Using != "docker" {
		return nil, fmt.Errorf("action.yml: runs.using is %q, the harness runs a docker action", meta.Runs.Using)
	}
	a := &Action{Repo: repo, Inputs: map[string]string{}, Outputs: map[string]bool{}, Executor: exec}
	for name, in := range pairs(&meta.Inputs) {
		def := ""
		for k, v := range pairs(in) {
			if k == "default" {
				def = v.Value
			}
		}
		a.Inputs[name] = def
		a.InputOrder = append(a.InputOrder, name)
	}
	for name := range meta.Outputs {
		a.Outputs[name] = true
	}
	return a, nil
}

// Matches is whether `uses:` names this action (any ref or tag).
func (a *Action) Matches(uses string) bool {
	ref, _, _ := strings.Cut(uses, "@")
	return strings.EqualFold(ref, a.Repo)
}

// run runs one step of the action as the runner runs a docker action:
// INPUT_<NAME> for each declared input, the step's variables, and GitHub's
// default ones on top (they cannot be overridden); no PATH (the image has
// its own).
func (a *Action) run(jr *jobRun, full *ghexpr.Env, with, stepEnv, runner map[string]string, f stepFiles) error {
	inputs, err := resolveInputs(a.Inputs, a.InputOrder, with, full)
	if err != nil {
		return err
	}
	env := actionEnv(stepEnv, runner)
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(k, " ", "_"))] = v
	}
	var log bytes.Buffer
	code, err := a.Executor.Run(&ContainerStep{Env: env, Dirs: jr.dirs, Mounts: []string{jr.h.Cloud}, Log: &log})
	out := log.String()
	for _, s := range jr.secrets {
		if len(s) > 3 {
			out = strings.ReplaceAll(out, s, "***")
		}
	}
	jr.logf("%s", out)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("the action exited %d", code)
	}
	return nil
}

// ContainerStep is one run of a docker action: its environment (host
// paths, as the runner computes them) and the runner's directories.
type ContainerStep struct {
	Env  map[string]string
	Dirs jobDirs
	// Mounts are host directories the container sees at the same path:
	// the providers' services, reachable from any runner.
	Mounts []string
	Log    *bytes.Buffer
}

// Executor runs the action's entrypoint for one step and returns its exit
// code.
type Executor interface {
	Name() string
	Run(s *ContainerStep) (int, error)
}

// Binary runs the binary the image packages (same package, build tags and
// flags as the Dockerfile), as the container would: in the workspace, with
// exactly the step's environment, HOME the runner's _github_home, and a
// PATH holding only it and the reference adapter's link to it
// (/usr/local/bin in the image). What the image adds (a root of its own,
// paths under /github) is what internal/imagetest checks; Image runs it.
type Binary struct{ Dir string }

// Name says what runs.
func (b *Binary) Name() string { return "the binary the image packages" }

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// BuildBinary builds ./cmd/action of root once per test binary.
func BuildBinary(tb testing.TB, root string) *Binary {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "arena-workflowtest-")
		if buildErr != nil {
			return
		}
		bin := filepath.Join(buildDir, "arena-deploy")
		cmd := exec.Command("go", "build", "-tags", "nodemo,nethttpomithttp2", "-trimpath", "-o", bin, "./cmd/action")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build the action: %v\n%s", err, out)
			return
		}
		buildErr = os.Symlink("arena-deploy", filepath.Join(buildDir, "promptarena-deploy-local"))
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return &Binary{Dir: buildDir}
}

// Run runs the binary.
func (b *Binary) Run(s *ContainerStep) (int, error) {
	env := map[string]string{}
	for k, v := range s.Env {
		env[k] = v
	}
	env["PATH"] = b.Dir
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(b.Dir, "arena-deploy"))
	cmd.Dir = s.Dirs.workspace
	cmd.Env = environ(env)
	cmd.Stdout, cmd.Stderr = s.Log, s.Log
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	return 0, err
}

// Image runs the image with a container engine as the runner runs a docker
// action (src/Runner.Worker/Handlers/ContainerActionHandler.cs): the
// runner's directories mounted under /github, --workdir /github/workspace,
// each variable passed by name with its value translated to the
// container's paths, GITHUB_ACTIONS and CI, and the host's network (the
// emulator listens on localhost).
type Image struct {
	Engine, Ref string
	Flags       []string // e.g. podman's --runtime runc and ulimits here
}

// Name says what runs.
func (i *Image) Name() string { return "image " + i.Ref }

// ImageFromEnv is the image .ci/run built (ARENA_TEST_IMAGE, _ENGINE,
// _ENGINE_FLAGS, as internal/imagetest reads them), or nil.
func ImageFromEnv(tb testing.TB) *Image {
	ref := os.Getenv("ARENA_TEST_IMAGE")
	if ref == "" {
		return nil
	}
	engine := os.Getenv("ARENA_TEST_ENGINE")
	if engine == "" {
		engine = "podman"
	}
	bin, err := exec.LookPath(engine)
	if err != nil {
		tb.Fatalf("ARENA_TEST_IMAGE is set but %s is not installed: %v", engine, err)
	}
	return &Image{Engine: bin, Ref: ref, Flags: strings.Fields(os.Getenv("ARENA_TEST_ENGINE_FLAGS"))}
}

// Run runs the container.
func (i *Image) Run(s *ContainerStep) (int, error) {
	mounts := [][2]string{
		{s.Dirs.home, "/github/home"},
		{s.Dirs.workflow, "/github/workflow"},
		{s.Dirs.files, "/github/file_commands"},
		{s.Dirs.workspace, "/github/workspace"},
	}
	translate := func(v string) string {
		for _, m := range mounts {
			if v == m[0] {
				return m[1]
			}
			if strings.HasPrefix(v, m[0]+string(filepath.Separator)) {
				return m[1] + "/" + filepath.ToSlash(strings.TrimPrefix(v, m[0]+string(filepath.Separator)))
			}
		}
		return v
	}
	args := append([]string{"run", "--rm", "--label", "arena-workflowtest", "--workdir", "/github/workspace"}, i.Flags...)
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cmdEnv := os.Environ()
	for _, k := range keys {
		if k == "PATH" {
			continue
		}
		args = append(args, "-e", k)
		cmdEnv = append(cmdEnv, k+"="+translate(s.Env[k]))
	}
	args = append(args, "-e", "GITHUB_ACTIONS=true", "-e", "CI=true", "--network", "host")
	for _, m := range mounts {
		args = append(args, "-v", m[0]+":"+m[1])
	}
	for _, m := range s.Mounts {
		args = append(args, "-v", m+":"+m)
	}
	args = append(args, i.Ref)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, i.Engine, args...)
	cmd.Env = cmdEnv
	cmd.Stdout, cmd.Stderr = s.Log, s.Log
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	return 0, err
}
