package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// withPreviewTemplate gives the example a preview environment whose
// target_dir names the pull request.
func (h *harness) withPreviewTemplate() {
	h.t.Helper()
	arena := mustRead(h.t, filepath.Join(h.workspace, "arena.yaml"))
	arena = strings.Replace(arena, "    environments:\n", "    environments:\n      preview:\n        config:\n          target_dir: \".deployed/previews/pr-{pr}\"\n", 1)
	h.writeFile("arena.yaml", arena)
}

// previewComment is the pull request's preview comment ("" if none).
func (h *harness) previewComment(n int) (string, int) {
	found, count := "", 0
	for _, c := range h.gh.Comments(n) {
		if strings.Contains(c.Body, "Preview of #") {
			found = c.Body
			count++
		}
	}
	return found, count
}

// TestPreviewLifecycle: a pull request's preview is deployed to its own
// target (pr-<n>: own state, own lock, own comment), linked in the comment,
// deployed again on a new push, never rolled back by an older push's late
// run, and destroyed when the pull request closes; the environments the
// merge deploys are never touched.
func TestPreviewLifecycle(t *testing.T) {
	h := newHarness(t)
	h.withPreviewTemplate()
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "prevhead1"})
	h.must(h.runner.PullRequestActivity(pr, "opened", ""))
	res := h.run(map[string]string{"command": "preview", "environment": "production"})
	if res.code != 0 {
		t.Fatalf("preview: exit %d\n%s", res.code, res.log)
	}
	deployed := filepath.Join(h.workspace, ".deployed/previews/pr-1")
	if _, err := os.Stat(deployed); err != nil {
		t.Fatalf("nothing deployed to the preview's target_dir: %v\n%s", err, res.log)
	}
	for _, other := range []string{".deployed/production", ".deployed/staging", ".deployed/default"} {
		if _, err := os.Stat(filepath.Join(h.workspace, other)); err == nil {
			t.Errorf("the preview deployed to %s", other)
		}
	}
	previewDir := target.New(".", "arena.yaml", "pr-1").StateDir()
	if _, ok := h.gh.GetFile(stateBranch, previewDir+"/deploy.state"); !ok {
		t.Fatalf("no state in %s on the state branch", previewDir)
	}
	if _, ok := h.stateOf(".", "production"); ok {
		t.Error("the preview wrote production's state")
	}
	body, n := h.previewComment(pr.Number)
	if n != 1 || !strings.Contains(body, "### ✅ Preview of #1 (**pr-1**): deployed") || !strings.Contains(body, "destroyed when the pull request closes") {
		t.Fatalf("preview comment (%d):\n%s", n, body)
	}
	if res.outputs["applied"] != "true" {
		t.Errorf("outputs: %v, want applied", res.outputs)
	}
	if !strings.Contains(body, "**Links** deploy directory: file:") || !strings.Contains(body, "previews/pr-1") {
		t.Errorf("the comment does not link the preview:\n%s", body)
	}

	// A new push: deployed again, the same comment updated.
	pr.HeadSHA = "prevhead2"
	packPath := filepath.Join(h.workspace, "support-bot.pack.json")
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, packPath), "friendly", "cheerful", 1))
	h.must(h.runner.PullRequestActivity(pr, "synchronize", "prevhead1"))
	res = h.run(map[string]string{"command": "preview"})
	if res.code != 0 || res.outputs["applied"] != "true" {
		t.Fatalf("second push: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if b, n := h.previewComment(pr.Number); n != 1 || !strings.Contains(b, "prevhea") {
		t.Errorf("after the second push, %d preview comments:\n%s", n, b)
	}
	deployedPrompt := mustRead(t, filepath.Join(deployed, "prompts", "greeting.json"))
	if !strings.Contains(deployedPrompt, "cheerful") {
		t.Errorf("the second push's pack is not deployed:\n%s", deployedPrompt)
	}
	var rec state.Record
	raw, _ := h.gh.GetFile(stateBranch, previewDir+"/record.json")
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Commit != "prevhead2" {
		t.Errorf("record applied %q (%v), want the new head", rec.Commit, err)
	}

	// The first push's run, late: it must not roll the preview back.
	pr.HeadSHA = "prevhead1"
	h.gh.Mainline("prevhead1", "prevhead2") // the compare API orders the two heads
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, packPath), "cheerful", "friendly", 1))
	h.must(h.runner.PullRequestActivity(pr, "synchronize", ""))
	res = h.run(map[string]string{"command": "preview"})
	if res.code != 0 || res.outputs["applied"] != "false" {
		t.Errorf("late older run: exit %d, applied %q; want 0 and nothing deployed\n%s", res.code, res.outputs["applied"], res.log)
	}
	if !strings.Contains(mustRead(t, filepath.Join(deployed, "prompts", "greeting.json")), "cheerful") {
		t.Error("the late older run rolled the preview back")
	}

	// Closed: destroyed, state gone, the comment says so.
	pr.HeadSHA = "prevhead2"
	h.gh.ClosePull(pr.Number)
	h.must(h.runner.PullRequestActivity(pr, "closed", ""))
	res = h.run(map[string]string{"command": "preview"})
	if res.code != 0 || res.outputs["destroyed"] != "true" {
		t.Fatalf("close: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if _, ok := h.gh.GetFile(stateBranch, previewDir+"/deploy.state"); ok {
		t.Error("the preview's state outlived its destroy")
	}
	if _, err := os.Stat(filepath.Join(deployed, "prompts")); err == nil {
		t.Error("the preview's prompts are still deployed")
	}
	if b, n := h.previewComment(pr.Number); n != 1 || !strings.Contains(b, "🗑️ Preview of #1 (**pr-1**): destroyed") {
		t.Errorf("after close (%d comments):\n%s", n, b)
	}
	if v := h.gh.Violations(); len(v) > 0 {
		t.Errorf("outside GitHub's description: %v", v)
	}
}

