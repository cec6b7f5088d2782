package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestPlanShowsThePackDiff: a pull request edits a prompt; nothing is
// recorded as deployed, so the pack at the base commit is the deployed
// side. The comment and the summary show the template's diff, the plan
// artifact holds pack.diff, and the apply comment keeps it folded.
func TestPlanShowsThePackDiff(t *testing.T) {
	h := newHarness(t)
	packPath := filepath.Join(h.workspace, "support-bot.pack.json")
	orig, err := os.ReadFile(packPath)
	if err != nil {
		t.Fatal(err)
	}
	h.gh.SetFile("main", "support-bot.pack.json", orig)
	base := h.gh.Head("main")
	h.writeFile("support-bot.pack.json", strings.Replace(string(orig), "five bullet points", "three bullet points", 1))
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1111", BaseSHA: base, User: "monalisa"})
	res := h.planPR(pr, map[string]string{"environment": "production"})
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.log)
	}
	body := h.gh.Comments(pr.Number)[0].Body
	for _, want := range []string{
		"#### Prompts: 1 changed (+1 −1 lines)",
		"Compared with the pack at the base commit [`" + base[:7] + "`](https://github.com/" + ghemu.DefaultOwner + "/" + ghemu.DefaultRepo + "/commit/" + base + ")",
		"<details open><summary><code>escalation</code> changed · +1 −1</summary>",
		"-Summarise the conversation for a human agent in five bullet points.\n+Summarise the conversation for a human agent in three bullet points.",
		"<sub>Planned by [monalisa](https://github.com/monalisa) on ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if !strings.Contains(res.summary, "+Summarise the conversation for a human agent in three bullet points.") {
		t.Errorf("summary lacks the diff:\n%s", res.summary)
	}
	id, _ := strconv.ParseInt(res.outputs["artifact-id"], 10, 64)
	diff := string(h.artifactFiles(id)["pack.diff"])
	for _, want := range []string{"# Pack diff: the pack at base commit " + base[:7] + " → the pull request's pack at head111", "--- a/prompts/escalation/system_template\n+++ b/prompts/escalation/system_template\n@@ -1 +1 @@\n"} {
		if !strings.Contains(diff, want) {
			t.Errorf("pack.diff lacks %q:\n%s", want, diff)
		}
	}

	h.merge(pr, "merge111", "Merge pull request #1 from octo-org/feature")
	if res := h.run(map[string]string{"environment": "production"}); res.code != 0 {
		t.Fatalf("apply: exit %d\n%s", res.code, res.log)
	}
	body = h.gh.Comments(pr.Number)[0].Body
	if !strings.Contains(body, "<details><summary>Reviewed pack diff</summary>") || !strings.Contains(body, "+Summarise the conversation for a human agent in three bullet points.") {
		t.Errorf("apply comment lacks the folded reviewed diff:\n%s", body)
	}

	// The apply recorded the pack it applied: the next pull request is
	// compared with that, not with its base commit (here an older pack).
	h.gh.SetFile("main", "support-bot.pack.json", orig)
	applied, _ := os.ReadFile(packPath)
	h.writeFile("support-bot.pack.json", strings.Replace(string(applied), "three bullet points", "two bullet points", 1))
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2222", BaseSHA: h.gh.Head("main")})
	h.planPR(pr2, map[string]string{"environment": "production"})
	body = h.gh.Comments(pr2.Number)[0].Body
	for _, want := range []string{"Compared with the pack last applied to production.",
		"-Summarise the conversation for a human agent in three bullet points.\n+Summarise the conversation for a human agent in two bullet points."} {
		if !strings.Contains(body, want) {
			t.Errorf("second plan lacks %q:\n%s", want, body)
		}
	}
	if v := h.gh.Violations(); len(v) > 0 {
		t.Errorf("API contract: %+v", v)
	}
}

// TestPackDiffWithoutABasePack: the base commit has no pack (the first
// pull request of a project): every prompt is new, and the comment says so.
func TestPackDiffWithoutABasePack(t *testing.T) {
	h := newHarness(t)
	h.gh.SetFile("main", "README.md", []byte("hello"))
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1111", BaseSHA: h.gh.Head("main")})
	res := h.planPR(pr, map[string]string{"environment": "production"})
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.log)
	}
	body := h.gh.Comments(pr.Number)[0].Body
	for _, want := range []string{"#### Prompts: 3 added (+3 −0 lines)", "the base commit has no pack: every prompt is new", "<details open><summary><code>refund</code> added · +1 −0, 5 fields</summary>"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
}

// TestPackDiffFailureIsAWarning: when the base pack cannot be read, the
// plan still succeeds, without the diff, and says why.
func TestPackDiffFailureIsAWarning(t *testing.T) {
	h := newHarness(t)
	h.gh.SetFile("main", "support-bot.pack.json", []byte("{}"))
	h.gh.Inject("GET /repos/{owner}/{repo}/contents/{path...}", ghemu.Fault{Status: 403, Times: 10})
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1111", BaseSHA: h.gh.Head("main")})
	res := h.planPR(pr, map[string]string{"environment": "production"})
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.log)
	}
	body := h.gh.Comments(pr.Number)[0].Body
	if strings.Contains(body, "#### Prompts") || !strings.Contains(body, "The pack diff is not shown") {
		t.Errorf("comment:\n%s", body)
	}
}

// TestPackDiffMasksSecrets: a deploy-config secret that also appears in a
// prompt's text is masked in the diff (comment, summary and pack.diff).
func TestPackDiffMasksSecrets(t *testing.T) {
	h := newHarness(t)
	const secret = "sk-live-0123456789abcdef"
	h.writeFile("arena.yaml", "deploy:\n  provider: local\n  config:\n    target_dir: out\n  environments:\n    production:\n      config:\n        api_token: "+secret+"\n")
	packPath := filepath.Join(h.workspace, "support-bot.pack.json")
	orig, err := os.ReadFile(packPath)
	if err != nil {
		t.Fatal(err)
	}
	h.gh.SetFile("main", "support-bot.pack.json", orig)
	h.writeFile("support-bot.pack.json", strings.Replace(string(orig), "five bullet points", "five bullet points, key "+secret, 1))
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1111", BaseSHA: h.gh.Head("main")})
	res := h.planPR(pr, map[string]string{"environment": "production"})
	id, _ := strconv.ParseInt(res.outputs["artifact-id"], 10, 64)
	diff := string(h.artifactFiles(id)["pack.diff"])
	body := h.gh.Comments(pr.Number)[0].Body
	if !strings.Contains(body, "<code>escalation</code> changed") || !strings.Contains(diff, "escalation") {
		t.Fatalf("no diff:\n%s", body)
	}
	for name, text := range map[string]string{"comment": body, "summary": res.summary, "pack.diff": diff} {
		if strings.Contains(text, secret) {
			t.Errorf("secret in the %s", name)
		}
	}
}
