package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// TestEvaluationCostThatIsNoNumber: the merge run's JUnit says a run cost
// NaN dollars. It compared false with max-cost-growth, so the apply
// deployed, printed evaluation-cost NaN and could not write the baseline
// (JSON has no NaN), keeping the last one without a word. Now the
// results are damaged, naming the file, and nothing is deployed.
func TestEvaluationCostThatIsNoNumber(t *testing.T) {
	h := deployWithBaseline(t)
	h.renameEscalation()
	h.writeResults(evalBase)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.planPR(pr, evalInputs("max-cost-growth: 10%"))
	h.merge(pr, "merge222", "Rename (#2)")
	h.writeFile("out/junit.xml", "<testsuites><testsuite name=\"greet\"><testcase classname=\"greet\" name=\"openai-mini.us.r1\">"+
		"<system-out>Run ID: r1\nProvider: openai-mini\nRegion: us\nCost: $NaN\n</system-out></testcase></testsuite></testsuites>")
	res := h.run(evalInputs("max-cost-growth: 10%", "evaluations", "out/junit.xml"))
	if res.code == 0 || res.outputs["failure-reason"] != "evaluation-results-invalid" || !strings.Contains(res.log, "out/junit.xml: the run r1 has the cost NaN") {
		t.Fatalf("apply: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if d := mustRead(t, filepath.Join(h.workspace, ".deployed/production/prompts/escalation.json")); strings.Contains(d, "Escalation v2") {
		t.Error("deployed on a NaN cost")
	}
	if b := baselineOf(t, h); b.Commit != "merge111" {
		t.Errorf("the baseline changed: %s", b.Commit)
	}
}

// TestEvaluationResultsAsOldAsTheCheckout: without git, actions/checkout
// downloads the commit's tarball, whose files all carry the commit's
// time, so committed results are exactly as old as the arena file (the
// checkout time then). They passed as written "not before" the checkout;
// results must be newer than it, as the docs say.
func TestEvaluationResultsAsOldAsTheCheckout(t *testing.T) {
	h := newHarness(t)
	h.writeResults(evalBase)
	committed := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) // the commit's time, in every file of its tarball
	files, _ := filepath.Glob(filepath.Join(h.workspace, "out", "*"))
	for _, f := range append(files, filepath.Join(h.workspace, "arena.yaml")) {
		if err := os.Chtimes(f, committed, committed); err != nil {
			t.Fatal(err)
		}
	}
	h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"}))
	res := h.run(evalInputs("none"))
	if res.code == 0 || res.outputs["failure-reason"] != "evaluation-results-untrusted" || !strings.Contains(res.log, "the time of arena.yaml") {
		t.Fatalf("plan: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
}

// mergeRealWithout merges pr as a real commit of main, the results folder
// not committed (it is the job's, and .gitignore'd), and writes the
// merge run's own results afterwards.
func (h *harness) mergeRealWithout(pr *ghemu.Pull, message, results string) string {
	h.t.Helper()
	if err := os.RemoveAll(filepath.Join(h.workspace, "out")); err != nil {
		h.t.Fatal(err)
	}
	sha := h.mergeReal(pr, message)
	if results != "" {
		h.writeResults(results)
	}
	return sha
}

// TestEvaluationBaselineAfterARollback: a rollback brings back the
// baseline its restored apply recorded; when that apply recorded none,
// the rolled-back pack's results are no baseline of what is deployed:
// they were compared with (a regression against the very pack rolled
// back) and called a pack "applied later without evaluations".
func TestEvaluationBaselineAfterARollback(t *testing.T) {
	in := func(more ...string) map[string]string { return evalInputs("no-regressions", more...) }
	plain := map[string]string{"environment": "production"}
	rollback := map[string]string{"command": "rollback", "environment": "production", "confirm-rollback": "production"}
	for _, firstWithResults := range []bool{true, false} {
		name := map[bool]string{true: "the restored apply recorded a baseline", false: "the restored apply recorded none"}[firstWithResults]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			pr1 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			first := plain
			if firstWithResults {
				h.writeResults(evalBase)
				first = in()
			}
			h.planPR(pr1, first)
			results := ""
			if firstWithResults {
				results = evalBase
			}
			m1 := h.mergeRealWithout(pr1, "Merge pull request #1", results)
			if r := h.run(first); r.code != 0 {
				t.Fatalf("apply #1: %v\n%s", r.outputs, r.log)
			}
			var b1 string
			if firstWithResults {
				b1 = baselineOf(t, h).Results.Digest
			}
			// #2 regresses, and goes out by an override; it is rolled back.
			h.renameEscalation()
			h.writeResults(evalPR)
			pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
			h.planPR(pr2, in())
			m2 := h.mergeRealWithout(pr2, "Merge pull request #2", evalPR)
			if r := h.run(in("evaluation-override", "ship it")); r.code != 0 {
				t.Fatalf("apply #2: %v\n%s", r.outputs, r.log)
			}
			if got := baselineOf(t, h); got.Commit != m2 {
				t.Fatalf("#2's baseline is not recorded: %+v", got)
			}
			h.must(h.runner.Dispatch(m2))
			if r := h.run(rollback); r.code != 0 || r.outputs["rolled-back-to"] != m1 {
				t.Fatalf("rollback: %v\n%s", r.outputs, r.log)
			}
			// The next pull request, as good as #1.
			h.checkout()
			h.writeResults(evalBase)
			pr3 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head3"})
			res := h.planPR(pr3, in())
			body := h.gh.Comments(pr3.Number)[0].Body
			if firstWithResults {
				if got := baselineOf(t, h); got.Results.Digest != b1 || got.Commit != m1 {
					t.Errorf("the rollback did not bring #1's baseline back: %s at %s", got.Results.Digest, got.Commit)
				}
				if !strings.Contains(body, "Compared with the results recorded when the deployed pack was applied (`"+m1[:7]+"`") {
					t.Errorf("not compared with #1's results:\n%s", body)
				}
				return
			}
			if strings.Contains(body, "Compared with the results") || strings.Contains(body, "applied later without evaluations") || res.outputs["evaluation-newly-failing"] != "" {
				t.Errorf("compared with the rolled-back pack's results: %v\n%s", res.outputs, body)
			}
			if !strings.Contains(body, "No baseline to compare with: the results recorded were the rolled-back pack's") {
				t.Errorf("the comment does not say why there is no baseline:\n%s", body)
			}
			if r := h.dispatch(map[string]string{"command": "status", "environment": "production"}); strings.Contains(r.summary, "Evaluations at the last apply") {
				t.Errorf("status shows the rolled-back pack's results as the deployed one's:\n%s", r.summary)
			}
		})
	}
}