// TestPreviewNeverForAFork: a fork's pull request gets no preview (its code
// would deploy with the repository's secrets), and the job does not fail.
func TestPreviewNeverForAFork(t *testing.T) {
	h := newHarness(t)
	h.withPreviewTemplate()
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "forkprev", HeadRepo: "mallory/app"})
	h.must(h.runner.PullRequestActivity(pr, "opened", ""))
	res := h.run(map[string]string{"command": "preview"})
	if res.code != 0 || !strings.Contains(res.summary, "comes from a fork") {
		t.Fatalf("fork: exit %d\n%s\n%s", res.code, res.summary, res.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
		t.Error("a fork's preview was deployed")
	}
	if h.anyState() || len(h.gh.Comments(pr.Number)) != 0 {
		t.Error("a fork's preview wrote state or commented")
	}
}

// TestPreviewRefusals: previews run on pull_request only, and only with a
// template environment (else every preview would deploy the base config).
func TestPreviewRefusals(t *testing.T) {
	h := newHarness(t)
	h.push("main1", "a push")
	res := h.run(map[string]string{"command": "preview"})
	if res.code != 2 || res.outputs["failure-reason"] != "invalid-input" || !strings.Contains(res.log, "run it on pull_request events") {
		t.Errorf("push: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "notemplate"})
	h.must(h.runner.PullRequestActivity(pr, "opened", ""))
	res = h.run(map[string]string{"command": "preview"})
	if res.code != 1 || res.outputs["failure-reason"] != "invalid-arena-config" || !strings.Contains(res.log, `no "preview" environment`) {
		t.Errorf("no template: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if h.anyState() {
		t.Error("state written without a template")
	}
}

// TestPreviewNameTakenByAnEnvironment: an arena file that lists an
// environment named like a preview (pr-1) would share its target key
// (state, lock, comment) with pull request #1's preview: the preview is
// refused, naming it, and nothing is deployed or written.
func TestPreviewNameTakenByAnEnvironment(t *testing.T) {
	h := newHarness(t)
	h.withPreviewTemplate()
	arena := mustRead(t, filepath.Join(h.workspace, "arena.yaml"))
	h.writeFile("arena.yaml", strings.Replace(arena, "    environments:\n",
		"    environments:\n      pr-1:\n        config:\n          target_dir: \".deployed/customer-pr-1\"\n", 1))
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "takenhead"})
	h.must(h.runner.PullRequestActivity(pr, "opened", ""))
	res := h.run(map[string]string{"command": "preview"})
	if res.code != 1 || res.outputs["failure-reason"] != "invalid-arena-config" || !strings.Contains(res.log, "pr-1") {
		t.Errorf("exit %d %v, want invalid-arena-config naming pr-1\n%s", res.code, res.outputs, res.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
		t.Error("deployed although the preview's name is an environment's")
	}
	if _, ok := h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", "pr-1").StateDir()+"/deploy.state"); ok {
		t.Error("the preview wrote the state of the environment pr-1")
	}
}

// TestPreviewRunOutOfDate: a preview run whose event no longer holds (a
// re-run of a push's job after the pull request was closed, or of the
// close's job after it was reopened) does nothing: a preview deployed
// after the close would never be destroyed, and a destroy after the
// reopen would take a live preview away.
func TestPreviewRunOutOfDate(t *testing.T) {
	h := newHarness(t)
	h.withPreviewTemplate()
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "stalehead"})
	deployed := filepath.Join(h.workspace, ".deployed/previews/pr-1")
	h.must(h.runner.PullRequestActivity(pr, "opened", ""))
	if res := h.run(map[string]string{"command": "preview"}); res.code != 0 {
		t.Fatalf("preview: exit %d\n%s", res.code, res.log)
	}
	h.gh.ClosePull(pr.Number)
	h.must(h.runner.PullRequestActivity(pr, "closed", ""))
	if res := h.run(map[string]string{"command": "preview"}); res.code != 0 || res.outputs["destroyed"] != "true" {
		t.Fatalf("close: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	// The opened job re-run after the close: the pull request is closed.
	h.must(h.runner.PullRequestActivity(pr, "opened", ""))
	res := h.run(map[string]string{"command": "preview"})
	if res.code != 0 || res.outputs["applied"] == "true" || !strings.Contains(res.summary, "closed") {
		t.Errorf("re-run after close: exit %d %v, want 0, nothing applied, the summary saying it is closed\n%s\n%s", res.code, res.outputs, res.summary, res.log)
	}
	if _, err := os.Stat(filepath.Join(deployed, "prompts")); err == nil {
		t.Error("a preview was deployed after its pull request closed: nothing will destroy it")
	}
	if _, ok := h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", "pr-1").StateDir()+"/deploy.state"); ok {
		t.Error("a preview's state was written after its pull request closed")
	}

	// Reopened and deployed; the close's job re-run must not destroy it.
	h.gh.ReopenPull(pr.Number)
	h.must(h.runner.PullRequestActivity(pr, "reopened", ""))
	if res := h.run(map[string]string{"command": "preview"}); res.code != 0 || res.outputs["applied"] != "true" {
		t.Fatalf("reopened: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	h.must(h.runner.PullRequestActivity(pr, "closed", ""))
	res = h.run(map[string]string{"command": "preview"})
	if res.code != 0 || res.outputs["destroyed"] == "true" {
		t.Errorf("close re-run while open: exit %d %v, want 0 and nothing destroyed\n%s", res.code, res.outputs, res.log)
	}
	if _, err := os.Stat(filepath.Join(deployed, "prompts")); err != nil {
		t.Error("the open pull request's preview was destroyed by a re-run of an old close")
	}
	if v := h.gh.Violations(); len(v) > 0 {
		t.Errorf("outside GitHub's description: %v", v)
	}
}

// TestPreviewAfterAForcePush: the run of a push that a force push
// replaced, ending late, deploys nothing: the pull request's head is the
// forced commit, which the late run's does not lead to (the state's
// ordering sees two diverged commits and cannot tell which is newer).
func TestPreviewAfterAForcePush(t *testing.T) {
	h := newHarness(t)
	h.withPreviewTemplate()
	base := h.gh.CommitTree("main", map[string][]byte{"README.md": []byte("x")}, "base")
	h1 := h.gh.CommitTree("feature", map[string][]byte{"a.txt": []byte("1")}, "first")
	h2 := h.gh.CommitMerge("feature", map[string][]byte{"README.md": []byte("x"), "a.txt": []byte("2")}, []string{base}, "forced")
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: h2, BaseSHA: base, HeadRef: "feature"})
	packPath := filepath.Join(h.workspace, "support-bot.pack.json")
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, packPath), "friendly", "cheerful", 1))
	h.must(h.runner.PullRequestActivity(pr, "synchronize", h1))
	if res := h.run(map[string]string{"command": "preview"}); res.code != 0 || res.outputs["applied"] != "true" {
		t.Fatalf("forced push's run: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	// The replaced push's run, late: its event names h1; the pull
	// request's head is h2.
	pr.HeadSHA = h1
	h.must(h.runner.PullRequestActivity(pr, "synchronize", ""))
	pr.HeadSHA = h2
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, packPath), "cheerful", "friendly", 1))
	res := h.run(map[string]string{"command": "preview"})
	if res.code != 0 || res.outputs["applied"] == "true" {
		t.Errorf("late replaced run: exit %d %v, want 0 and nothing deployed\n%s", res.code, res.outputs, res.log)
	}
	deployed := mustRead(t, filepath.Join(h.workspace, ".deployed/previews/pr-1", "prompts", "greeting.json"))
	if !strings.Contains(deployed, "cheerful") {
		t.Errorf("the late run of a replaced push rolled the preview back:\n%s", deployed)
	}
}

