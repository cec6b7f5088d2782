package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// mergeReal merges pr as a real commit of main holding the workspace's
// files (a rollback reads the pack back from it), and makes the push.
func (h *harness) mergeReal(pr *ghemu.Pull, message string) string {
	h.t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(h.workspace, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.IsDir() && (d.Name() == ".deployed" || d.Name() == ".promptarena") {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(h.workspace, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	sha := h.gh.CommitTree("main", files, message)
	h.merge(pr, sha, message)
	return sha
}

// record is the target's record on the state branch.
func (h *harness) record(env string) state.Record {
	h.t.Helper()
	raw, ok := h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", env).StateDir()+"/record.json")
	if !ok {
		h.t.Fatal("no record")
	}
	var rec state.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		h.t.Fatal(err)
	}
	return rec
}

// deployTwice plans and applies two pull requests, the second rewording the
// escalation prompt: what a rollback undoes.
func deployTwice(t *testing.T, in map[string]string) (h *harness, m1, m2 string, pack1 []byte) {
	t.Helper()
	h = newHarness(t)
	pr1 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr1, in)
	m1 = h.mergeReal(pr1, "Merge pull request #1")
	if r := h.run(in); r.code != 0 {
		t.Fatalf("apply #1: %v\n%s", r.outputs, r.log)
	}
	pack1 = []byte(mustRead(t, filepath.Join(h.workspace, "support-bot.pack.json")))
	if sb, ok := in["state-branch"]; ok && sb == "" {
		h.checkout() // the next plan reads the committed state from the checkout
	}
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.writeFile("support-bot.pack.json", strings.Replace(string(pack1), "five bullet points", "a haiku", 1))
	h.planPR(pr2, in)
	m2 = h.mergeReal(pr2, "Merge pull request #2")
	if r := h.run(in); r.code != 0 {
		t.Fatalf("apply #2: %v\n%s", r.outputs, r.log)
	}
	return h, m1, m2, pack1
}

// TestRollbackRestoresThePreviousPack: one dispatch puts the previous
// apply's pack back, byte for byte, taken from its merge commit; the
// record names what was restored and who asked; a re-run of the rolled
// back merge does not deploy it again, and the next merge supersedes the
// rollback as usual.
func TestRollbackRestoresThePreviousPack(t *testing.T) {
	hook := newWebhook(t)
	h, m1, m2, pack1 := deployTwice(t, nil)
	if got := mustRead(t, filepath.Join(h.workspace, ".deployed/default/prompts/escalation.json")); !strings.Contains(got, "a haiku") {
		t.Fatalf("#2 is not deployed: %s", got)
	}
	serialBefore := h.record("default").Serial

	h.must(h.runner.Dispatch(m2))
	h.env["GITHUB_ACTOR"] = "oncall"
	in := map[string]string{"command": "rollback", "confirm-rollback": "default", "rollback-reason": "the haiku broke escalations", "notify-webhook": hook.url}
	r := h.run(in)
	if r.code != 0 || r.outputs["applied"] != "true" || r.outputs["rolled-back-to"] != m1 {
		t.Fatalf("rollback: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if got := mustRead(t, filepath.Join(h.workspace, ".deployed/default/prompts/escalation.json")); !strings.Contains(got, "five bullet points") {
		t.Errorf("the previous prompt is not back:\n%s", got)
	}
	kept, _ := h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", "default").StateDir()+"/deployed.pack.json")
	if string(kept) != string(pack1) {
		t.Error("the pack kept beside the state is not #1's, byte for byte")
	}
	rec := h.record("default")
	if rec.Serial != serialBefore+1 || rec.Commit != m2 || rec.RolledBack == nil || rec.RolledBack.ToCommit != m1 ||
		rec.RolledBack.By != "oncall" || rec.RolledBack.Reason != "the haiku broke escalations" || rec.RolledBack.ToSerial == 0 {
		t.Errorf("record: serial %d (was %d), commit %s, rolled back %+v", rec.Serial, serialBefore, rec.Commit, rec.RolledBack)
	}
	if !strings.Contains(r.summary, "Rollback of **default**: rolled back") || !strings.Contains(r.summary, "the haiku broke escalations") {
		t.Errorf("summary:\n%s", r.summary)
	}
	var rollbackComment string
	for _, c := range h.gh.Comments(1) {
		if strings.Contains(c.Body, "Rollback of") {
			rollbackComment = c.Body
		}
	}
	if !strings.Contains(rollbackComment, "⏪ **Rolled back** to the pack applied at") || !strings.Contains(rollbackComment, "pull request #1") {
		t.Errorf("pull request #1 has no rollback comment:\n%+v", h.gh.Comments(1))
	}
	if msgs := hook.messages(); len(msgs) != 1 || !strings.Contains(msgs[0], ":rewind: *Arena rollback of default done*") || !strings.Contains(msgs[0], "asked by oncall") {
		t.Errorf("notification: %q", msgs)
	}

	// A re-run of #2's apply must not undo the rollback.
	h.push(m2, "Merge pull request #2")
	r = h.run(nil)
	if r.code != 1 || r.outputs["failure-reason"] != "superseded" || !strings.Contains(r.log, "was rolled back") {
		t.Errorf("re-run of the rolled-back merge: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if got := mustRead(t, filepath.Join(h.workspace, ".deployed/default/prompts/escalation.json")); !strings.Contains(got, "five bullet points") {
		t.Error("the re-run deployed the rolled-back pack again")
	}

	// The next merge deploys as usual, and ends the rollback.
	pr3 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head3"})
	h.writeFile("support-bot.pack.json", strings.Replace(string(pack1), "five bullet points", "four bullet points", 1))
	h.planPR(pr3, nil)
	h.mergeReal(pr3, "Merge pull request #3")
	if r := h.run(nil); r.code != 0 || r.outputs["applied"] != "true" {
		t.Fatalf("next merge: %v\n%s", r.outputs, r.log)
	}
	if rec := h.record("default"); rec.RolledBack != nil {
		t.Errorf("the rollback outlived the next apply: %+v", rec.RolledBack)
	}
	if got := mustRead(t, filepath.Join(h.workspace, ".deployed/default/prompts/escalation.json")); !strings.Contains(got, "four bullet points") {
		t.Errorf("the next merge is not deployed:\n%s", got)
	}
}

// TestRollbackToANamedApply: rollback-to names an apply by commit or
// serial; a name that matches none fails rollback-not-found, and a bad
// one invalid-input; nothing is deployed.
func TestRollbackToANamedApply(t *testing.T) {
	h, m1, m2, _ := deployTwice(t, nil)
	h.must(h.runner.Dispatch(m2))
	rec := h.record("default")
	for _, c := range []struct{ to, reason string }{
		{"deadbee", "rollback-not-found"},
		{"serial:99", "rollback-not-found"},
		{"yesterday", "invalid-input"},
		{"serial:" + fmt.Sprint(rec.Serial), "rollback-not-found"}, // the current apply's commit: nothing to go back to
	} {
		r := h.run(map[string]string{"command": "rollback", "confirm-rollback": "default", "rollback-to": c.to})
		if r.outputs["failure-reason"] != c.reason || r.outputs["applied"] == "true" {
			t.Errorf("rollback-to %s: %v, want %s\n%s", c.to, r.outputs, c.reason, r.log)
		}
	}
	r := h.run(map[string]string{"command": "rollback", "confirm-rollback": "default", "rollback-to": m1[:8]})
	if r.code != 0 || r.outputs["rolled-back-to"] != m1 {
		t.Fatalf("rollback-to %s: %v\n%s", m1[:8], r.outputs, r.log)
	}
	r = h.run(map[string]string{"command": "rollback", "rollback-to": m1[:8]})
	if r.code == 0 || r.outputs["failure-reason"] != "rollback-not-confirmed" {
		t.Errorf("unconfirmed: %v\n%s", r.outputs, r.log)
	}
}

// TestRollbackRefusesAPackItCannotProve: the merge commit holds another
// pack than the one its apply deployed (recompiled at merge: the apply
// deployed the reviewed bytes), so the pack a rollback would take from
// the default branch is not the one applied: refused, nothing deployed.
// And a record no trusted run wrote is never restored.
func TestRollbackRefusesAPackItCannotProve(t *testing.T) {
	h := newHarness(t)
	pr1 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr1, nil)
	reviewed := mustRead(t, filepath.Join(h.workspace, "support-bot.pack.json"))
	h.writeFile("support-bot.pack.json", strings.Replace(reviewed, `"compilation": {`, `"compilation": {"again": true, `, 1))
	m1 := h.mergeReal(pr1, "Merge pull request #1")
	if r := h.run(nil); r.code != 0 {
		t.Fatalf("apply #1: %v\n%s", r.outputs, r.log)
	}
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.writeFile("support-bot.pack.json", strings.Replace(reviewed, "five bullet points", "a haiku", 1))
	h.planPR(pr2, nil)
	m2 := h.mergeReal(pr2, "Merge pull request #2")
	if r := h.run(nil); r.code != 0 {
		t.Fatalf("apply #2: %v\n%s", r.outputs, r.log)
	}
	h.must(h.runner.Dispatch(m2))
	r := h.run(map[string]string{"command": "rollback", "confirm-rollback": "default"})
	if r.code != 1 || r.outputs["failure-reason"] != "rollback-unproven" || !strings.Contains(r.log, m1[:7]) || r.outputs["applied"] == "true" {
		t.Fatalf("unprovable pack: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if got := mustRead(t, filepath.Join(h.workspace, ".deployed/default/prompts/escalation.json")); !strings.Contains(got, "a haiku") {
		t.Error("something was deployed")
	}
}

// TestRollbackWithTheCommittedFile: state-branch ” keeps its records in
// the checked-out branch's history: a rollback reads them there.
func TestRollbackWithTheCommittedFile(t *testing.T) {
	in := map[string]string{"state-branch": ""}
	h, m1, m2, _ := deployTwice(t, in)
	h.must(h.runner.Dispatch(m2))
	r := h.run(map[string]string{"command": "rollback", "confirm-rollback": "default", "state-branch": ""})
	if r.code != 0 || r.outputs["rolled-back-to"] != m1 {
		t.Fatalf("rollback: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if got := mustRead(t, filepath.Join(h.workspace, ".deployed/default/prompts/escalation.json")); !strings.Contains(got, "five bullet points") {
		t.Errorf("the previous prompt is not back:\n%s", got)
	}
}

// TestRollbackNeedsTheStateHistory: the artifact backend keeps only its
// newest state, so a rollback says it cannot, and deploys nothing.
func TestRollbackNeedsTheStateHistory(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	h, _, m2, _ := deployTwice(t, in)
	h.must(h.runner.Dispatch(m2))
	r := h.run(map[string]string{"command": "rollback", "confirm-rollback": "default", "state-backend": "artifact"})
	if r.code == 0 || r.outputs["failure-reason"] != "invalid-input" || !strings.Contains(r.log, "does not keep") {
		t.Fatalf("artifact backend: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
}