// TestEvaluationOverrideOfAPartialApply: an override lets a blocked apply
// go ahead and the adapter fails part way. The partial state is written
// (no baseline: its results are not what is deployed), and it said
// nothing of the override that let part of the pack out: the state
// commit names who overrode the gate, as a whole apply's does.
func TestEvaluationOverrideOfAPartialApply(t *testing.T) {
	h := deployWithBaseline(t)
	h.renameEscalation()
	h.writeResults(evalPR)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.planPR(pr, evalInputs("no-regressions"))
	h.merge(pr, "merge222", "Rename (#2)")
	h.must(h.runner.Dispatch("merge222"))
	h.env["GITHUB_TRIGGERING_ACTOR"] = "release-owner"
	// Something occupies the escalation prompt's path: its write fails.
	deployed := filepath.Join(h.workspace, ".deployed/production/prompts/escalation.json")
	if err := os.RemoveAll(deployed); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(deployed, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := len(h.gh.Commits(stateBranch))
	res := h.run(evalInputs("no-regressions", "command", "apply", "evaluation-override", "ship it"))
	if res.code == 0 || res.outputs["failure-reason"] != "apply-failed" || res.outputs["evaluation-verdict"] != "overridden" {
		t.Fatalf("apply: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	commits := h.gh.Commits(stateBranch)[before:]
	var msg string
	for _, c := range commits {
		if strings.Contains(c.Message, "state after") {
			msg = c.Message
		}
	}
	if msg == "" {
		t.Fatalf("no partial state was written: %v", commits)
	}
	if !strings.Contains(msg, "evaluation gate overridden by release-owner") {
		t.Errorf("the partial state's commit does not say who overrode the gate: %q", msg)
	}
	if b := baselineOf(t, h); b.Commit != "merge111" {
		t.Errorf("a partial apply recorded a baseline: %s", b.Commit)
	}
}

// TestEvaluationBaselineRemoved: the baseline beside the state is removed
// by someone who can write the state branch (a collaborator, a pull
// request's workflow given contents: write). The record, untouched and
// proven by its witness, still names it; the removal went unnoticed and
// no-regressions, having nothing to compare with, let a regression
// through. A file the proven record names and the branch lacks is a
// changed state store, as a rewritten one is.
func TestEvaluationBaselineRemoved(t *testing.T) {
	h := deployWithBaseline(t)
	h.gh.DeleteFile(stateBranch, target.New(".", "arena.yaml", "production").StateDir()+"/"+evalgate.FileName)
	h.renameEscalation()
	h.writeResults(evalPR)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.pullRequest(pr)
	h.run(evalInputs("no-regressions"))
	h.merge(pr, "merge222", "Rename (#2)")
	res := h.run(evalInputs("no-regressions"))
	if res.code == 0 || res.outputs["failure-reason"] != "state-untrusted" || !strings.Contains(res.log, evalgate.FileName) {
		t.Fatalf("apply: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	// The way out is the file, not adopt (the record is proven: nothing to adopt).
	if log := shown(res.log); !strings.Contains(log, "put back the evaluations.json the record names") || !strings.Contains(log, "Put back the baseline") || strings.Contains(log, "command: adopt") {
		t.Errorf("the refusal does not say how to recover:\n%s", log)
	}
	if d := mustRead(t, filepath.Join(h.workspace, ".deployed/production/prompts/escalation.json")); strings.Contains(d, "Escalation v2") {
		t.Error("a regression was deployed: the baseline's removal went unnoticed")
	}
}

// TestEvaluationResultsOutsideTheWorkspace: results named outside the
// repository, or a run file a symlink leads out of it, are refused
// (invalid-input, nothing read), and the hint names evaluations: it named
// config, pack, working-directory and state-path, none of which was wrong.
func TestEvaluationResultsOutsideTheWorkspace(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.json"), []byte(`{"RunID": "x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, evaluations string
		setup             func(h *harness)
	}{
		{"a path out of the repository", "../../" + filepath.Base(outside), func(h *harness) {}},
		{"an absolute path", outside, func(h *harness) {}},
		{"a run file linked out of it", "out", func(h *harness) {
			h.writeResults(evalBase)
			files, _ := filepath.Glob(filepath.Join(h.workspace, "out", "*.json"))
			for _, f := range files {
				if filepath.Base(f) != "index.json" {
					os.Remove(f)
					if err := os.Symlink(filepath.Join(outside, "secret.json"), f); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			c.setup(h)
			h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"}))
			res := h.run(evalInputs("none", "evaluations", c.evaluations))
			if res.code == 0 || res.outputs["failure-reason"] != "invalid-input" || !strings.Contains(res.log, "resolves outside the workspace") {
				t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
			}
			if !strings.Contains(shown(res.log), "Keep evaluations") {
				t.Errorf("the hint does not name evaluations:\n%s", shown(res.log))
			}
		})
	}
}

// TestEvaluationResultsDatedAhead: results whose time was set past the
// run's clock (touch -d on a self-hosted runner's kept workspace, by an
// earlier job) are evaluation-results-untrusted, as results older than
// the checkout are.
func TestEvaluationResultsDatedAhead(t *testing.T) {
	h := newHarness(t)
	h.writeResults(evalBase)
	ahead := time.Now().Add(365 * 24 * time.Hour)
	files, _ := filepath.Glob(filepath.Join(h.workspace, "out", "*"))
	for _, f := range files {
		if err := os.Chtimes(f, ahead, ahead); err != nil {
			t.Fatal(err)
		}
	}
	h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"}))
	res := h.run(evalInputs("none"))
	if res.code == 0 || res.outputs["failure-reason"] != "evaluation-results-untrusted" || !strings.Contains(res.log, "after this run's clock") {
		t.Fatalf("plan: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
}