// TestPreviewTemplateIsNeverDeployedAsItIs: planning the template
// environment itself (its config names {pr}) is refused: its names would
// hold "{pr}" literally, the same for every run.
func TestPreviewTemplateIsNeverDeployedAsItIs(t *testing.T) {
	h := newHarness(t)
	h.withPreviewTemplate()
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "tmplhead"})
	h.pullRequest(pr)
	res := h.run(map[string]string{"environment": "preview"})
	if res.code != 1 || res.outputs["failure-reason"] != "invalid-arena-config" || !strings.Contains(res.log, "preview template") {
		t.Fatalf("plan of the template: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
}

// TestPreviewClosedWithoutItsTemplate: a pull request whose last push took
// the preview template out (or listed an environment named like its
// preview) cannot destroy its preview on close: the destroy needs the
// config it deployed with. Nothing is destroyed and the state stays, and
// the hint is one that works: re-running the close checks out the same
// head, so it says to reopen, put the template back, and close again.
func TestPreviewClosedWithoutItsTemplate(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(h *harness, withTemplate string)
	}{
		{"the template taken out", func(h *harness, withTemplate string) {
			h.writeFile("arena.yaml", strings.Replace(withTemplate, "      preview:\n        config:\n          target_dir: \".deployed/previews/pr-{pr}\"\n", "", 1))
		}},
		{"an environment named like the preview", func(h *harness, withTemplate string) {
			h.writeFile("arena.yaml", strings.Replace(withTemplate, "    environments:\n", "    environments:\n      pr-1:\n        config:\n          target_dir: .deployed/x\n", 1))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.withPreviewTemplate()
			withTemplate := mustRead(t, filepath.Join(h.workspace, "arena.yaml"))
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "prevhead1"})
			h.must(h.runner.PullRequestActivity(pr, "opened", ""))
			if res := h.run(map[string]string{"command": "preview"}); res.code != 0 {
				t.Fatalf("preview: %s", res.log)
			}
			c.change(h, withTemplate)
			pr.HeadSHA = "prevhead2"
			h.gh.ClosePull(pr.Number)
			h.must(h.runner.PullRequestActivity(pr, "closed", ""))
			res := h.run(map[string]string{"command": "preview"})
			if res.code == 0 || res.outputs["failure-reason"] != "invalid-arena-config" || res.outputs["destroyed"] != "false" {
				t.Fatalf("close: exit %d %v\n%s", res.code, res.outputs, res.log)
			}
			previewDir := target.New(".", "arena.yaml", "pr-1").StateDir()
			if _, ok := h.gh.GetFile(stateBranch, previewDir+"/deploy.state"); !ok {
				t.Fatal("the state of a preview that was not destroyed is gone")
			}
			hint := "Nothing was destroyed: pr-1 stays deployed, with its state, until a close of pull request #1 finds the config it was deployed with"
			if !strings.Contains(shown(res.log), hint) || !strings.Contains(shown(res.log), "reopen the pull request") {
				t.Errorf("the hint does not say what works:\n%s", shown(res.log))
			}
			if body, _ := h.previewComment(pr.Number); !strings.Contains(strings.ReplaceAll(body, "\u200d", ""), hint) { // #1 is escaped with a zero-width joiner
				t.Errorf("the comment does not say the preview stays:\n%s", body)
			}
			// What the hint says works: reopened with the template back,
			// deployed, closed, destroyed.
			h.writeFile("arena.yaml", withTemplate)
			pr.HeadSHA = "prevhead3"
			h.gh.ReopenPull(pr.Number)
			h.must(h.runner.PullRequestActivity(pr, "reopened", ""))
			if res := h.run(map[string]string{"command": "preview"}); res.code != 0 {
				t.Fatalf("reopened: %s", res.log)
			}
			h.gh.ClosePull(pr.Number)
			h.must(h.runner.PullRequestActivity(pr, "closed", ""))
			if res := h.run(map[string]string{"command": "preview"}); res.code != 0 || res.outputs["destroyed"] != "true" {
				t.Fatalf("closed again: exit %d %v\n%s", res.code, res.outputs, res.log)
			}
		})
	}
}

