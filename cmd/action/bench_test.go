package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff/packdifftest"
)

// benchHarness is a harness with a pack of n prompts and the emulator's
// contract check off: these benchmarks time the action, not the validator.
func benchHarness(b *testing.B, n int) *harness {
	b.Helper()
	gh := ghemu.New(nil, ghemu.Options{NoValidation: true})
	b.Cleanup(gh.Close)
	ws := b.TempDir()
	if err := os.CopyFS(ws, os.DirFS(filepath.Join(deploytest.RepoRoot(), "testdata", "example"))); err != nil {
		b.Fatal(err)
	}
	prompts := map[string]any{}
	for i := 0; i < n; i++ {
		prompts[fmt.Sprintf("prompt-%03d", i)] = map[string]any{"id": i, "system_template": "You are agent number " + fmt.Sprint(i)}
	}
	pack, _ := json.Marshal(map[string]any{"id": "bench", "version": "1.0.0", "prompts": prompts})
	if n < 0 { // a big pack of -n bytes
		pack = []byte(deploytest.BigPack(-n))
	}
	if err := os.WriteFile(filepath.Join(ws, "support-bot.pack.json"), pack, 0o644); err != nil {
		b.Fatal(err)
	}
	runner := gh.NewRunner(ws, b.TempDir())
	bin := b.TempDir()
	if err := os.Symlink(deploytest.LocalAdapter(b), filepath.Join(bin, "promptarena-deploy-local")); err != nil {
		b.Fatal(err)
	}
	runner.Env["PATH"], runner.Env["HOME"] = bin, b.TempDir()
	return &harness{gh: gh, runner: runner, workspace: ws, env: runner.Env}
}

func (h *harness) benchRun(b *testing.B, inputs map[string]string) {
	env, step, err := h.runner.Environ(inputs)
	if err != nil {
		b.Fatal(err)
	}
	var log syncBuffer
	if code := realMain(context.Background(), nil, env, &log, &log); code != 0 {
		out, _ := step.Outputs()
		b.Fatalf("exit %d %v\n%s", code, out, log.String())
	}
}

// BenchmarkPlanRun50 is a whole plan run (pull request event, 50 resources):
// config, adapter start, validate, plan, render, comment, artifact upload.
func BenchmarkPlanRun50(b *testing.B) {
	h := benchHarness(b, 50)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	if _, err := h.runner.PullRequest(pr); err != nil {
		b.Fatal(err)
	}
	h.benchRun(b, nil) // the comment exists from now on: each run edits it
	h.gh.ResetLog()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.benchRun(b, nil)
	}
	b.StopTimer()
	b.ReportMetric(float64(len(h.gh.Requests()))/float64(b.N), "requests/op")
}

// BenchmarkPlanRun9MB is a whole plan run with a 9 MB pack: the action's
// own pack handling (read, validate, digest, saved plan, artifact) plus the
// round trip through the reference adapter.
func BenchmarkPlanRun9MB(b *testing.B) {
	h := benchHarness(b, -9<<20)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	if _, err := h.runner.PullRequest(pr); err != nil {
		b.Fatal(err)
	}
	h.benchRun(b, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.benchRun(b, nil)
	}
}

// BenchmarkPlanRunProcess9MB is the same plan run as its own process, as
// the runner starts it: wall time, and the action's peak memory (VmHWM)
// against the pack's size.
func BenchmarkPlanRunProcess9MB(b *testing.B) {
	h := benchHarness(b, -9<<20)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	if _, err := h.runner.PullRequest(pr); err != nil {
		b.Fatal(err)
	}
	h.benchRun(b, nil)
	packInfo, _ := os.Stat(filepath.Join(h.workspace, "support-bot.pack.json"))
	peak := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		env, _, err := h.runner.Environ(nil)
		if err != nil {
			b.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(os.Args[0])
		cmd.Env, cmd.Stderr = append(env, "ARENA_BENCH_CHILD=1"), &stderr
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		var code, kb int
		if _, err := fmt.Sscanf(stderr.String(), "exit=%d vmhwm-kb=%d", &code, &kb); err != nil || code != 0 {
			b.Fatalf("child: %q %v", stderr.String(), err)
		}
		peak = max(peak, kb)
	}
	b.ReportMetric(float64(peak)/1024, "action-peak-MB")
	b.ReportMetric(float64(peak)*1024/float64(packInfo.Size()), "peak/pack")
}

