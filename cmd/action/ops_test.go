package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// deployed plans a PR, merges it and applies; the workspace is then a
// checkout of main with the committed state.
func deployed(t *testing.T, inputs map[string]string) *harness {
	t.Helper()
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, inputs)
	h.merge(pr, "merge111", "Merge pull request #1")
	if r := h.run(inputs); r.code != 0 {
		t.Fatalf("apply: %v\n%s", r.outputs, r.log)
	}
	h.checkout()
	return h
}

func (h *harness) dispatch(inputs map[string]string) result {
	h.must(h.runner.Dispatch("merge111"))
	return h.run(inputs)
}

// adopt adopts the state of the default environment after a person checked
// it (a workflow_dispatch of command adopt), and fails the test if it did
// not.
func (h *harness) adopt(inputs map[string]string, why string) result {
	h.t.Helper()
	in := map[string]string{"command": "adopt", "confirm-adopt": "default", "adopt-reason": why}
	for k, v := range inputs {
		in[k] = v
	}
	r := h.dispatch(in)
	if r.code != 0 || r.outputs["adopted"] != "true" {
		h.t.Fatalf("adopt: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	return r
}

func TestStatusAndRefreshWithDriftIssue(t *testing.T) {
	h := deployed(t, nil)
	r := h.dispatch(map[string]string{"command": "status"})
	if r.code != 0 || r.outputs["status"] != "deployed" || r.outputs["drift"] != "0" || !strings.Contains(r.summary, "🟢") {
		t.Fatalf("status: %v\n%s", r.outputs, r.summary)
	}
	// Someone edits a deployed file by hand.
	commits := len(h.gh.Commits(stateBranch))
	h.writeFile(".deployed/default/prompts/refund.json", `{"tampered": true}`)
	in := map[string]string{"command": "refresh", "drift-issue": "true"}
	r = h.dispatch(in)
	if r.code != 0 || r.outputs["status"] != "degraded" || r.outputs["drift"] != "1" || r.outputs["drift-issue"] == "" {
		t.Fatalf("refresh: %v\n%s", r.outputs, r.log)
	}
	issues := h.gh.Issues()
	if len(issues) != 1 || issues[0].State != "open" || issues[0].Labels[0] != "arena-drift" || !strings.Contains(issues[0].Body, "refund") {
		t.Fatalf("issues: %+v", issues)
	}
	// The adapter's state did not change: refresh writes nothing (an
	// hourly schedule would otherwise commit 24 times a day).
	if n := len(h.gh.Commits(stateBranch)); n != commits {
		t.Errorf("refresh committed %d times with nothing changed", n-commits)
	}
	h.checkout()
	// Again: the same issue, not a second one; with fail-on-drift, a failure.
	in["fail-on-drift"] = "true"
	r = h.dispatch(in)
	if r.code != 1 || r.outputs["failure-reason"] != "drift-detected" || len(h.gh.Issues()) != 1 {
		t.Fatalf("second refresh: %v %d\n%s", r.outputs, len(h.gh.Issues()), r.log)
	}
	h.checkout()
	// Drift fixed: the issue closes.
	h.writeFile(".deployed/default/prompts/refund.json", h.deployedCopy("refund"))
	r = h.dispatch(in)
	if r.code != 0 || r.outputs["drift"] != "0" {
		t.Fatalf("after fix: %v\n%s", r.outputs, r.log)
	}
	if is := h.gh.Issues(); is[0].State != "closed" {
		t.Fatalf("issue not closed: %+v", is)
	}
}

// deployedCopy is a prompt as the reference adapter writes it.
func (h *harness) deployedCopy(name string) string {
	return deployedPrompt(h.t, filepath.Join(h.workspace, "support-bot.pack.json"), name)
}

func TestDestroyNeedsConfirmation(t *testing.T) {
	h := deployed(t, nil)
	r := h.dispatch(map[string]string{"command": "destroy"})
	if r.code != 2 || r.outputs["failure-reason"] != "destroy-not-confirmed" || !strings.Contains(r.log, "confirm-destroy: default") {
		t.Fatalf("unconfirmed: %v\n%s", r.outputs, r.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/default/pack.json")); err != nil {
		t.Fatal("unconfirmed destroy removed files")
	}
	r = h.dispatch(map[string]string{"command": "destroy", "confirm-destroy": "default"})
	if r.code != 0 || r.outputs["destroyed"] != "true" {
		t.Fatalf("confirmed: %v\n%s", r.outputs, r.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/default")); !os.IsNotExist(err) {
		t.Error("deployment left behind")
	}
	if _, ok := h.stateOf(".", "default"); ok {
		t.Error("state not deleted")
	}
}

func TestArtifactStateBackend(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	h := deployed(t, in)
	var state int
	for _, a := range h.gh.Artifacts() {
		if a.Name == defaultStateArtifact && a.Finalized {
			state++
		}
	}
	if state != 1 {
		t.Fatalf("state artifacts %d", state)
	}
	if h.anyState() {
		t.Fatal("artifact backend committed a file")
	}
	// The next PR's plan reads that state: nothing to do.
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	if p := h.planPR(pr2, in); p.outputs["has-changes"] != "false" {
		t.Fatalf("plan with artifact state: %v", p.outputs)
	}
	// Close to expiry: a warning, and status uploads it again.
	h.gh.Advance(ghemu.DefaultRetention - 3*24*time.Hour)
	r := h.dispatch(map[string]string{"command": "status", "state-backend": "artifact"})
	if r.code != 0 || !strings.Contains(r.log, "expires in") {
		t.Fatalf("no expiry warning: %v\n%s", r.outputs, r.log)
	}
	h.gh.Advance(5 * 24 * time.Hour) // the first one has expired now; the re-upload has not
	r = h.dispatch(map[string]string{"command": "status", "state-backend": "artifact"})
	if r.code != 0 || r.outputs["status"] != "deployed" {
		t.Fatalf("after the old one expired: %v\n%s", r.outputs, r.log)
	}
}

// defaultStateArtifact is the default target's state artifact name.
var defaultStateArtifact = target.New(".", "arena.yaml", "default").StateArtifact()

// TestArtifactStateMigratesFromTheEnvironmentName: a state artifact named
// as before targets (arena-state-<env>) is read when the target's has none,
// and carried over by the next write.
func TestArtifactStateMigratesFromTheEnvironmentName(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	h := deployed(t, in)
	h.renamePlanArtifact(defaultStateArtifact, "arena-state-default")
	h.gh.AddToken("ghs_admin", "octocat", map[string]string{"actions": ghemu.Write})
	for _, a := range h.gh.Artifacts() {
		if a.Name == defaultStateArtifact {
			if _, err := h.gh.GitHubClient("ghs_admin").Actions.DeleteArtifact(context.Background(), ghemu.DefaultOwner, ghemu.DefaultRepo, a.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := h.dispatch(map[string]string{"command": "status", "state-backend": "artifact"})
	if r.code != 0 || r.outputs["status"] != "deployed" || !strings.Contains(r.log, "Carrying the state over from the artifact arena-state-default") {
		t.Fatalf("status: %v\n%s", r.outputs, r.log)
	}
	// The status run uploaded it again under the target's name.
	found := false
	for _, a := range h.gh.Artifacts() {
		found = found || (a.Name == defaultStateArtifact && a.Finalized && !a.Deleted)
	}
	if !found {
		t.Error("not carried over to " + defaultStateArtifact)
	}
}

// uploadAs uploads an artifact from run's context, as that run's workflow
// could.
func (h *harness) uploadAs(run *ghemu.Run, name string, files map[string]string) {
	h.t.Helper()
	up, err := artifacts.NewUploader(h.gh.ResultsURL(), h.gh.RuntimeToken(run), h.gh.Client())
	if err != nil {
		h.t.Fatal(err)
	}
	var list []artifacts.File
	for n, c := range files {
		list = append(list, artifacts.File{Name: n, Data: []byte(c)})
	}
	if _, _, err := up.Upload(context.Background(), name, list, time.Time{}); err != nil {
		h.t.Fatal(err)
	}
}

// TestPlantedStateArtifactIgnored: a pull request's workflow uploads a
// "state" artifact naming files outside the deploy; apply, refresh and
// destroy trust only the state of push, dispatch and schedule runs on the
// default branch.
func TestPlantedStateArtifactIgnored(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	h := deployed(t, in)
	outside, planted := plantedState(t)
	for _, ev := range []string{"pull_request", "pull_request_target"} {
		run := h.gh.AddRun(ghemu.Run{Event: ev, HeadSHA: "evil1", HeadBranch: "main"})
		h.uploadAs(run, defaultStateArtifact, map[string]string{"deploy.state": planted})
		h.uploadAs(run, "arena-state-default", map[string]string{"deploy.state": planted})
	}
	fork := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "evil2", HeadBranch: "main", HeadRepo: "mallory/app"})
	h.uploadAs(fork, defaultStateArtifact, map[string]string{"deploy.state": planted})
	other := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "evil3", HeadBranch: "feature"})
	h.uploadAs(other, defaultStateArtifact, map[string]string{"deploy.state": planted})

	r := h.dispatch(map[string]string{"command": "refresh", "state-backend": "artifact"})
	if r.code != 0 || r.outputs["status"] != "deployed" || !strings.Contains(r.log, "Ignored the state artifact") {
		t.Fatalf("refresh: %v\n%s", r.outputs, r.log)
	}
	r = h.dispatch(map[string]string{"command": "destroy", "confirm-destroy": "default", "state-backend": "artifact"})
	if r.code != 0 || r.outputs["destroyed"] != "true" {
		t.Fatalf("destroy: %v\n%s", r.outputs, r.log)
	}
	if b, err := os.ReadFile(outside); err != nil || string(b) != "keep me" {
		t.Fatalf("a file outside the deploy was touched: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/default/prompts")); !os.IsNotExist(err) {
		t.Error("the real deployment was not destroyed")
	}
}

// TestArtifactRacingWriterDetected: without the lock (the token may not
// push to the state branch), a state artifact uploaded by another run
// while this one saved is found when listing again: state-conflict, exit
// 1, both states kept; not a silent lost update.
func TestArtifactRacingWriterDetected(t *testing.T) {
	h := newHarness(t)
	h.gh.AddToken("ghs_nopush", ghemu.BotLogin, map[string]string{"contents": ghemu.Read, "pull_requests": ghemu.Write, "issues": ghemu.Write, "actions": ghemu.Read})
	h.env["INPUT_GITHUB-TOKEN"] = "ghs_nopush"
	in := map[string]string{"state-backend": "artifact"}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, in)
	h.gh.Mainline("merge000") // the racer's commit: main's, before ours
	h.merge(pr, "merge111", "Merge pull request #1")
	racer := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "merge000", HeadBranch: "main"})
	theirs := `{"version":1,"provider":"local","environment":"default","state":"theirs"}`
	h.gh.Inject("POST "+ghemu.TwirpPrefix+"FinalizeArtifact", ghemu.Fault{Before: func() {
		h.uploadAs(racer, defaultStateArtifact, map[string]string{"deploy.state": theirs})
	}})
	r := h.run(in)
	if r.code != 1 || r.outputs["failure-reason"] != "state-conflict" || r.outputs["applied"] != "true" || !strings.Contains(r.log, "No deploy lock") {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if !strings.Contains(r.log, "both are kept") {
		t.Errorf("log does not say both are kept:\n%s", r.log)
	}
	states := 0
	for _, a := range h.gh.Artifacts() {
		if a.Name == defaultStateArtifact && a.Finalized {
			states++
		}
	}
	if states != 2 {
		t.Errorf("%d state artifacts, want ours and theirs", states)
	}
}

// plantedState is a deploy state an attacker would plant: the reference
// adapter's state naming a file outside any deploy (created, to be kept).
func plantedState(t *testing.T) (outside, state string) {
	t.Helper()
	outside = filepath.Join(t.TempDir(), "precious.txt")
	if err := os.WriteFile(outside, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	adapterState := `{"target_dir":"` + filepath.Dir(outside) + `","resources":{"prompt/x":{"type":"prompt","name":"x","path":"` + outside + `"}}}`
	return outside, `{"version":1,"provider":"local","environment":"default","state":"` +
		base64.StdEncoding.EncodeToString([]byte(adapterState)) + `"}`
}

// TestDestroyBeforeTheProjectIsDeleted: destroy reads the arena file (the
// provider, the environment's config) and the pack, as every command
// does. Once a merge deleted the project, a destroy on the default branch
// fails config-not-found and what was deployed stays: docs/targets.md
// says to destroy first, then merge the deletion.
func TestDestroyBeforeTheProjectIsDeleted(t *testing.T) {
	h := deployed(t, nil)
	for _, f := range []string{"arena.yaml", "support-bot.pack.json"} {
		if err := os.Remove(filepath.Join(h.workspace, f)); err != nil {
			t.Fatal(err)
		}
	}
	r := h.dispatch(map[string]string{"command": "destroy", "confirm-destroy": "default"})
	if r.code == 0 || r.outputs["failure-reason"] != "config-not-found" {
		t.Fatalf("destroy after the deletion: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/default/pack.json")); err != nil {
		t.Fatalf("a destroy that failed removed the deployment: %v", err)
	}
	if _, ok := h.stateOf(".", "default"); !ok {
		t.Fatal("a destroy that failed deleted the state")
	}
}