// TestPreviewNotOperatedAsAnEnvironment: a preview's name given to the
// other commands is refused before any adapter starts: they would take
// the preview's state and lock with the base config, not its template's
// (a refresh sees its resources drift, a destroy or an apply acts on the
// base config's). Its lock can still be freed (unlock reads no config).
func TestPreviewNotOperatedAsAnEnvironment(t *testing.T) {
	h := newHarness(t)
	h.withPreviewTemplate()
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "prevhead1"})
	h.must(h.runner.PullRequestActivity(pr, "opened", ""))
	if res := h.run(map[string]string{"command": "preview"}); res.code != 0 {
		t.Fatalf("preview: exit %d\n%s", res.code, res.log)
	}
	deployed := filepath.Join(h.workspace, ".deployed/previews/pr-1/prompts")
	h.must(h.runner.Dispatch("main1"))
	for _, in := range []map[string]string{
		{"command": "status", "environment": "pr-1"},
		{"command": "refresh", "environment": "pr-1"},
		{"command": "destroy", "environment": "pr-1", "confirm-destroy": "pr-1"},
		{"command": "apply", "environment": "pr-1"},
	} {
		t.Run(in["command"], func(t *testing.T) {
			res := h.run(in)
			if res.code == 0 || res.outputs["failure-reason"] != "invalid-input" || !strings.Contains(res.log, "only command preview deploys") {
				t.Fatalf("%s of pr-1: exit %d %v\n%s", in["command"], res.code, res.outputs, res.log)
			}
			if strings.Contains(res.log, "adapter") && strings.Contains(res.log, "started") {
				t.Errorf("an adapter started:\n%s", res.log)
			}
			if _, err := os.Stat(deployed); err != nil {
				t.Errorf("the preview's prompts are gone after %s: %v", in["command"], err)
			}
		})
	}
	res := h.run(map[string]string{"command": "unlock", "environment": "pr-1", "confirm-unlock": "pr-1"})
	if res.code != 0 || res.outputs["unlocked"] != "false" {
		t.Errorf("unlock of pr-1: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
}