// BenchmarkApplyRun50 is a whole apply run: find the PR and its plan,
// download, verify, apply, commit state, update the comment. Each
// iteration applies a fresh deployment (a new PR planned in setup).
func BenchmarkApplyRun50(b *testing.B) {
	h := benchHarness(b, 50)
	requests := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_ = os.RemoveAll(filepath.Join(h.workspace, ".deployed"))
		statePath := fmt.Sprintf(".promptarena/bench-%d.state", i)
		pr := h.gh.AddPull(ghemu.Pull{HeadSHA: fmt.Sprintf("head%06d", i)})
		if _, err := h.runner.PullRequest(pr); err != nil {
			b.Fatal(err)
		}
		h.benchRun(b, map[string]string{"state-path": statePath})
		sha := fmt.Sprintf("merge%06d", i)
		h.gh.MergePull(pr.Number, sha)
		if _, err := h.runner.Push(sha, "Merge"); err != nil {
			b.Fatal(err)
		}
		h.gh.ResetLog()
		b.StartTimer()
		h.benchRun(b, map[string]string{"state-path": statePath})
		b.StopTimer()
		requests += len(h.gh.Requests())
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

// BenchmarkAdapterOnly50 is the adapter's own share of a plan run: start,
// provider info, validate, plan, close. Subtract it from PlanRun50 for the
// action's overhead.
func BenchmarkAdapterOnly50(b *testing.B) {
	h := benchHarness(b, 50)
	pack, _ := os.ReadFile(filepath.Join(h.workspace, "support-bot.pack.json"))
	req := &deploy.PlanRequest{PackJSON: string(pack), DeployConfig: `{"target_dir":".deployed/default"}`}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := startValidated(b, h, req.DeployConfig)
		if _, err := c.Plan(ctx, req); err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
}

// BenchmarkStartUp is the static binary's start-up: exec to exit.
func BenchmarkStartUp(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "arena-deploy")
	build := exec.Command("go", "build", "-tags", "nodemo,nethttpomithttp2", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/action")
	build.Dir, build.Env = deploytest.RepoRoot(), append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	fi, _ := os.Stat(bin)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "--help")
		_ = cmd.Run() // exit 2: usage
	}
	b.ReportMetric(float64(fi.Size())/1e6, "binary-MB")
}

// BenchmarkAdapterApplyOnly50 is the adapter's own share of an apply run:
// start, provider info, validate, status, apply of 51 files, close.
func BenchmarkAdapterApplyOnly50(b *testing.B) {
	h := benchHarness(b, 50)
	pack, _ := os.ReadFile(filepath.Join(h.workspace, "support-bot.pack.json"))
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := fmt.Sprintf(".deployed/bench-%d", i)
		req := &deploy.PlanRequest{PackJSON: string(pack), DeployConfig: `{"target_dir":"` + dir + `"}`}
		b.StartTimer()
		c := startValidated(b, h, req.DeployConfig)
		if _, err := c.Apply(ctx, req, nil); err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
}

// startValidated starts the reference adapter and does what every run does
// first: provider info, then validate_config.
func startValidated(b *testing.B, h *harness, config string) *deploy.AdapterClient {
	ctx := context.Background()
	c, err := deploy.NewAdapterClient(ctx, deploytest.LocalAdapter(b), deploy.WithDir(h.workspace))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.GetProviderInfo(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := c.ValidateConfig(ctx, &deploy.ValidateRequest{Config: config}); err != nil {
		b.Fatal(err)
	}
	return c
}

// benchScenario is a harness whose pull request plans a pack of the shape
// against a base commit that holds (edited) the deployed pack, or no pack
// (first deploy), or no base commit at all (no base): the scenarios of
// bench/plans, in process, for profiles and allocation counts.
func benchScenario(b *testing.B, shape packdifftest.Shape, scenario string) *harness {
	h := benchHarness(b, 0)
	deployed, proposed := packdifftest.Make(shape)
	if err := os.WriteFile(filepath.Join(h.workspace, "support-bot.pack.json"), proposed, 0o644); err != nil {
		b.Fatal(err)
	}
	base := ""
	switch scenario {
	case "first":
		h.gh.SetFile("main", "README.md", []byte("no pack\n"))
		base = h.gh.Head("main")
	case "edited":
		h.gh.SetFile("main", "support-bot.pack.json", deployed)
		base = h.gh.Head("main")
	}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1", BaseSHA: base})
	if _, err := h.runner.PullRequest(pr); err != nil {
		b.Fatal(err)
	}
	h.benchRun(b, nil) // the comment and the artifact exist from now on
	return h
}

// BenchmarkPlanScenarios is a whole plan run in process for each shape and
// base commit bench/plans measures as processes.
func BenchmarkPlanScenarios(b *testing.B) {
	for _, sh := range []struct {
		name  string
		shape packdifftest.Shape
	}{
		{"3k", packdifftest.Shape{Bytes: 9 << 20, Prompts: 3000, Edits: 200}},
		{"50k", packdifftest.Shape{Bytes: 9 << 20, Prompts: 50000, Edits: 200}},
		{"10x1MB", packdifftest.Shape{Bytes: 10 << 20, Prompts: 10, Edits: 10}},
	} {
		for _, sc := range []string{"first", "edited", "nobase"} {
			b.Run(sh.name+"/"+sc, func(b *testing.B) {
				h := benchScenario(b, sh.shape, sc)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					h.benchRun(b, nil)
				}
			})
		}
	}
}
