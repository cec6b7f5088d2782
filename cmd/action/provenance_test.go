package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// defaultDir is the default target's folder on the state branch.
var defaultDir = target.New(".", "arena.yaml", "default").StateDir()

// startMark makes the adapter leave a mark whenever it is started: a run
// that refuses before any adapter call leaves none.
func (h *harness) startMark() string {
	h.t.Helper()
	mark := filepath.Join(h.t.TempDir(), "started")
	h.writeFile("bin/promptarena-deploy-local", "#!/bin/sh\ntouch "+mark+"\nexec "+h.adapterTarget()+" \"$@\"\n")
	if err := os.Chmod(filepath.Join(h.workspace, "bin/promptarena-deploy-local"), 0o755); err != nil {
		h.t.Fatal(err)
	}
	h.env["PATH"] = filepath.Join(h.workspace, "bin") + ":" + h.env["PATH"]
	return mark
}

// snapshotDir is every file under dir with its content.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

// plantStore is a git store of the default target a planter writes to.
type plantStore struct {
	name   string
	in     map[string]string // the inputs that select it
	branch string
	// store is how the witness names it (state.Branch's Describe).
	store string
	// record and pack are the paths of record.json and deployed.pack.json
	// ("": none kept).
	record, pack string
}

var plantStores = []plantStore{
	{"state branch", nil, stateBranch, defaultDir + "/ on branch " + stateBranch, defaultDir + "/" + state.RecordFile, defaultDir + "/" + state.DeployedPackFile},
	{"committed file", map[string]string{"state-branch": ""}, "main", ".promptarena/deploy.state on main", ".promptarena/deploy.state" + state.RecordSuffix, ""},
}

// with is the inputs of st's runs, with in.
func (st plantStore) with(in map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range st.in {
		out[k] = v
	}
	for k, v := range in {
		out[k] = v
	}
	return out
}

// planter writes a file of the default target's store as someone who may
// push would.
type planter struct {
	name  string
	plant func(h *harness, st plantStore, path string, content []byte) string // the commit
}

var planters = []planter{
	// A collaborator pushes to the state branch (or, the committed file,
	// to the default branch).
	{"a collaborator's direct push", func(h *harness, st plantStore, path string, content []byte) string {
		return h.gh.SetFileAs(st.branch, path, content, "mallory")
	}},
	// A pull request's workflow, given contents: write, commits with its
	// token and uploads a witness for what it wrote from its own run.
	{"a pull request's workflow", func(h *harness, st plantStore, path string, content []byte) string {
		gh := h.gh.GitHubClient(ghemu.DefaultToken)
		opts := &github.RepositoryContentFileOptions{Message: github.String("tidy"), Content: content, Branch: github.String(st.branch)}
		if old, ok := h.gh.GetFile(st.branch, path); ok {
			opts.SHA = github.String(state.BlobSHA(old))
		}
		res, _, err := gh.Repositories.CreateFile(context.Background(), ghemu.DefaultOwner, ghemu.DefaultRepo, path, opts)
		if err != nil {
			h.t.Fatal(err)
		}
		if path == st.record {
			doc, _ := json.MarshalIndent(map[string]any{"version": 1, "store": st.store, "record": state.BlobSHA(content)}, "", "  ")
			run := h.gh.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "evilhead", HeadBranch: "tidy-up"})
			h.uploadAs(run, target.New(".", "arena.yaml", "default").WitnessArtifact(), map[string]string{state.WitnessFile: string(doc)})
		}
		return res.Commit.GetSHA()
	}},
}

