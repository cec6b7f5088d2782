package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// monorepo is a repository of n projects under services/, each deploying
// staging then production (arena-deploy/follows) with one prompt of its
// own; every fourth also names shared/tone.yaml.
func monorepo(n int) map[string][]byte {
	files := map[string][]byte{
		"shared/tone.yaml":             []byte(prompt("tone")),
		"README.md":                    []byte("# the monorepo\n"),
		".github/workflows/deploy.yml": []byte("on: pull_request\n"),
	}
	for i := 0; i < n; i++ {
		dir := fmt.Sprintf("services/svc-%03d/", i)
		prompts := "    - id: main\n      file: prompts/main.yaml\n"
		if i%4 == 0 {
			prompts += "    - id: tone\n      file: ../../shared/tone.yaml\n"
		}
		files[dir+"arena.yaml"] = []byte(fmt.Sprintf(`apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: Arena
metadata:
  name: svc-%03d
  annotations:
    arena-deploy/follows: "production: staging"
spec:
  prompt_configs:
%s  deploy:
    provider: local
    config:
      target_dir: .deployed/default
    environments:
      staging:
        config:
          target_dir: .deployed/staging
      production:
        config:
          target_dir: .deployed/production
`, i, prompts))
		files[dir+"prompts/main.yaml"] = []byte(prompt(fmt.Sprintf("main-%03d", i)))
		files[dir+"bot.pack.json"] = []byte(fmt.Sprintf(`{"id":"svc-%03d","prompts":{}}`, i))
	}
	return files
}

func prompt(name string) string {
	return "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: PromptConfig\nmetadata:\n  name: " + name +
		"\nspec:\n  task_type: " + name + "\n  system_template: Hello from " + name + "\n"
}

// checkoutFiles makes the workspace hold exactly files (the head's checkout).
func (h *harness) checkoutFiles(files map[string][]byte) {
	h.t.Helper()
	entries, _ := os.ReadDir(h.workspace)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(h.workspace, e.Name()))
	}
	for p, b := range files {
		if b != nil {
			h.writeFile(p, string(b))
		}
	}
}

type matrixEntry struct {
	WorkingDirectory string `json:"working-directory"`
	Config           string `json:"config"`
	Environment      string `json:"environment"`
	Wave             int    `json:"wave"`
	Follows          string `json:"follows"`
	Reason           string `json:"reason"`
}

func parseMatrix(t *testing.T, s string) []matrixEntry {
	t.Helper()
	if s == "" {
		return nil
	}
	var m struct{ Include []matrixEntry }
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("matrix %q: %v", s, err)
	}
	return m.Include
}

func entryNames(entries []matrixEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.WorkingDirectory+" "+e.Environment)
	}
	sort.Strings(out)
	return out
}

