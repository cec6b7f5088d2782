package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
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
