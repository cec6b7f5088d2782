package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// deployApp is a GitHub App's installation token for the deploy jobs.
const deployApp = "arena-deployer[bot]"

func (h *harness) useDeployApp() {
	h.gh.AddToken("ghs_app", deployApp, map[string]string{"contents": ghemu.Write, "pull_requests": ghemu.Write, "issues": ghemu.Write,
		"actions": ghemu.Read, "metadata": ghemu.Read})
	h.env["INPUT_GITHUB-TOKEN"] = "ghs_app"
}

// TestStateProtectionIsSaid: apply, status and refresh read the rules of
// the state branch (one call) and say in the job summary and the
// state-protection output who may write it: anyone (no ruleset), the
// workflow token every workflow has (a ruleset the workflow token
// bypasses), or the deploy identity (a ruleset only the deploy App
// bypasses), whose name the summary gives. Rules that cannot be read are
// said, and fail nothing.
func TestStateProtectionIsSaid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(h *harness)
		level  string
		status string
		says   []string
	}{
		{"no ruleset", func(*harness) {}, "open", "open", []string{"open to every writer", "a pull request's too", "security.md"}},
		{"a ruleset the workflow token bypasses", func(h *harness) {
			h.gh.AddRuleset(ghemu.Ruleset{Name: "state", Branches: []string{stateBranch}, Rules: []string{"update", "deletion"}, Bypass: []string{ghemu.BotLogin}})
		}, "workflow-token", "restricted", []string{"written with the workflow token", "GitHub App"}},
		{"a ruleset only the deploy App bypasses", func(h *harness) {
			h.useDeployApp()
			h.gh.AddRuleset(ghemu.Ruleset{Name: "state", Branches: []string{"arena-*"}, Rules: []string{"update", "deletion", "non_fast_forward"}, Bypass: []string{deployApp}})
		}, "deploy-identity", "restricted", []string{"deploy identity alone", "`" + deployApp + "`", "`update`"}},
		{"rules that cannot be read", func(h *harness) {
			h.gh.Inject("GET /repos/{owner}/{repo}/rules/branches/{branch}", ghemu.Fault{Status: 404, Times: 99})
		}, "unknown", "unknown", []string{"protection not known"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.setup(h)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.planPR(pr, nil)
			h.merge(pr, "merge111", "Merge pull request #1")
			r := h.run(nil)
			if r.code != 0 || r.outputs["applied"] != "true" || r.outputs["state-protection"] != tc.level {
				t.Fatalf("apply: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			for _, want := range tc.says {
				if !strings.Contains(r.summary, want) {
					t.Errorf("the summary does not say %q:\n%s", want, r.summary)
				}
			}
			st := h.dispatch(map[string]string{"command": "status"})
			if st.code != 0 || st.outputs["state-protection"] != tc.status {
				t.Fatalf("status: exit %d %v\n%s", st.code, st.outputs, st.log)
			}
		})
	}
}

// TestHardenedStateBranchKeepsPlantersOut: with the hardening of
// docs/security.md (the deploy App's token, a ruleset on the state branch
// only it bypasses), a pull request's workflow token and a collaborator's
// push cannot even write the state branch, while deploys go on.
func TestHardenedStateBranchKeepsPlantersOut(t *testing.T) {
	h := newHarness(t)
	h.useDeployApp()
	h.gh.AddRuleset(ghemu.Ruleset{Name: "state", Branches: []string{stateBranch}, Rules: []string{"update", "deletion", "non_fast_forward"}, Bypass: []string{deployApp}})
	h.gh.AddToken("ghs_mallory", "mallory", map[string]string{"contents": ghemu.Write, "metadata": ghemu.Read})
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	if r := h.run(nil); r.code != 0 || r.outputs["state-protection"] != "deploy-identity" {
		t.Fatalf("apply: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	good, _ := h.gh.GetFile(stateBranch, defaultDir+"/"+state.RecordFile)
	for _, tok := range []string{ghemu.DefaultToken, "ghs_mallory"} {
		gh := h.gh.GitHubClient(tok)
		_, resp, err := gh.Repositories.UpdateFile(context.Background(), ghemu.DefaultOwner, ghemu.DefaultRepo, defaultDir+"/"+state.RecordFile, &github.RepositoryContentFileOptions{
			Message: github.String("tidy"), Content: []byte(`{"version":1,"serial":99}`), SHA: github.String(state.BlobSHA(good)), Branch: github.String(stateBranch)})
		if err == nil || resp == nil || resp.StatusCode != 409 {
			t.Errorf("%s wrote the hardened state branch: %v", tok, err)
		}
	}
	if now, _ := h.gh.GetFile(stateBranch, defaultDir+"/"+state.RecordFile); string(now) != string(good) {
		t.Error("the record changed")
	}
}