// TestTargetsMonorepo: a repository of 200 targets (100 projects, staging
// then production); a pull request touching three projects' prompts yields
// exactly their six targets, staging in wave 1 and production in wave 2,
// from one API request; one touching the shared file yields every project
// that names it.
func TestTargetsMonorepo(t *testing.T) {
	h := newHarness(t)
	files := monorepo(100)
	base := h.gh.CommitTree("main", files, "the monorepo")

	edit := map[string][]byte{}
	for _, i := range []int{7, 42, 99} {
		p := fmt.Sprintf("services/svc-%03d/prompts/main.yaml", i)
		edit[p] = []byte(prompt(fmt.Sprintf("main-%03d", i)) + "  description: edited\n")
	}
	edit["README.md"] = []byte("# edited, not an input of any target\n")
	head := h.gh.CommitTree("edit-prompts", edit, "edit three prompts")
	for p, b := range edit {
		files[p] = b
	}
	h.checkoutFiles(files)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: head, BaseSHA: base, HeadRef: "edit-prompts"})
	h.pullRequest(pr)
	h.gh.ResetLog()
	res := h.run(map[string]string{"command": "targets"})
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.log)
	}
	all := parseMatrix(t, res.outputs["matrix"])
	want := []string{"services/svc-007 production", "services/svc-007 staging", "services/svc-042 production", "services/svc-042 staging",
		"services/svc-099 production", "services/svc-099 staging"}
	if got := entryNames(all); !reflect.DeepEqual(got, want) {
		t.Fatalf("matrix = %q, want %q", got, want)
	}
	for _, e := range all {
		wantWave, follows := 1, ""
		if e.Environment == "production" {
			wantWave, follows = 2, "staging"
		}
		if e.Wave != wantWave || e.Follows != follows || e.Config != "arena.yaml" || !strings.HasSuffix(e.Reason, "/prompts/main.yaml changed") {
			t.Errorf("%+v: want wave %d following %q, config arena.yaml, the prompt as the reason", e, wantWave, follows)
		}
	}
	w1, w2 := parseMatrix(t, res.outputs["wave-1"]), parseMatrix(t, res.outputs["wave-2"])
	if len(w1) != 3 || len(w2) != 3 || res.outputs["wave-3"] != "" || res.outputs["target-count"] != "6" {
		t.Errorf("waves: %d, %d, %q; count %s; want 3, 3, empty; 6", len(w1), len(w2), res.outputs["wave-3"], res.outputs["target-count"])
	}
	for _, e := range w1 {
		if e.Environment != "staging" {
			t.Errorf("wave 1 holds %+v", e)
		}
	}
	// The bound: one compare request, nothing else.
	if n := len(h.gh.Requests()); n != 1 {
		t.Errorf("%d API requests, want 1 (the compare): %v", n, h.gh.Requests())
	}
	if !strings.Contains(res.summary, "6 of 200 changed") || !strings.Contains(res.summary, "services/svc-042/arena.yaml") {
		t.Errorf("summary:\n%s", res.summary)
	}

	// The shared file: every project naming it (25 of them), both waves.
	shared := h.gh.CommitTree("edit-shared", map[string][]byte{"shared/tone.yaml": []byte(prompt("tone") + "  description: calmer\n")}, "calmer tone")
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: shared, BaseSHA: base, HeadRef: "edit-shared"})
	h.pullRequest(pr2)
	res = h.run(map[string]string{"command": "targets"})
	got := parseMatrix(t, res.outputs["matrix"])
	if len(got) != 50 {
		t.Fatalf("shared edit: %d targets, want 50 (25 projects x 2)", len(got))
	}
	for _, e := range got {
		var i int
		fmt.Sscanf(e.WorkingDirectory, "services/svc-%03d", &i)
		if i%4 != 0 || e.Reason != "shared/tone.yaml changed" {
			t.Errorf("%+v: not a project naming shared/tone.yaml", e)
		}
	}

	// The workflow: every target (it pins the adapter and the inputs).
	wf := h.gh.CommitTree("edit-workflow", map[string][]byte{".github/workflows/deploy.yml": []byte("on: [pull_request]\n")}, "workflow")
	h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: wf, BaseSHA: base, HeadRef: "edit-workflow"}))
	res = h.run(map[string]string{"command": "targets"})
	if n := len(parseMatrix(t, res.outputs["matrix"])); n != 200 {
		t.Errorf("workflow edit: %d targets, want all 200", n)
	}
	if v := h.gh.Violations(); len(v) > 0 {
		t.Errorf("outside GitHub's description: %v", v)
	}
}

