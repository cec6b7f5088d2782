package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/evalresults/evaltest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/report/reporttest"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// Results written by promptarena run (internal/evalresults/testdata):
// evalBase passes refund-limit and every trial, evalPR regresses
// refund-limit on both providers in both regions and costs about a
// quarter more; evalOther ran another pack's prompts.
const (
	evalBase  = evaltest.Base
	evalPR    = evaltest.PR
	evalOther = evaltest.OtherPack
)

// writeResults puts promptarena's results in the workspace's out/, as the
// evaluation step of this job writes them after the checkout; replace
// pairs rewrite text in them.
func (h *harness) writeResults(fixture string, replace ...string) {
	h.t.Helper()
	if err := evaltest.Write(filepath.Join(h.workspace, "out"), fixture, evaltest.Options{Replace: replace}); err != nil {
		h.t.Fatal(err)
	}
}

func evalInputs(policy string, more ...string) map[string]string {
	in := map[string]string{"environment": "production", "evaluations": "out", "evaluation-policy": policy}
	for i := 0; i+1 < len(more); i += 2 {
		in[more[i]] = more[i+1]
	}
	return in
}

// deployWithBaseline deploys pull request #1 with the baseline's results,
// so production's state branch records them.
func deployWithBaseline(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.writeResults(evalBase)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, evalInputs("none"))
	h.merge(pr, "merge111", "Deploy (#1)")
	if r := h.run(evalInputs("none")); r.code != 0 {
		t.Fatalf("first apply: %v\n%s", r.outputs, r.log)
	}
	h.checkout()
	return h
}

// renameEscalation is pull request #2's change: the escalation prompt's
// display name, which its system prompt (what the results prove) keeps.
func (h *harness) renameEscalation() {
	h.t.Helper()
	pack := mustRead(h.t, filepath.Join(h.workspace, "support-bot.pack.json"))
	edited := strings.Replace(pack, `"name": "Escalation"`, `"name": "Escalation v2"`, 1)
	if edited == pack {
		h.t.Fatal("the example pack's escalation prompt changed: update the test's edit")
	}
	h.writeFile("support-bot.pack.json", edited)
}