// TestPlantedStateIsRefused: a pull request's workflow, or a collaborator
// pushing to the state branch, plants a state: a ghost resource (a file
// outside the deploy, which destroy or the next apply's plan would
// delete), a record saying the reviewed plan is "already applied" (the
// apply would deploy nothing, green), or a rewritten deployed.pack.json
// beside a proven record (what the next plan would show the pull request
// against). The next apply, destroy, refresh and status all refuse with
// state-untrusted, name the commit that wrote it, start no adapter and
// change nothing deployed; a planted record is adopted after a person
// checked it, a planted pack is put back (the record is proven). The same
// with the committed file (an empty state-branch), planted on the default
// branch (it keeps no pack beside it: the pack is in the repository).
func TestPlantedStateIsRefused(t *testing.T) {
	outside, ghost := plantedState(t)
	record := func(change func(rec *state.Record, planID string)) func(h *harness, st plantStore, planID string) (string, []byte) {
		return func(h *harness, st plantStore, planID string) (string, []byte) {
			raw, _ := h.gh.GetFile(st.branch, st.record)
			var rec state.Record
			if err := json.Unmarshal(raw, &rec); err != nil {
				h.t.Fatal(err)
			}
			rec.Serial++
			change(&rec, planID)
			forged, _ := json.MarshalIndent(rec, "", "  ")
			return st.record, forged
		}
	}
	for _, st := range plantStores {
		for _, p := range planters {
			for _, plant := range []struct {
				name  string
				plant func(h *harness, st plantStore, planID string) (path string, content []byte)
				// cure is what the refusal says to do.
				cure []string
			}{
				{"a ghost resource", record(func(rec *state.Record, _ string) { rec.State = ghost }),
					[]string{"command: adopt", "confirm-adopt: default"}},
				{"an already applied record", record(func(rec *state.Record, planID string) {
					rec.Commit, rec.PlanID = "merge222", planID
				}), []string{"command: adopt", "confirm-adopt: default"}},
				{"a rewritten deployed.pack.json", func(h *harness, st plantStore, _ string) (string, []byte) {
					raw, ok := h.gh.GetFile(st.branch, st.pack)
					if !ok {
						h.t.Fatal("no deployed.pack.json on the state branch")
					}
					return st.pack, []byte(strings.Replace(string(raw), "five bullet points", "three bullet points", 1))
				}, []string{"deployed.pack.json is not the one the state's record names", "Put back the deployed.pack.json"}},
			} {
				if st.pack == "" && strings.Contains(plant.name, "deployed.pack.json") {
					continue // the committed file keeps no pack: it is in the repository
				}
				t.Run(st.name+", "+p.name+", "+plant.name, func(t *testing.T) {
					h := deployed(t, st.in)
					pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
					h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
					planned := h.planPR(pr, st.in)
					path, content := plant.plant(h, st, planned.outputs["plan-id"])
					original, _ := h.gh.GetFile(st.branch, path)
					commit := p.plant(h, st, path, content)

					mark := h.startMark()
					before := snapshotDir(t, filepath.Join(h.workspace, ".deployed"))
					h.merge(pr, "merge222", "Merge pull request #2")
					runs := map[string]result{"apply": h.run(st.in)}
					for _, cmd := range []map[string]string{
						{"command": "destroy", "confirm-destroy": "default"},
						{"command": "refresh"},
						{"command": "status"},
					} {
						runs[cmd["command"]] = h.dispatch(st.with(cmd))
					}
					for cmd, r := range runs {
						if r.code != 1 || r.outputs["failure-reason"] != "state-untrusted" || r.outputs["applied"] == "true" || r.outputs["destroyed"] == "true" {
							t.Errorf("%s: exit %d %v\n%s", cmd, r.code, r.outputs, r.log)
						}
						for _, want := range append([]string{commit}, plant.cure...) {
							if !strings.Contains(r.log, want) {
								t.Errorf("%s: the log does not say %q:\n%s", cmd, want, r.log)
							}
						}
					}
					if _, err := os.Stat(mark); err == nil {
						t.Error("an adapter was started")
					}
					if after := snapshotDir(t, filepath.Join(h.workspace, ".deployed")); len(after) != len(before) {
						t.Errorf("the deployment changed: %d files, then %d", len(before), len(after))
					} else {
						for f, c := range before {
							if after[f] != c {
								t.Errorf("%s changed", f)
							}
						}
					}
					if b, err := os.ReadFile(outside); err != nil || string(b) != "keep me" {
						t.Errorf("the ghost's file was touched: %q %v", b, err)
					}
					if c := h.gh.Comments(pr.Number); strings.Contains(c[len(c)-1].Body, "Already applied") {
						t.Errorf("the comment says already applied: %s", c[len(c)-1].Body)
					}
					if path != st.pack {
						return
					}
					// The record is proven: adopt finds nothing to adopt and
					// refuses; the pack put back, the state is proven again.
					if r := h.dispatch(st.with(map[string]string{"command": "adopt", "confirm-adopt": "default", "adopt-reason": "looked"})); r.code != 1 ||
						r.outputs["failure-reason"] != "state-untrusted" || r.outputs["adopted"] == "true" || !strings.Contains(r.log, "Put back the deployed.pack.json") {
						t.Errorf("adopt of a rewritten pack: exit %d %v\n%s", r.code, r.outputs, r.log)
					}
					h.gh.SetFileAs(st.branch, path, original, "a-maintainer")
					if r := h.dispatch(st.with(map[string]string{"command": "status"})); r.code != 0 || r.outputs["status"] != "deployed" {
						t.Errorf("status after the pack was put back: exit %d %v\n%s", r.code, r.outputs, r.log)
					}
				})
			}
		}
	}
}