// TestTargetsOnPushAndDispatch: the merge's push compares with the commit
// before it; a dispatch (no change to compare) or all-targets lists all.
func TestTargetsOnPushAndDispatch(t *testing.T) {
	h := newHarness(t)
	files := monorepo(4)
	h.gh.CommitTree("main", files, "the monorepo")
	edit := map[string][]byte{"services/svc-002/prompts/main.yaml": []byte(prompt("main-002") + "  description: merged\n")}
	merged := h.gh.CommitTree("main", edit, "merge pull request #1")
	for p, b := range edit {
		files[p] = b
	}
	h.checkoutFiles(files)
	h.push(merged, "merge pull request #1")
	res := h.run(map[string]string{"command": "targets", "environments": "production"})
	if got := entryNames(parseMatrix(t, res.outputs["matrix"])); !reflect.DeepEqual(got, []string{"services/svc-002 production"}) {
		t.Errorf("push: %q, want svc-002 production only\n%s", got, res.log)
	}
	if res.outputs["wave-1"] != "" || res.outputs["wave-2"] == "" {
		t.Errorf("production follows staging: wave-1 %q, wave-2 %q", res.outputs["wave-1"], res.outputs["wave-2"])
	}
	h.must(h.runner.Dispatch(merged))
	res = h.run(map[string]string{"command": "targets"})
	if n := len(parseMatrix(t, res.outputs["matrix"])); n != 8 || !strings.Contains(res.summary, "run has no change to compare") {
		t.Errorf("dispatch: %d targets, want 8, and why\n%s", n, res.summary)
	}
	h.push(merged, "merge pull request #1")
	res = h.run(map[string]string{"command": "targets", "all-targets": "true"})
	if n := len(parseMatrix(t, res.outputs["matrix"])); n != 8 {
		t.Errorf("all-targets: %d targets, want 8", n)
	}
}

// TestTargetsNoArenaFileMatches: configs that match no file of the
// repository say so, with the input and how its globs are read, instead
// of an empty matrix that looks like a change touching nothing.
func TestTargetsNoArenaFileMatches(t *testing.T) {
	h := newHarness(t)
	files := monorepo(2)
	h.gh.CommitTree("main", files, "the monorepo")
	h.checkoutFiles(files)
	h.must(h.runner.Dispatch("main"))
	res := h.run(map[string]string{"command": "targets", "configs": "svc-*/arena.yaml"})
	if res.code != 0 || res.outputs["target-count"] != "0" || !strings.Contains(res.log, "::warning") ||
		!strings.Contains(res.log, "No file of the repository matches") || !strings.Contains(res.log, "svc-*/arena.yaml") {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	res = h.run(map[string]string{"command": "targets"})
	if strings.Contains(res.log, "No file of the repository matches") {
		t.Errorf("warned with targets found:\n%s", res.log)
	}
}

// TestTargetsBadInputs: each mistake is invalid-input naming the input.
func TestTargetsBadInputs(t *testing.T) {
	h := newHarness(t)
	h.checkoutFiles(monorepo(2))
	h.must(h.runner.Dispatch("abc"))
	for _, c := range []struct {
		inputs map[string]string
		want   string
	}{
		{map[string]string{"follows": "production"}, "follows takes pairs"},
		{map[string]string{"follows": "a: b, b: a"}, "cycle"},
		{map[string]string{"configs": "../**/arena.yaml"}, "inside the repository"},
		// A shared-files glob that cannot match (not a glob, or not of the
		// compare's repository-relative paths) matched nothing, silently:
		// a shared file's change then planned none of the targets.
		{map[string]string{"shared-files": "shared/[prompts/**"}, "input shared-files: \"shared/[prompts/**\" is not a glob"},
		{map[string]string{"shared-files": ".github/workflows/**, /shared/**"}, "input shared-files: \"/shared/**\" is not a glob"},
		{map[string]string{"shared-files": "../shared/**"}, "input shared-files: \"../shared/**\" is not a glob"},
		{map[string]string{"all-targets": "maybe"}, "all-targets must be true or false"},
	} {
		in := map[string]string{"command": "targets"}
		for k, v := range c.inputs {
			in[k] = v
		}
		res := h.run(in)
		if res.code != 2 || res.outputs["failure-reason"] != "invalid-input" || (c.want != "" && !strings.Contains(res.log, c.want)) {
			t.Errorf("%v: exit %d, reason %q, want 2 invalid-input saying %q\n%s", c.inputs, res.code, res.outputs["failure-reason"], c.want, res.log)
		}
	}
}

// TestPlanSaysWhatItFollows: the plan comment of a later environment says
// which earlier one it waits for (the follows input, or the annotation).
func TestPlanSaysWhatItFollows(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "followshead"})
	h.planPR(pr, map[string]string{"environment": "production", "follows": "production: staging"})
	h.planPR(pr, map[string]string{"environment": "staging", "follows": "production: staging"})
	bodies := map[string]string{}
	for _, c := range h.gh.Comments(pr.Number) {
		for _, env := range []string{"production", "staging"} {
			if strings.Contains(c.Body, "Arena plan for **"+env+"**") {
				bodies[env] = c.Body
			}
		}
	}
	if !strings.Contains(bodies["production"], "⏳ Follows **staging**: on merge, **production** applies after **staging** has applied.") {
		t.Errorf("production's comment does not say it follows staging:\n%s", bodies["production"])
	}
	if strings.Contains(bodies["staging"], "Follows") {
		t.Errorf("staging follows nothing:\n%s", bodies["staging"])
	}
	// The annotation says the same without the input.
	h.writeFile("arena.yaml", strings.Replace(mustRead(t, filepath.Join(h.workspace, "arena.yaml")), "  name: support-bot\n",
		"  name: support-bot\n  annotations:\n    arena-deploy/follows: \"production: staging\"\n", 1))
	res := h.planPR(pr, map[string]string{"environment": "production"})
	if !strings.Contains(res.summary, "⏳ Follows **staging**") {
		t.Errorf("annotation: the summary does not say it follows staging:\n%s", res.summary)
	}
}

