package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// quickstartJob is a job of the README's quickstart workflow.
type quickstartJob struct {
	If          string            `yaml:"if"`
	Permissions map[string]string `yaml:"permissions"`
	Steps       []struct {
		Uses string            `yaml:"uses"`
		With map[string]string `yaml:"with"`
	} `yaml:"steps"`
}

// readmeQuickstart is the README's one workflow (the ```yaml block holding
// jobs:), parsed.
func readmeQuickstart(t *testing.T) (text string, jobs map[string]quickstartJob, workflowPerms any) {
	t.Helper()
	readme := mustRead(t, filepath.Join(deploytest.RepoRoot(), "README.md"))
	var blocks []string
	for _, b := range yamlBlocks(readme) {
		if regexp.MustCompile(`(?m)^jobs:`).MatchString(b) {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) != 1 {
		t.Fatalf("the README has %d yaml blocks holding jobs:, want exactly one (the quickstart, which CI runs)", len(blocks))
	}
	var wf struct {
		Permissions any                      `yaml:"permissions"`
		Jobs        map[string]quickstartJob `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(blocks[0]), &wf); err != nil {
		t.Fatalf("the README's quickstart is not YAML: %v", err)
	}
	return blocks[0], wf.Jobs, wf.Permissions
}

// TestReadmeOnboards keeps the README an onboarding page: short, the words
// explained and linked to PromptKit's projects, the demo and the tests'
// command, and one quickstart that is copied as it is: the published
// action, least privilege per job.
func TestReadmeOnboards(t *testing.T) {
	readme := mustRead(t, filepath.Join(deploytest.RepoRoot(), "README.md"))
	if n := strings.Count(readme, "\n"); n >= 300 {
		t.Errorf("the README has %d lines; keep it under 300 and move reference material to docs/", n)
	}
	firstScreen, _, _ := strings.Cut(readme, "\n## ")
	for _, want := range []string{
		"**PromptKit**", "**arena**", "**pack**", "**adapter**",
		"(https://github.com/AltairaLabs/PromptKit)", "(https://github.com/AltairaLabs/promptarena)",
	} {
		if !strings.Contains(firstScreen, want) {
			t.Errorf("the README's first screen lacks %s", want)
		}
	}
	if strings.Contains(readme, "(https://github.com/AltairaLabs)") {
		t.Error("the README links to AltairaLabs' organisation page; link the project (PromptKit or promptarena)")
	}
	for _, want := range []string{"go run ./cmd/action demo", "bash .ci/run"} {
		if !strings.Contains(readme, "\n"+want+"\n") {
			t.Errorf("the README lacks the command %q on a line of its own", want)
		}
	}
	text, jobs, perms := readmeQuickstart(t)
	if p, ok := perms.(map[string]any); !ok || len(p) != 0 {
		t.Errorf("the quickstart's workflow-level permissions are %v; want {} and each job asking for its own", perms)
	}
	if strings.Contains(text, "uses: ./") || !strings.Contains(text, "uses: arena-deploy/arena-deploy-action@v1") {
		t.Error("the quickstart must use the published action: uses: arena-deploy/arena-deploy-action@v1")
	}
	for name, job := range jobs {
		if len(job.Permissions) == 0 {
			t.Errorf("quickstart job %s lists no permissions", name)
		}
		for _, s := range job.Steps {
			if strings.Contains(s.Uses, "arena-deploy-action") && s.Uses != "arena-deploy/arena-deploy-action@v1" {
				t.Errorf("quickstart job %s uses %s", name, s.Uses)
			}
		}
	}
}

// TestQuickstartPermissionsAreEnough runs the README's quickstart jobs
// with exactly the permissions they list (the emulator refuses anything
// else): a pull request is planned and commented, then merged and applied,
// and neither run warns. The adapter is the reference one, on PATH, in
// place of adapter-install (the emulator has no provider's releases).
func TestQuickstartPermissionsAreEnough(t *testing.T) {
	_, jobs, _ := readmeQuickstart(t)
	h := newHarness(t)
	token := func(job string) (string, map[string]string) {
		j, ok := jobs[job]
		if !ok {
			t.Fatalf("the quickstart has no %s job", job)
		}
		perms := map[string]string{"metadata": ghemu.Read} // every token has it
		for scope, level := range j.Permissions {
			perms[strings.ReplaceAll(scope, "-", "_")] = level
		}
		h.gh.AddToken("ghs_"+job, ghemu.BotLogin, perms)
		var with map[string]string
		for _, s := range j.Steps {
			if strings.Contains(s.Uses, "arena-deploy-action") {
				with = map[string]string{}
				for k, v := range s.With {
					if k != "adapter-install" {
						with[k] = v
					}
				}
			}
		}
		if with == nil {
			t.Fatalf("the quickstart's %s job does not run the action", job)
		}
		return "ghs_" + job, with
	}
	planToken, planWith := token("plan")
	applyToken, applyWith := token("apply")
	noWarning := func(what string, r result) {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d %v\n%s", what, r.code, r.outputs, r.log)
		}
		if strings.Contains(r.log, "::warning") {
			t.Errorf("%s warns with the quickstart's permissions:\n%s", what, r.log)
		}
	}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.env["INPUT_GITHUB-TOKEN"] = planToken
	r := h.planPR(pr, planWith)
	noWarning("plan", r)
	if r.outputs["comment-id"] == "" || r.outputs["artifact-id"] == "" {
		t.Fatalf("plan: no comment or artifact: %v", r.outputs)
	}
	h.env["INPUT_GITHUB-TOKEN"] = applyToken
	h.merge(pr, "merge111", "Merge pull request #1")
	r = h.run(applyWith)
	noWarning("apply", r)
	if r.outputs["applied"] != "true" || r.outputs["state-sha"] == "" {
		t.Fatalf("apply: %v\n%s", r.outputs, r.log)
	}
	// A second pull request's plan compares with the pack just applied,
	// read from the state branch with the plan job's read-only token.
	pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.env["INPUT_GITHUB-TOKEN"] = planToken
	r = h.planPR(pr2, planWith)
	noWarning("second plan", r)
	if !strings.Contains(r.summary, "last applied to production") {
		t.Errorf("the second plan did not compare with the pack last applied:\n%s", r.summary)
	}
}
