package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

func TestApplyAfterMerge(t *testing.T) {
	for _, method := range []struct{ name, sha, msg string }{
		{"merge commit", "merge111", "Merge pull request #1 from octo-org/feature"},
		{"squash", "squash11", "Add escalation prompt (#1)"},
		{"rebase", "rebase11", "Add escalation prompt"},
	} {
		t.Run(method.name, func(t *testing.T) {
			h := newHarness(t)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			plan := h.planPR(pr, map[string]string{"environment": "production"})
			h.merge(pr, method.sha, method.msg)
			res := h.run(map[string]string{"environment": "production"})
			if res.code != 0 {
				t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
			}
			o := res.outputs
			if o["applied"] != "true" || o["created"] != "4" || o["plan-id"] != plan.outputs["plan-id"] || o["state-sha"] == "" {
				t.Errorf("outputs %v", o)
			}
			raw, ok := h.stateOf(".", "production")
			if !ok {
				t.Fatal("no state committed")
			}
			var st deploy.State
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&st); err != nil || st.Environment != "production" || st.State == "" || st.PackChecksum != plan.outputs["pack-checksum"] {
				t.Fatalf("state: %s %v", raw, err)
			}
			// The orphan branch's first commit holds the lock; the second, the
			// state, and frees it. Nothing is committed to main.
			commits := h.gh.Commits(stateBranch)
			if len(commits) != 2 || !strings.Contains(commits[1].Message, "[skip ci]") || len(h.gh.Commits("main")) != 0 {
				t.Errorf("commits %+v", commits)
			}
			if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/production/prompts/greeting.json")); err != nil {
				t.Error("not deployed")
			}
			c := h.gh.Comments(pr.Number)
			if len(c) != 1 || !strings.Contains(c[0].Body, "Applied") || !strings.Contains(c[0].Body, "`"+method.sha[:7]+"`") {
				t.Errorf("comment: %+v", c)
			}
			// The next plan starts from the committed state: nothing to do.
			h.checkout()
			pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
			next := h.planPR(pr2, map[string]string{"environment": "production"})
			if next.outputs["has-changes"] != "false" || next.outputs["unchanged"] != "4" {
				t.Errorf("plan after apply: %v", next.outputs)
			}
		})
	}
}