// BenchmarkTargets200 is command targets as a pull request runs it on a
// repository of 200 targets (100 projects, staging and production) with
// three prompts edited: the whole action, including the one compare
// request to the emulator on loopback.
func BenchmarkTargets200(b *testing.B) {
	gh := ghemu.New(nil, ghemu.Options{NoValidation: true})
	b.Cleanup(gh.Close)
	ws := b.TempDir()
	files := monorepo(100)
	base := gh.CommitTree("main", files, "the monorepo")
	edit := map[string][]byte{}
	for _, i := range []int{7, 42, 99} {
		edit[fmt.Sprintf("services/svc-%03d/prompts/main.yaml", i)] = []byte(prompt(fmt.Sprintf("main-%03d", i)) + "  description: edited\n")
	}
	head := gh.CommitTree("edit", edit, "edit three prompts")
	for p, c := range edit {
		files[p] = c
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(ws, p)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, p), c, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	runner := gh.NewRunner(ws, b.TempDir())
	pr := gh.AddPull(ghemu.Pull{HeadSHA: head, BaseSHA: base})
	if _, err := runner.PullRequest(pr); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		env, step, err := runner.Environ(map[string]string{"command": "targets"})
		if err != nil {
			b.Fatal(err)
		}
		var log bytes.Buffer
		if code := realMain(context.Background(), nil, env, &log, &log); code != 0 {
			b.Fatalf("exit %d\n%s", code, log.String())
		}
		if out, _ := step.Outputs(); out["target-count"] != "6" {
			b.Fatalf("outputs %v", out)
		}
	}
}