func baselineOf(t *testing.T, h *harness) *evalgate.Baseline {
	t.Helper()
	raw, ok := h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", "production").StateDir()+"/"+evalgate.FileName)
	if !ok {
		t.Fatal("no baseline on the state branch")
	}
	b, err := evalgate.DecodeBaseline(raw)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEvaluationsInThePlan: the plan comment's evaluation section (above
// the prompt diff) compares the pull request's results with the baseline
// recorded at the last apply; the summary has every case; the outputs,
// the provenance and the artifact carry them; deploy.plan stays
// promptarena's; a secret in a run's error is masked everywhere.
func TestEvaluationsInThePlan(t *testing.T) {
	h := deployWithBaseline(t)
	const secret = "tok-9f2c41d7e8a6b3"
	h.env["PROVIDER_API_TOKEN"] = secret
	h.renameEscalation()
	h.writeResults(evalPR, "EOF", "EOF for key "+secret) // the skipped runs' reason
	if files, _ := filepath.Glob(filepath.Join(h.workspace, "out", "*overloaded*.json")); len(files) != 4 || !strings.Contains(mustRead(t, files[0]), secret) {
		t.Fatalf("the secret is not in the results: %v", files)
	}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2", User: "monalisa"})
	res := h.planPR(pr, evalInputs("no-regressions, max-cost-growth: 20%"))
	o := res.outputs
	if o["evaluation-failed"] != "16" || o["evaluation-passed"] != "4" || o["evaluation-skipped"] != "4" || o["evaluation-total"] != "24" ||
		o["evaluation-newly-failing"] != "8" || o["evaluation-verdict"] != "blocked" || !strings.HasPrefix(o["evaluation-digest"], "sha256:") {
		t.Errorf("outputs %v", o)
	}
	c := h.gh.Comments(pr.Number)
	if len(c) != 1 {
		t.Fatalf("comments %d", len(c))
	}
	body := c[0].Body
	for _, want := range []string{"#### Evaluations: ❌ 16 failed, 4 passed, 4 skipped", "**8 newly failing**", "🔴 **newly failing** | refund-limit | openai-4o | eu", "🔴 **newly failing** | escalation-summary | openai-mini | us | 2/3",
		"**no-regressions**", "**max-cost-growth**", "written by this pull request's workflow run: evidence for the review", "12 of 28 runs"} {
		if !strings.Contains(body, want) {
			t.Errorf("the comment lacks %q:\n%s", want, body)
		}
	}
	if i, j := strings.Index(body, "#### Evaluations"), strings.Index(body, "#### Prompts"); i < 0 || j < 0 || i > j {
		t.Errorf("the evaluation section is not above the prompt diff (%d, %d)", i, j)
	}
	for _, bad := range []string{"<img", "@octocat", "#12"} {
		if strings.Contains(body, bad) {
			t.Errorf("hostile text %q reached the comment", bad)
		}
	}
	// The summary lists every case, passed ones too.
	if strings.Count(res.summary, "| ✅ passed |") != 4 {
		t.Errorf("summary rows:\n%s", res.summary)
	}
	files := h.artifactFiles(atoi64(t, o["artifact-id"]))
	var prov struct {
		PackChecksum string `json:"pack_checksum"`
		Evaluation   struct {
			Digest, Source, Format string
			Totals                 struct{ Failed int }
			Blocked                []string
			BaselineCommit         string `json:"baseline_commit"`
		} `json:"evaluation"`
	}
	if err := json.Unmarshal(files["provenance.json"], &prov); err != nil {
		t.Fatal(err)
	}
	if prov.Evaluation.Digest != o["evaluation-digest"] || prov.Evaluation.Source != "out" || prov.Evaluation.Totals.Failed != 16 ||
		len(prov.Evaluation.Blocked) != 2 || prov.Evaluation.BaselineCommit != "merge111" || prov.PackChecksum != o["pack-checksum"] {
		t.Errorf("provenance %+v", prov)
	}
	if b, err := evalgate.DecodeBaseline(files[evalgate.FileName]); err != nil || len(b.Results.Cases) != 24 || b.Results.Digest != o["evaluation-digest"] {
		t.Errorf("the artifact's %s: %v", evalgate.FileName, err)
	}
	var plan map[string]json.RawMessage
	if err := json.Unmarshal(files["deploy.plan"], &plan); err != nil {
		t.Fatal(err)
	}
	for k := range plan {
		if strings.Contains(strings.ToLower(k), "eval") {
			t.Errorf("deploy.plan carries %q: it must stay promptarena's format", k)
		}
	}
	res.log = withoutMasks(res.log) // the runner keeps ::add-mask:: lines to itself
	h.assertNowhere(pr, res, secret)
}

// withoutMasks is the log less its ::add-mask:: commands.
func withoutMasks(log string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// shown is the log as the runner shows it (workflow commands decoded).
func shown(log string) string { return strings.Join(reporttest.View(log), "\n") }

// TestEvaluationGateRefuses: each rule of evaluation-policy refuses the
// merge's apply with evaluation-blocked, naming the cases; nothing is
// deployed and the state and baseline stay as they were.
func TestEvaluationGateRefuses(t *testing.T) {
	cases := []struct {
		policy, inLog string
	}{
		{"no-failures", "no-failures: 16 cases fail: broken-request · openai-4o · eu"},
		{"min-pass-rate: 90%", "min-pass-rate: the pass rate is 42.9% (12 of 28 runs), under 90%"},
		{"no-regressions", "no-regressions: 8 cases passed in the baseline and fail now: escalation-summary · openai-4o · eu; escalation-summary · openai-4o · us; " +
			"escalation-summary · openai-mini · eu; escalation-summary · openai-mini · us; refund-limit · openai-4o · eu"},
		{"max-cost-growth: 10%", "max-cost-growth: the cost per run of the cases both ran grew"},
	}
	for _, c := range cases {
		t.Run(c.policy, func(t *testing.T) {
			h := deployWithBaseline(t)
			before := len(h.gh.Commits(stateBranch))
			base := baselineOf(t, h)
			h.renameEscalation()
			h.writeResults(evalPR)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
			h.planPR(pr, evalInputs(c.policy))
			h.merge(pr, "merge222", "Rename (#2)")
			res := h.run(evalInputs(c.policy))
			if res.code == 0 || res.outputs["failure-reason"] != "evaluation-blocked" || res.outputs["applied"] != "false" || res.outputs["evaluation-verdict"] != "blocked" {
				t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
			}
			if log := shown(res.log); !strings.Contains(log, c.inLog) || !strings.Contains(log, "nothing was deployed") {
				t.Errorf("the log does not say %q:\n%s", c.inLog, res.log)
			}
			if deployed := mustRead(t, filepath.Join(h.workspace, ".deployed/production/prompts/escalation.json")); strings.Contains(deployed, "Escalation v2") {
				t.Error("the refused apply deployed the new pack")
			}
			// The lock came and went; no state or baseline was written.
			for _, cm := range h.gh.Commits(stateBranch)[before:] {
				if strings.Contains(cm.Message, "state after") {
					t.Errorf("a state was written: %q", cm.Message)
				}
			}
			if got := baselineOf(t, h); got.Results.Digest != base.Results.Digest || got.Commit != "merge111" {
				t.Errorf("the baseline changed: %s at %s", got.Results.Digest, got.Commit)
			}
			body := h.gh.Comments(pr.Number)[0].Body
			if !strings.Contains(body, "The evaluation gate refused this deploy; nothing was deployed.") || !strings.Contains(body, "`evaluation-blocked`") ||
				strings.Contains(body, "pull request's workflow run") {
				t.Errorf("comment:\n%s", body)
			}
		})
	}
}

// TestEvaluationBaselineWithTheState: an apply the gate lets through
// writes the new baseline in the same commit as the state, from the merge
// run's own results; status shows it.
func TestEvaluationBaselineWithTheState(t *testing.T) {
	h := deployWithBaseline(t)
	first := baselineOf(t, h)
	h.renameEscalation()
	h.writeResults(evalPR)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.planPR(pr, evalInputs("none"))
	h.merge(pr, "merge222", "Rename (#2)")
	res := h.run(evalInputs("max-cost-growth: 200%"))
	if res.code != 0 || res.outputs["evaluation-verdict"] != "pass" {
		t.Fatalf("apply: %v\n%s", res.outputs, res.log)
	}
	stateSHA := res.outputs["state-sha"]
	changed := changedFiles(t, h, stateSHA)
	dir := target.New(".", "arena.yaml", "production").StateDir()
	for _, f := range []string{"deploy.state", "record.json", evalgate.FileName} {
		if !changed[dir+"/"+f] {
			t.Errorf("the state commit %s does not write %s (it writes %v)", stateSHA, f, changed)
		}
	}
	b := baselineOf(t, h)
	if b.Commit != "merge222" || b.Results.Digest != res.outputs["evaluation-digest"] || b.Results.Digest == first.Results.Digest ||
		b.PackChecksum != res.outputs["pack-checksum"] || b.Policy != "max-cost-growth: 200%" || b.Override != nil || b.RunID == 0 {
		t.Errorf("baseline %+v", b)
	}
	body := h.gh.Comments(pr.Number)[0].Body
	if !strings.Contains(body, "The evaluation gate passed (evaluation-policy `max-cost-growth: 200%`)") {
		t.Errorf("comment:\n%s", body)
	}
	// Status shows what the last apply recorded.
	r := h.dispatch(map[string]string{"command": "status", "environment": "production"})
	if r.code != 0 || !strings.Contains(r.summary, "Evaluations at the last apply") || !strings.Contains(r.summary, "`merge22`") {
		t.Errorf("status: %v\n%s", r.outputs, r.summary)
	}
}

// TestEvaluationsOfAnotherPack: results whose runs recorded other prompts
// are refused, naming both, in the plan and at apply.
func TestEvaluationsOfAnotherPack(t *testing.T) {
	h := newHarness(t)
	h.writeResults(evalOther)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	res := h.run(evalInputs("none"))
	if res.code == 0 || res.outputs["failure-reason"] != "evaluation-pack-mismatch" {
		t.Fatalf("plan: %v\n%s", res.outputs, res.log)
	}
	for _, want := range []string{"You are a travel agent for Acme", "support-bot 1.2.0", "escalation, greeting, refund"} {
		if !strings.Contains(res.log, want) {
			t.Errorf("the refusal does not name %q:\n%s", want, res.log)
		}
	}
	// The merge run's own results are another pack's too: nothing applied.
	h.writeResults(evalBase)
	h.planPR(pr, evalInputs("none"))
	h.merge(pr, "merge111", "Deploy (#1)")
	h.writeResults(evalOther)
	res = h.run(evalInputs("none"))
	if res.code == 0 || res.outputs["failure-reason"] != "evaluation-pack-mismatch" || h.anyState() {
		t.Fatalf("apply: %v\n%s", res.outputs, res.log)
	}
}

// TestPullRequestResultsNeverGate: apply gates on the results its own run
// wrote. The pull request's (in its plan artifact) neither let a
// regression through nor stand in for missing results.
func TestPullRequestResultsNeverGate(t *testing.T) {
	t.Run("the pull request's passing results do not let a regression through", func(t *testing.T) {
		h := deployWithBaseline(t)
		h.renameEscalation()
		h.writeResults(evalBase) // as good as the baseline
		pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
		if plan := h.planPR(pr, evalInputs("no-regressions")); plan.outputs["evaluation-verdict"] != "pass" {
			t.Fatalf("plan: %v", plan.outputs)
		}
		h.merge(pr, "merge222", "Rename (#2)")
		h.writeResults(evalPR) // what the merge commit really does
		res := h.run(evalInputs("no-regressions"))
		if res.code == 0 || res.outputs["failure-reason"] != "evaluation-blocked" {
			t.Fatalf("apply: %v\n%s", res.outputs, res.log)
		}
	})
	t.Run("the pull request's failing results do not block a good merge", func(t *testing.T) {
		h := deployWithBaseline(t)
		h.renameEscalation()
		h.writeResults(evalPR)
		pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
		if plan := h.planPR(pr, evalInputs("no-regressions")); plan.outputs["evaluation-verdict"] != "blocked" {
			t.Fatalf("plan: %v", plan.outputs)
		}
		h.merge(pr, "merge222", "Rename (#2)")
		h.writeResults(evalBase)
		res := h.run(evalInputs("no-regressions"))
		if res.code != 0 || res.outputs["evaluation-verdict"] != "pass" {
			t.Fatalf("apply: %v\n%s", res.outputs, res.log)
		}
	})
	t.Run("no results in the merge run: refused, not the pull request's", func(t *testing.T) {
		h := deployWithBaseline(t)
		h.renameEscalation()
		h.writeResults(evalBase)
		pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
		h.planPR(pr, evalInputs("no-regressions"))
		h.merge(pr, "merge222", "Rename (#2)")
		if err := os.RemoveAll(filepath.Join(h.workspace, "out")); err != nil {
			t.Fatal(err)
		}
		res := h.run(evalInputs("no-regressions"))
		if res.code == 0 || res.outputs["failure-reason"] != "evaluation-results-missing" || !strings.Contains(res.log, "out does not exist") {
			t.Fatalf("apply: %v\n%s", res.outputs, res.log)
		}
		if d := mustRead(t, filepath.Join(h.workspace, ".deployed/production/prompts/escalation.json")); strings.Contains(d, "Escalation v2") {
			t.Error("deployed without results")
		}
	})
}

// TestEvaluationOverride: a blocked apply goes ahead with
// evaluation-override; who (the run's triggering actor) and why are in
// the baseline beside the state, the state commit and the comment.
func TestEvaluationOverride(t *testing.T) {
	h := deployWithBaseline(t)
	h.renameEscalation()
	h.writeResults(evalPR)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.planPR(pr, evalInputs("no-regressions"))
	h.merge(pr, "merge222", "Rename (#2)")
	if res := h.run(evalInputs("no-regressions")); res.outputs["failure-reason"] != "evaluation-blocked" {
		t.Fatalf("the merge's apply: %v\n%s", res.outputs, res.log)
	}
	// A release owner runs the workflow by hand with the reason.
	h.must(h.runner.Dispatch("merge222"))
	h.env["GITHUB_TRIGGERING_ACTOR"] = "release-owner"
	res := h.run(evalInputs("no-regressions", "command", "apply", "evaluation-override", "refund wording is being fixed in #3; ship the escalation fix"))
	if res.code != 0 || res.outputs["applied"] != "true" || res.outputs["evaluation-verdict"] != "overridden" {
		t.Fatalf("apply: %v\n%s", res.outputs, res.log)
	}
	b := baselineOf(t, h)
	if b.Override == nil || b.Override.By != "release-owner" || !strings.Contains(b.Override.Reason, "refund wording") ||
		len(b.Override.Blocked) != 1 || !strings.Contains(b.Override.Blocked[0], "no-regressions") {
		t.Errorf("override %+v", b.Override)
	}
	commits := h.gh.Commits(stateBranch)
	if last := commits[len(commits)-1].Message; !strings.Contains(last, "evaluation gate overridden by release-owner") {
		t.Errorf("state commit %q", last)
	}
	body := h.gh.Comments(pr.Number)[0].Body
	if !strings.Contains(body, "**The evaluation gate was overridden** by release-owner") || !strings.Contains(body, "refund wording is being fixed in #‍3") {
		t.Errorf("comment:\n%s", body)
	}
	// The next pull request's comparison says the baseline's apply overrode its gate.
	h.checkout()
	h.writeResults(evalPR)
	next := h.planPR(h.gh.AddPull(ghemu.Pull{HeadSHA: "head3"}), evalInputs("no-regressions"))
	if next.outputs["evaluation-newly-failing"] != "0" || !strings.Contains(next.summary, "That apply overrode its gate (release-owner") {
		t.Errorf("next plan: %v\n%s", next.outputs, next.summary)
	}
}

// TestEvaluationResultsUntrusted: results committed to the repository, or
// left by an earlier job (older than the checkout), are refused.
func TestEvaluationResultsUntrusted(t *testing.T) {
	t.Run("committed", func(t *testing.T) {
		h := newHarness(t)
		h.writeResults(evalBase)
		idx := mustRead(t, filepath.Join(h.workspace, "out", "index.json"))
		pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
		h.pullRequest(pr)
		// The pull request's test-merge commit holds the results.
		h.gh.SetFile(h.env["GITHUB_SHA"], "out/index.json", []byte(idx))
		res := h.run(evalInputs("none"))
		if res.code == 0 || res.outputs["failure-reason"] != "evaluation-results-untrusted" || !strings.Contains(res.log, "out/index.json is a file committed to the repository") {
			t.Fatalf("plan: %v\n%s", res.outputs, res.log)
		}
		// Committed under that name but written again by the job: trusted.
		h.gh.SetFile(h.env["GITHUB_SHA"], "out/index.json", []byte("{}"))
		if res := h.run(evalInputs("none")); res.code != 0 {
			t.Fatalf("rewritten results: %v\n%s", res.outputs, res.log)
		}
	})
	t.Run("older than the checkout", func(t *testing.T) {
		h := newHarness(t)
		h.writeResults(evalBase)
		old := time.Now().Add(-time.Hour)
		files, _ := filepath.Glob(filepath.Join(h.workspace, "out", "*"))
		for _, f := range files {
			if err := os.Chtimes(f, old, old); err != nil {
				t.Fatal(err)
			}
		}
		h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"}))
		res := h.run(evalInputs("none"))
		if res.code == 0 || res.outputs["failure-reason"] != "evaluation-results-untrusted" || !strings.Contains(res.log, "not after this job's checkout") {
			t.Fatalf("plan: %v\n%s", res.outputs, res.log)
		}
	})
	t.Run("bad results name the file", func(t *testing.T) {
		h := newHarness(t)
		h.writeFile("out/index.json", `{"total_runs": 0, "run_ids": []}`)
		h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"}))
		res := h.run(evalInputs("none"))
		if res.code == 0 || res.outputs["failure-reason"] != "evaluation-results-invalid" || !strings.Contains(res.log, "out/index.json lists no run") {
			t.Fatalf("plan: %v\n%s", res.outputs, res.log)
		}
	})
}

// changedFiles are the paths a commit changed from its parent.
func changedFiles(t *testing.T, h *harness, sha string) map[string]bool {
	t.Helper()
	gh := h.gh.GitHubClient(ghemu.DefaultToken)
	ctx := context.Background()
	blobs := func(commit string) (map[string]string, string) {
		c, _, err := gh.Git.GetCommit(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, commit)
		if err != nil {
			t.Fatal(err)
		}
		tr, _, err := gh.Git.GetTree(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, c.GetTree().GetSHA(), true)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, e := range tr.Entries {
			m[e.GetPath()] = e.GetSHA()
		}
		parent := ""
		if len(c.Parents) > 0 {
			parent = c.Parents[0].GetSHA()
		}
		return m, parent
	}
	now, parent := blobs(sha)
	before, _ := blobs(parent)
	out := map[string]bool{}
	for p, b := range now {
		if before[p] != b {
			out[p] = true
		}
	}
	return out
}