func TestApplyRefusals(t *testing.T) {
	cases := []struct {
		name, reason, inLog string
		between             func(h *harness)
		inputs              map[string]string
	}{
		{name: "no plan for a direct push", reason: "plan-not-found", inLog: "no merged pull request"},
		{name: "plan expired", reason: "plan-expired", inLog: "expired", between: func(h *harness) { h.gh.Advance(ghemu.DefaultRetention + time.Hour) }},
		{name: "pack changed", reason: "pack-mismatch", inLog: "is not the pack that was reviewed", between: func(h *harness) {
			h.writeFile("support-bot.pack.json", strings.Replace(mustRead(h.t, h.workspace+"/support-bot.pack.json"), "friendly", "grumpy", 1))
		}},
		{name: "environment differs", reason: "environment-mismatch", inLog: `the reviewed plan is for "staging"`, between: func(h *harness) {
			// The staging plan, renamed as if it were production's.
			h.renamePlanArtifact(target.New(".", "arena.yaml", "staging").PlanArtifact("head1"), target.New(".", "arena.yaml", "production").PlanArtifact("head1"))
		}, inputs: map[string]string{"environment": "production"}},
		{name: "saved pack with a second JSON value", reason: "pack-mismatch", inLog: "pack_json is not a valid pack", between: func(h *harness) {
			// A digest of the first value alone would match the reviewed
			// pack, and the appended bytes would be applied.
			name := target.New(".", "arena.yaml", "default").PlanArtifact("head1")
			h.reuploadArtifact(name, name+"-x", nil)
			h.reuploadArtifact(name+"-x", name, func(files map[string][]byte) {
				var saved deploy.SavedPlan
				if err := json.Unmarshal(files["deploy.plan"], &saved); err != nil {
					h.t.Fatal(err)
				}
				saved.Request.PackJSON += `{"id":"evil"}`
				saved.PackChecksum = deploy.ComputePackChecksum([]byte(saved.Request.PackJSON))
				files["deploy.plan"], _ = json.Marshal(saved)
			})
			// The pack at the merge commit is recompiled (so the checksums differ).
			h.writeFile("support-bot.pack.json", strings.Replace(mustRead(h.t, h.workspace+"/support-bot.pack.json"), `"compilation": {`, `"compilation": {"again": true, `, 1))
		}},
		{name: "config changed", reason: "config-changed", inLog: "keys differing: target_dir", between: func(h *harness) {
			h.writeFile("arena.yaml", strings.Replace(mustRead(h.t, h.workspace+"/arena.yaml"), ".deployed/default", ".deployed/elsewhere", 1))
		}},
		{name: "adapter binary changed", reason: "adapter-changed", inLog: "adapter binary changed", between: func(h *harness) {
			h.writeFile("bin/promptarena-deploy-local", "#!/bin/sh\nexec "+h.adapterTarget()+" \"$@\"\n")
			_ = os.Chmod(filepath.Join(h.workspace, "bin/promptarena-deploy-local"), 0o755)
			h.env["PATH"] = filepath.Join(h.workspace, "bin") + ":" + h.env["PATH"]
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			env := tc.inputs["environment"]
			if tc.reason == "environment-mismatch" {
				h.planPR(pr, map[string]string{"environment": "staging"})
			} else {
				h.planPR(pr, map[string]string{"environment": env})
			}
			if tc.between != nil {
				tc.between(h)
			}
			if tc.reason == "plan-not-found" {
				h.push("direct11", "hotfix straight to main")
			} else {
				h.merge(pr, "merge111", "Merge pull request #1")
			}
			res := h.run(tc.inputs)
			if res.code != 1 || res.outputs["failure-reason"] != tc.reason || res.outputs["applied"] != "false" {
				t.Fatalf("exit %d, outputs %v\n%s", res.code, res.outputs, res.log)
			}
			if !strings.Contains(res.log, tc.inLog) {
				t.Errorf("log lacks %q:\n%s", tc.inLog, res.log)
			}
			if h.anyState() {
				t.Error("state written by a refused apply")
			}
			if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
				t.Error("something was deployed by a refused apply")
			}
			if tc.reason != "plan-not-found" {
				// The target's own comment (staging and production each have one).
				c := h.gh.Comments(pr.Number)
				last := c[len(c)-1]
				if !strings.Contains(last.Body, "Arena apply to") || !strings.Contains(last.Body, tc.reason) {
					t.Errorf("comment: %+v", c)
				}
			}
		})
	}
}