// TestTargetsOnForcePush: a push that is not a fast-forward (a force push,
// or main reset to an older commit) changes every target whose files
// differ between the commit deployed from (before) and the one pushed,
// those the push took away included: comparing from their merge base
// would list only what the new commits added.
func TestTargetsOnForcePush(t *testing.T) {
	h := newHarness(t)
	files := monorepo(4)
	a := h.gh.CommitTree("main", files, "the monorepo")
	edit2 := map[string][]byte{"services/svc-002/prompts/main.yaml": []byte(prompt("main-002") + "  description: merged\n")}
	x := h.gh.CommitTree("main", edit2, "merge pull request #1")
	h.push(x, "merge pull request #1")
	// Force-pushed: main is a at once again, then svc-001's edit on it.
	y := map[string][]byte{}
	for p, b := range files {
		y[p] = b
	}
	y["services/svc-001/prompts/main.yaml"] = []byte(prompt("main-001") + "  description: forced\n")
	forced := h.gh.CommitMerge("main", y, []string{a}, "force-pushed")
	h.checkoutFiles(y)
	h.push(forced, "force-pushed")
	res := h.run(map[string]string{"command": "targets", "environments": "staging"})
	want := []string{"services/svc-001 staging", "services/svc-002 staging"}
	if got := entryNames(parseMatrix(t, res.outputs["matrix"])); !reflect.DeepEqual(got, want) {
		t.Errorf("force push: %q, want %q (svc-002's deployed edit is gone from main)\n%s", got, want, res.log)
	}
	// Force-pushed again, to a's tree: svc-001's edit is gone, and a
	// merge-base comparison sees no change at all.
	h.checkoutFiles(files)
	back := h.gh.CommitMerge("main", files, []string{a}, "back to a")
	h.push(back, "back to a")
	res = h.run(map[string]string{"command": "targets", "environments": "staging"})
	if got := entryNames(parseMatrix(t, res.outputs["matrix"])); !reflect.DeepEqual(got, []string{"services/svc-001 staging"}) {
		t.Errorf("back to a's tree: %q, want svc-001's staging\n%s", got, res.log)
	}
	if v := h.gh.Violations(); len(v) > 0 {
		t.Errorf("outside GitHub's description: %v", v)
	}
}

// TestTargetsPackInput: the pack input names each project's pack relative
// to its folder (a pack built into dist/, not beside the arena file): a
// change to it changes the target, as the plan that reads it would.
func TestTargetsPackInput(t *testing.T) {
	h := newHarness(t)
	files := monorepo(3)
	for i := 0; i < 3; i++ {
		dir := fmt.Sprintf("services/svc-%03d/", i)
		files[dir+"dist/bot.pack.json"] = files[dir+"bot.pack.json"]
		delete(files, dir+"bot.pack.json")
	}
	base := h.gh.CommitTree("main", files, "the monorepo")
	edit := map[string][]byte{"services/svc-001/dist/bot.pack.json": []byte(`{"id":"svc-001","prompts":{"x":{}}}`)}
	head := h.gh.CommitTree("edit-pack", edit, "rebuild a pack")
	for p, b := range edit {
		files[p] = b
	}
	h.checkoutFiles(files)
	h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: head, BaseSHA: base, HeadRef: "edit-pack"}))
	res := h.run(map[string]string{"command": "targets", "pack": "dist/bot.pack.json", "environments": "staging"})
	if got := entryNames(parseMatrix(t, res.outputs["matrix"])); !reflect.DeepEqual(got, []string{"services/svc-001 staging"}) {
		t.Errorf("matrix %q, want svc-001's staging (its pack changed)\n%s", got, res.log)
	}
}

// TestTargetsAdapterInput: a relative adapter input (a binary committed
// in each project) is each target's input, as the plan runs it.
func TestTargetsAdapterInput(t *testing.T) {
	h := newHarness(t)
	files := monorepo(3)
	for i := 0; i < 3; i++ {
		files[fmt.Sprintf("services/svc-%03d/bin/adapter", i)] = []byte("#!/bin/sh\n")
	}
	base := h.gh.CommitTree("main", files, "the monorepo")
	edit := map[string][]byte{"services/svc-002/bin/adapter": []byte("#!/bin/sh\n# v2\n")}
	head := h.gh.CommitTree("edit-adapter", edit, "a new adapter")
	for p, b := range edit {
		files[p] = b
	}
	h.checkoutFiles(files)
	h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: head, BaseSHA: base, HeadRef: "edit-adapter"}))
	res := h.run(map[string]string{"command": "targets", "adapter": "bin/adapter", "environments": "staging"})
	if got := entryNames(parseMatrix(t, res.outputs["matrix"])); !reflect.DeepEqual(got, []string{"services/svc-002 staging"}) {
		t.Errorf("matrix %q, want svc-002's staging (its adapter changed)\n%s", got, res.log)
	}
}