// TestRewrittenDeployedPackIsRefused: deployed.pack.json is what a plan
// shows the pull request's pack against; rewritten (to hide a change from
// the review, say), the next plan refuses with state-untrusted (apply,
// destroy, refresh and status too: TestPlantedStateIsRefused).
func TestRewrittenDeployedPackIsRefused(t *testing.T) {
	for _, p := range planters {
		t.Run(p.name, func(t *testing.T) {
			h := deployed(t, nil)
			pack := mustRead(t, h.workspace+"/support-bot.pack.json")
			commit := p.plant(h, plantStores[0], defaultDir+"/"+state.DeployedPackFile, []byte(strings.Replace(pack, "five bullet points", "three bullet points", 1)))
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
			h.writeFile("support-bot.pack.json", strings.Replace(pack, "five bullet points", "three bullet points", 1))
			h.pullRequest(pr)
			r := h.run(nil)
			if r.code != 1 || r.outputs["failure-reason"] != "state-untrusted" || !strings.Contains(r.log, commit) || !strings.Contains(r.log, "deployed.pack.json") {
				t.Fatalf("plan: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
		})
	}
}

// TestPlantedStateRevertedIsProvenAgain: putting back the record the last
// trusted run wrote (a revert of the planted commit) needs no adopt: that
// run's witness names it.
func TestPlantedStateRevertedIsProvenAgain(t *testing.T) {
	h := deployed(t, nil)
	good, _ := h.gh.GetFile(stateBranch, defaultDir+"/"+state.RecordFile)
	_, ghost := plantedState(t)
	var rec state.Record
	_ = json.Unmarshal(good, &rec)
	rec.State = ghost
	forged, _ := json.MarshalIndent(rec, "", "  ")
	h.gh.SetFileAs(stateBranch, defaultDir+"/"+state.RecordFile, forged, "mallory")
	if r := h.dispatch(map[string]string{"command": "status"}); r.outputs["failure-reason"] != "state-untrusted" {
		t.Fatalf("planted: %v\n%s", r.outputs, r.log)
	}
	h.gh.SetFileAs(stateBranch, defaultDir+"/"+state.RecordFile, good, "a-maintainer")
	if r := h.dispatch(map[string]string{"command": "status"}); r.code != 0 || r.outputs["status"] != "deployed" {
		t.Fatalf("reverted: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
}

// TestAdoptAfterUpgrade: a state written by a version before witnesses (on
// the state branch, or the first release's committed file) stops the next
// apply with state-untrusted, saying it is needed once; adopt, confirmed
// and with a reason, records who adopted it and why, and the apply then
// deploys, its re-run already applied.
func TestAdoptAfterUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]string
		old  func(h *harness) // the earlier version's state
	}{
		{"state branch", nil, func(h *harness) {
			rec, _ := h.gh.GetFile(stateBranch, defaultDir+"/"+state.RecordFile)
			for _, a := range h.gh.Artifacts() { // no witness: an earlier version wrote it
				if strings.HasPrefix(a.Name, "arena-witness-") {
					h.gh.DeleteArtifact(a.ID)
				}
			}
			h.gh.SetFile(stateBranch, defaultDir+"/"+state.RecordFile, rec)
		}},
		{"first release's committed file", map[string]string{"state-branch": ""}, func(h *harness) {
			raw, _ := h.gh.GetFile("main", ".promptarena/deploy.state")
			h.gh.DeleteFile("main", ".promptarena/deploy.state"+state.RecordSuffix)
			for _, a := range h.gh.Artifacts() {
				if strings.HasPrefix(a.Name, "arena-witness-") {
					h.gh.DeleteArtifact(a.ID)
				}
			}
			h.gh.SetFile("main", ".promptarena/deploy.state", raw)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := deployed(t, tc.in)
			tc.old(h)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
			h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
			status := map[string]string{"command": "status"}
			for k, v := range tc.in {
				status[k] = v
			}
			if r := h.dispatch(status); r.code != 1 || r.outputs["failure-reason"] != "state-untrusted" || !strings.Contains(r.log, "needs this once") {
				t.Fatalf("status before adopt: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			// Not confirmed, or without a reason: refused, nothing written.
			for _, in := range []map[string]string{
				{"command": "adopt", "adopt-reason": "checked"},
				{"command": "adopt", "confirm-adopt": "production", "adopt-reason": "checked"},
				{"command": "adopt", "confirm-adopt": "default"},
			} {
				for k, v := range tc.in {
					in[k] = v
				}
				if r := h.dispatch(in); r.code != 1 || r.outputs["failure-reason"] != "adopt-not-confirmed" || r.outputs["adopted"] != "false" {
					t.Fatalf("unconfirmed adopt: exit %d %v\n%s", r.code, r.outputs, r.log)
				}
			}
			h.env["GITHUB_TRIGGERING_ACTOR"] = "a-maintainer"
			r := h.adopt(tc.in, "checked against the console after upgrading")
			for _, want := range []string{"Adopted the state of default", "a-maintainer", "checked against the console"} {
				if !strings.Contains(r.summary, want) {
					t.Errorf("the summary does not say %q:\n%s", want, r.summary)
				}
			}
			recPath, branch := defaultDir+"/"+state.RecordFile, stateBranch
			if tc.in != nil {
				recPath, branch = ".promptarena/deploy.state"+state.RecordSuffix, "main"
			}
			raw, _ := h.gh.GetFile(branch, recPath)
			var rec state.Record
			if err := json.Unmarshal(raw, &rec); err != nil || rec.Adopted == nil || !strings.Contains(rec.Adopted.By, "a-maintainer") || rec.Adopted.Reason == "" {
				t.Fatalf("the record does not say who adopted it and why: %s %v", raw, err)
			}
			// Adopting a proven state again does nothing.
			in := map[string]string{"command": "adopt", "confirm-adopt": "default", "adopt-reason": "again"}
			for k, v := range tc.in {
				in[k] = v
			}
			if r := h.dispatch(in); r.code != 0 || r.outputs["adopted"] != "false" {
				t.Fatalf("second adopt: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			h.pullRequest(pr)
			if r := h.run(tc.in); r.code != 0 {
				t.Fatalf("plan after adopt: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			h.merge(pr, "merge222", "Merge pull request #2")
			if r := h.run(tc.in); r.code != 0 || r.outputs["updated"] != "1" {
				t.Fatalf("apply after adopt: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			if r := h.run(tc.in); r.code != 0 || !strings.Contains(r.summary, "Already applied") {
				t.Fatalf("re-run: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
		})
	}
}

// TestAdoptRunsOnlyWhereItIsTrusted: adopt from a pull request's run (or a
// branch's dispatch) would write a witness no later run trusts: refused.
func TestAdoptRunsOnlyWhereItIsTrusted(t *testing.T) {
	h := deployed(t, nil)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.pullRequest(pr)
	r := h.run(map[string]string{"command": "adopt", "confirm-adopt": "default", "adopt-reason": "trust me"})
	if r.code == 0 || r.outputs["adopted"] == "true" {
		t.Fatalf("adopt from a pull request: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
}

// TestStatusRenewsTheWitness: a witness expiring within a week is uploaded
// again by status (under the lock), so a target deployed once and then only
// watched stays proven; a fresh one is left alone.
func TestStatusRenewsTheWitness(t *testing.T) {
	h := deployed(t, nil)
	witnesses := func() int {
		n := 0
		for _, a := range h.gh.Artifacts() {
			if strings.HasPrefix(a.Name, "arena-witness-") && a.Finalized && !a.Deleted {
				n++
			}
		}
		return n
	}
	if r := h.dispatch(map[string]string{"command": "status"}); r.code != 0 || witnesses() != 1 {
		t.Fatalf("fresh: exit %d, %d witnesses\n%s", r.code, witnesses(), r.log)
	}
	h.gh.Advance(85 * 24 * time.Hour)
	if r := h.dispatch(map[string]string{"command": "status"}); r.code != 0 || witnesses() != 2 {
		t.Fatalf("due: exit %d, %d witnesses\n%s", r.code, witnesses(), r.log)
	}
	h.gh.Advance(60 * 24 * time.Hour) // the first witness expired long ago
	if r := h.dispatch(map[string]string{"command": "refresh"}); r.code != 0 || r.outputs["status"] != "deployed" {
		t.Fatalf("after the first witness expired: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if _, ok := h.gh.GetFile(stateBranch, defaultDir+"/"+state.LockRecordFile); ok {
		t.Error("the renewal left its lock")
	}
}