func TestRecompiledPackStillApplies(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	plan := h.planPR(pr, nil)
	// The merge commit's CI recompiled the pack: new timestamp and compiler.
	pack := mustRead(t, h.workspace+"/support-bot.pack.json")
	pack = strings.Replace(pack, `"created_at": "2026-11-20T10:00:00Z"`, `"created_at": "2026-11-27T08:00:00Z"`, 1)
	pack = strings.Replace(pack, "promptarena v1.3.5", "promptarena v1.3.6", 1)
	h.writeFile("support-bot.pack.json", pack)
	h.merge(pr, "merge111", "Merge pull request #1")
	res := h.run(nil)
	if res.code != 0 || res.outputs["pack-checksum"] != plan.outputs["pack-checksum"] {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if c := h.gh.Comments(pr.Number); !strings.Contains(c[0].Body, "recompiled") {
		t.Errorf("no note: %s", c[0].Body)
	}
}

func TestStalePlans(t *testing.T) {
	t.Run("state changed but the plan did not: applies", func(t *testing.T) {
		h := deployed(t, nil)
		pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
		h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
		plan := h.planPR(pr, nil)
		if plan.outputs["to-update"] != "1" {
			t.Fatalf("plan: %v", plan.outputs)
		}
		// The stored adapter state is rewritten with the same meaning (as an
		// adapter recording new metadata would): its digest changes.
		raw, _ := h.stateOf(".", "default")
		var st deploy.State
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		inner, _ := base64.StdEncoding.DecodeString(st.State)
		var v any
		_ = json.Unmarshal(inner, &v)
		pretty, _ := json.MarshalIndent(v, "", "    ")
		st.State = base64.StdEncoding.EncodeToString(pretty)
		b, _ := json.MarshalIndent(st, "", "  ")
		h.setStateOf(".", "default", b)
		h.adopt(nil, "the adapter's state, reformatted")
		h.merge(pr, "merge222", "Merge pull request #2")
		r := h.run(nil)
		if r.code != 0 || r.outputs["updated"] != "1" {
			t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
		}
		if c := h.gh.Comments(pr.Number); !strings.Contains(c[len(c)-1].Body, "planning again gives the same changes") {
			t.Errorf("no note: %s", c[len(c)-1].Body)
		}
	})
	t.Run("two PRs in sequence, second planned before the first applied", func(t *testing.T) {
		h := newHarness(t)
		pr1 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
		h.planPR(pr1, nil)
		pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
		h.planPR(pr2, nil) // also "+4 to create", against the same empty state
		h.merge(pr1, "merge111", "Merge pull request #1")
		if r := h.run(nil); r.code != 0 {
			t.Fatal(r.log)
		}
		h.checkout()
		h.merge(pr2, "merge222", "Merge pull request #2")
		r := h.run(nil)
		// Now everything exists: the plan changed from 4 creates to nothing.
		if r.code != 1 || r.outputs["failure-reason"] != "state-changed" {
			t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
		}
		for _, want := range []string{"--- reviewed plan", "-CREATE", "+NO_CHANGE"} {
			if !strings.Contains(r.log, want) {
				t.Errorf("diff lacks %q:\n%s", want, r.log)
			}
		}
		c := h.gh.Comments(pr2.Number)
		if !strings.Contains(c[0].Body, "```diff") {
			t.Errorf("comment has no diff: %s", c[0].Body)
		}
		// With on-stale-plan: replan the new plan is applied instead.
		r = h.run(map[string]string{"on-stale-plan": "replan"})
		if r.code != 0 || r.outputs["applied"] != "true" {
			t.Fatalf("replan: %v\n%s", r.outputs, r.log)
		}
	})
}

func TestStateConflictLosesNothing(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	// While this run deploys, another run takes its lock over (as if this one
	// had outlived the lock) and writes its own state: ours must not
	// overwrite it.
	theirs := []byte(`{"version":1,"provider":"local","environment":"default","state":"theirs"}`)
	dir := target.New(".", "arena.yaml", "default").StateDir()
	h.gh.Inject("POST /repos/{owner}/{repo}/git/trees", ghemu.Fault{}) // the new branch's
	h.gh.Inject("POST /repos/{owner}/{repo}/git/trees", ghemu.Fault{Before: func() {
		h.gh.SetFile(stateBranch, dir+"/lock.json", []byte(`{"run_id": 77, "run_attempt": 1, "started": "2026-11-27T09:00:00Z", "expires": "2026-11-27T10:00:00Z"}`))
		h.setStateOf(".", "default", theirs)
	}})
	res := h.run(nil)
	if res.code != 1 || res.outputs["failure-reason"] != "state-conflict" || res.outputs["state-artifact"] != target.New(".", "arena.yaml", "default").KeptStateArtifact("merge111") || res.outputs["applied"] != "true" {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	var kept bool
	for _, a := range h.gh.Artifacts() {
		kept = kept || (a.Name == target.New(".", "arena.yaml", "default").KeptStateArtifact("merge111") && a.Finalized)
	}
	if !kept {
		t.Fatal("our state was not kept as an artifact")
	}
	if got, _ := h.stateOf(".", "default"); string(got) != string(theirs) {
		t.Fatalf("their state was overwritten: %s", got)
	}
	if !strings.Contains(res.log, "To recover") {
		t.Errorf("no recovery steps:\n%s", res.log)
	}
}

func TestAdapterFailsMidApply(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	// Something occupies the path of one prompt: that write fails.
	if err := os.MkdirAll(filepath.Join(h.workspace, ".deployed/default/prompts/refund.json/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.merge(pr, "merge111", "Merge pull request #1")
	res := h.run(nil)
	if res.code != 1 || res.outputs["failure-reason"] != "apply-failed" {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	raw, ok := h.stateOf(".", "default")
	if !ok || !strings.Contains(res.log, "partial state was saved") && !strings.Contains(h.gh.Comments(pr.Number)[0].Body, "partial state was saved") {
		t.Fatalf("partial state not saved: %v %s", ok, raw)
	}
	if c := h.gh.Comments(pr.Number); !strings.Contains(c[0].Body, "Failed") || !strings.Contains(c[0].Body, "refund.json") {
		t.Errorf("comment: %s", c[0].Body)
	}
}

func TestApplyWithHeldLock(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	// A run on another runner holds the target's lock.
	lock := "default-" + target.New(".", "arena.yaml", "default").ID() + "/lock.json"
	h.gh.SetFile(stateBranch, lock, []byte(`{"run_id": 4242, "run_attempt": 2, "run_url": "https://github.com/octo-org/app/actions/runs/4242",
  "actor": "hubot", "commit": "merge000", "started": "2026-11-27T08:59:00Z", "expires": "2026-11-27T09:59:00Z"}`))
	r := h.run(map[string]string{"lock-timeout": "30s"})
	if r.code != 1 || r.outputs["failure-reason"] != "lock-held" || !strings.Contains(r.log, "concurrency") {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	for _, want := range []string{"run 4242 (attempt 2) by hubot", "actions/runs/4242"} {
		if !strings.Contains(r.log, want) {
			t.Errorf("the holder is not named (%q):\n%s", want, r.log)
		}
	}
	if h.anyState() {
		t.Fatal("state written while the lock was held")
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
		t.Fatal("deployed while the lock was held")
	}
	// The holder died: once its lock expired, it is taken over, with a warning.
	h.gh.Advance(time.Hour)
	r = h.run(nil)
	if r.code != 0 || !strings.Contains(r.log, "Took over the deploy lock of run 4242") {
		t.Fatalf("after expiry: %v\n%s", r.outputs, r.log)
	}
	if _, ok := h.gh.GetFile(stateBranch, lock); ok {
		t.Error("lock not released")
	}
}

func TestDirectPushPlanAndApply(t *testing.T) {
	h := newHarness(t)
	h.push("direct11", "hotfix straight to main")
	r := h.run(map[string]string{"on-missing-plan": "plan-and-apply"})
	if r.code != 0 || r.outputs["applied"] != "true" || r.outputs["created"] != "4" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if !strings.Contains(r.summary, "planned and applied in this run") {
		t.Errorf("summary does not say so: %s", r.summary)
	}
}

func TestStateWriteOutageLosesNothing(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	// One 502 is retried and the write lands.
	h.gh.Inject("PATCH /repos/{owner}/{repo}/git/refs/{ref...}", ghemu.Fault{Status: 502})
	if r := h.run(nil); r.code != 0 || r.outputs["state-sha"] == "" {
		t.Fatalf("transient: %v\n%s", r.outputs, r.log)
	}
	// A lasting outage: the state is kept as an artifact and the run says so.
	h.checkout()
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
	h.planPR(pr2, nil)
	h.merge(pr2, "merge222", "Merge pull request #2")
	h.gh.Inject("PATCH /repos/{owner}/{repo}/git/refs/{ref...}", ghemu.Fault{Status: 503, Times: 100}) // every try of the retry policy and of the ref update
	r := h.run(nil)
	if r.code != 1 || r.outputs["failure-reason"] != "github-api-error" || r.outputs["state-artifact"] != target.New(".", "arena.yaml", "default").KeptStateArtifact("merge222") {
		t.Fatalf("outage: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	var kept bool
	for _, a := range h.gh.Artifacts() {
		if a.Name == target.New(".", "arena.yaml", "default").KeptStateArtifact("merge222") && a.Finalized {
			files := h.artifactFiles(a.ID)
			kept = strings.Contains(string(files["deploy.state"]), `"environment": "default"`)
		}
	}
	if !kept {
		t.Fatal("the new state was lost")
	}
}

// TestApplyAPICalls: the lock and the state branch cost at most four API
// calls per apply beyond the ten of an apply that committed its state to
// the checked-out branch (BENCHMARKS.md): lock record, record read, the
// folder's listing (deployed.pack.json must be the one the proven record
// names: TestPlantedStateIsRefused), and tree, commit and ref update for
// the state, in place of a state read and a state write. The compare API
// is not asked when the push came right after the applied commit.
func TestApplyAPICalls(t *testing.T) {
	h := deployed(t, nil)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
	h.planPR(pr, nil)
	h.merge(pr, "merge222", "Merge pull request #2")
	h.gh.ResetLog()
	if r := h.run(nil); r.code != 0 || r.outputs["updated"] != "1" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	var calls []string
	state := 0
	for _, r := range h.gh.Requests() {
		if !strings.HasPrefix(r.Path, "/repos/") && r.Path != "/user" {
			continue // the artifact service and blob storage are not the REST API
		}
		calls = append(calls, r.Method+" "+r.Route)
		if strings.Contains(r.Path, "/git/") || strings.Contains(r.Path, "/contents/") || strings.Contains(r.Path, "/compare/") {
			state++
		}
	}
	t.Logf("%d REST calls, %d for the lock and the state:\n%s", len(calls), state, strings.Join(calls, "\n"))
	if state != 6 {
		t.Errorf("%d calls for the lock and the state, want 6 (lock, record, folder listing, tree, commit, ref)", state)
	}
	// Today's other calls: commit→PR, artifact list, run list, download,
	// the token's identity, comment list, comment edit ×2; the state's
	// provenance: its witnesses' listing and the run list of the newest
	// (its commit is the push's before: no compare); and the state
	// branch's rules (who may write it, for the summary).
	if others := len(calls) - state; others != 11 {
		t.Errorf("%d other calls, want 11", others)
	}
	witness := 0
	for _, r := range h.gh.Requests() {
		if r.Route == "GET /repos/{owner}/{repo}/actions/artifacts" && strings.Contains(r.Query, "arena-witness-") {
			witness++
		}
	}
	if witness != 1 {
		t.Errorf("%d listings of the witnesses, want 1", witness)
	}
}

// TestStateNotWritable: a store that refuses writes (a ruleset's 409, a
// classic protection's 422, a token that may not push) fails the lock
// write, before the adapter is even started: nothing deployed, no state,
// the way out in the message.
func TestStateNotWritable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		branch string // the state-branch input
		setup  func(h *harness)
	}{
		{"ruleset on the state branch", "", func(h *harness) { h.gh.Protect(stateBranch, 409) }},
		{"protected state branch", "", func(h *harness) { h.gh.Protect(stateBranch, 422) }},
		{"token may not push", "", func(h *harness) { h.gh.Protect(stateBranch, 403) }},
		{"read-only token", "", func(h *harness) {
			h.gh.AddToken("ghs_ro", ghemu.BotLogin, map[string]string{"contents": ghemu.Read, "pull_requests": ghemu.Write, "issues": ghemu.Write, "actions": ghemu.Read})
			h.env["INPUT_GITHUB-TOKEN"] = "ghs_ro"
		}},
		{"ruleset on the default branch, state-branch ''", "''", func(h *harness) { h.gh.Protect("main", 409) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			in := map[string]string{}
			if tc.branch == "''" {
				in["state-branch"] = ""
			}
			h.planPR(pr, in)
			// The adapter leaves a mark when it is started at all.
			mark := filepath.Join(t.TempDir(), "started")
			h.writeFile("bin/promptarena-deploy-local", "#!/bin/sh\ntouch "+mark+"\nexec "+h.adapterTarget()+" \"$@\"\n")
			_ = os.Chmod(filepath.Join(h.workspace, "bin/promptarena-deploy-local"), 0o755)
			h.env["PATH"] = filepath.Join(h.workspace, "bin") + ":" + h.env["PATH"]
			tc.setup(h)
			h.merge(pr, "merge111", "Merge pull request #1")
			r := h.run(in)
			if r.code != 1 || r.outputs["failure-reason"] != "state-not-writable" || r.outputs["applied"] != "false" {
				t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			for _, want := range []string{"Nothing was deployed", "state-backend: artifact", "App or personal access token"} {
				if !strings.Contains(r.log, want) {
					t.Errorf("log lacks %q:\n%s", want, r.log)
				}
			}
			if _, err := os.Stat(mark); err == nil {
				t.Error("the adapter was started")
			}
			if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
				t.Error("something was deployed")
			}
			if h.anyState() {
				t.Error("a state was written")
			}
		})
	}
}

// TestRerunAndOutOfOrderApplies: a re-run of a successful apply is
// "already applied" (no deploy, comment stays applied); an older merge's
// apply running after a newer one's is superseded, with on-stale-plan:
// replan too, and production keeps the newer pack. The same on the state
// branch and with the committed file (state-branch: ”).
func TestRerunAndOutOfOrderApplies(t *testing.T) {
	for _, tc := range []struct {
		name, branch string
		in           map[string]string
	}{
		{"state branch", stateBranch, nil},
		{"committed file", "main", map[string]string{"state-branch": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) { rerunAndOutOfOrder(t, tc.branch, tc.in) })
	}
}

func rerunAndOutOfOrder(t *testing.T, branch string, in map[string]string) {
	h := newHarness(t)
	pack := h.workspace + "/support-bot.pack.json"
	pr1 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr1, in)
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, pack), "five bullet points", "three bullet points", 1))
	h.planPR(pr2, in)
	newer := mustRead(t, pack)
	h.gh.MergePull(pr1.Number, "merge111")
	h.gh.MergePull(pr2.Number, "merge222")
	// The newer merge's apply runs first.
	h.push("merge222", "Merge pull request #2")
	if r := h.run(in); r.code != 0 || r.outputs["applied"] != "true" {
		t.Fatalf("newer: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	deployed := mustRead(t, filepath.Join(h.workspace, ".deployed/default/prompts/escalation.json"))
	commits := len(h.gh.Commits(branch))

	// Its re-run: already applied.
	r := h.run(in)
	if r.code != 0 || r.outputs["applied"] != "true" || !strings.Contains(r.summary, "Already applied") {
		t.Fatalf("re-run: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if c := h.gh.Comments(pr2.Number); !strings.Contains(c[len(c)-1].Body, "Applied") || strings.Contains(c[len(c)-1].Body, "Failed") {
		t.Errorf("re-run comment: %s", c[len(c)-1].Body)
	}

	// The older merge's apply, late, even with on-stale-plan: replan.
	h.push("merge111", "Merge pull request #1")
	replan := map[string]string{"on-stale-plan": "replan"}
	for k, v := range in {
		replan[k] = v
	}
	r = h.run(replan)
	if r.code != 1 || r.outputs["failure-reason"] != "superseded" || r.outputs["applied"] != "false" {
		t.Fatalf("older: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if got := mustRead(t, filepath.Join(h.workspace, ".deployed/default/prompts/escalation.json")); got != deployed {
		t.Error("production rolled back to the older pack")
	}
	if n := len(h.gh.Commits(branch)); n != commits+4 { // each run's lock and its release
		t.Errorf("%d commits since the apply, want only the two runs' locks and releases", n-commits)
	}
	if branch != stateBranch {
		return // the committed file keeps no pack: the repository has it
	}
	raw, _ := h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", "default").StateDir()+"/deployed.pack.json")
	if string(raw) != newer {
		t.Error("the recorded pack is not the newer one")
	}
}

// TestStateRefusedAfterTheDeploy: the store takes the lock but refuses the
// final write (a ruleset added meanwhile): state-not-writable, the deploy
// is reported as applied, and its state is kept as an artifact.
func TestStateRefusedAfterTheDeploy(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	h.gh.Inject("POST /repos/{owner}/{repo}/git/trees", ghemu.Fault{}) // the new branch's
	h.gh.Inject("POST /repos/{owner}/{repo}/git/trees", ghemu.Fault{Before: func() { h.gh.Protect(stateBranch, 409) }})
	r := h.run(nil)
	if r.code != 1 || r.outputs["failure-reason"] != "state-not-writable" || r.outputs["applied"] != "true" || r.outputs["created"] != "4" ||
		r.outputs["state-artifact"] != target.New(".", "arena.yaml", "default").KeptStateArtifact("merge111") {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if !strings.Contains(r.log, "The deploy happened") {
		t.Errorf("log:\n%s", r.log)
	}
}
