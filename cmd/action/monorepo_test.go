package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// TestMonorepoTwoProjectsOneEnvironment is the journey of a repository
// holding two arena projects that deploy the same environment: one pull
// request changes both, one workflow run plans both (a matrix over
// working-directory), the merge applies both. Each project keeps its own plan
// artifact, sticky comment, state file and deployment.
func TestMonorepoTwoProjectsOneEnvironment(t *testing.T) {
	h := newHarness(t)
	projects := []string{"services/support", "services/billing"}
	for _, p := range projects {
		if err := os.CopyFS(filepath.Join(h.workspace, p), os.DirFS(filepath.Join(deploytest.RepoRoot(), "testdata", "example"))); err != nil {
			t.Fatal(err)
		}
	}
	// The billing project's pack differs, so a swapped plan could not pass.
	billingPack := filepath.Join(h.workspace, "services/billing/support-bot.pack.json")
	h.writeFile("services/billing/support-bot.pack.json", strings.Replace(mustRead(t, billingPack), "friendly", "precise", 1))

	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "monohead"})
	h.pullRequest(pr)
	plans := map[string]result{}
	for _, p := range projects { // the two legs of one run's matrix
		res := h.run(map[string]string{"environment": "production", "working-directory": p})
		if res.code != 0 {
			t.Fatalf("plan %s: exit %d\n%s", p, res.code, res.log)
		}
		plans[p] = res
	}
	for _, p := range projects {
		want := target.New(p, "arena.yaml", "production").PlanArtifact("monohead")
		if got := plans[p].outputs["artifact-name"]; got != want {
			t.Errorf("%s: artifact-name %q, want %q", p, got, want)
		}
	}
	if a, b := plans[projects[0]].outputs, plans[projects[1]].outputs; a["artifact-name"] == b["artifact-name"] || a["comment-id"] == b["comment-id"] || a["plan-id"] == b["plan-id"] {
		t.Fatalf("the projects share a plan or a comment:\n%v\n%v", a, b)
	}
	live := 0
	for _, a := range h.gh.Artifacts() {
		if strings.HasPrefix(a.Name, "arena-plan-") && !a.Deleted {
			live++
		}
	}
	if live != 2 {
		t.Fatalf("%d plan artifacts, want 2 (the second plan deleted the first?): %+v", live, h.gh.Artifacts())
	}
	if c := h.gh.Comments(pr.Number); len(c) != 2 {
		t.Fatalf("%d comments, want one per project", len(c))
	}

	h.merge(pr, "monomerg", "Merge pull request #1 from octo-org/both")
	h.gh.ResetLog()
	for _, p := range projects {
		res := h.run(map[string]string{"environment": "production", "working-directory": p})
		if res.code != 0 || res.outputs["applied"] != "true" || res.outputs["plan-id"] != plans[p].outputs["plan-id"] {
			t.Fatalf("apply %s: exit %d %v\n%s", p, res.code, res.outputs, res.log)
		}
		if _, ok := h.stateOf(p, "production"); !ok {
			t.Errorf("%s: no state committed", p)
		}
		if _, err := os.Stat(filepath.Join(h.workspace, p, ".deployed/production/prompts/greeting.json")); err != nil {
			t.Errorf("%s: not deployed", p)
		}
	}
	if !strings.Contains(mustRead(t, filepath.Join(h.workspace, "services/billing/.deployed/production/prompts/greeting.json")), "precise") {
		t.Error("billing got support's pack")
	}
	c := h.gh.Comments(pr.Number)
	if len(c) != 2 {
		t.Fatalf("%d comments after apply, want 2", len(c))
	}
	// Each apply writes its comment twice (applying, applied) and reads the
	// token's identity once.
	if n := h.gh.CountRequests("GET /user"); n != 2 {
		t.Errorf("GET /user %d times for two applies, want 2", n)
	}
	for _, cm := range c {
		if !strings.Contains(cm.Body, "Applied") {
			t.Errorf("comment not updated with the apply:\n%s", cm.Body)
		}
	}
}

// TestApplyFindsAPlanNamedBeforeTheUpgrade: a pull request planned by a
// release that named plans arena-plan-<env>-<sha> is applied after the
// upgrade; a legacy plan of another project is refused, not applied.
func TestApplyFindsAPlanNamedBeforeTheUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name, workDir, reason string
	}{
		{name: "same project", workDir: "."},
		{name: "another project", workDir: "other", reason: "environment-mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.workDir != "." {
				if err := os.CopyFS(filepath.Join(h.workspace, tc.workDir), os.DirFS(filepath.Join(deploytest.RepoRoot(), "testdata", "example"))); err != nil {
					t.Fatal(err)
				}
			}
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "oldhead1"})
			h.planPR(pr, map[string]string{"environment": "production"})
			k := target.New(".", "arena.yaml", "production")
			h.renamePlanArtifact(k.PlanArtifact("oldhead1"), k.LegacyPlanArtifact("oldhead1"))
			h.deleteArtifact(k.PlanArtifact("oldhead1"))
			h.merge(pr, "oldmerge", "Merge pull request #1")
			res := h.run(map[string]string{"environment": "production", "working-directory": tc.workDir})
			if tc.reason == "" {
				if res.code != 0 || res.outputs["applied"] != "true" || !strings.Contains(res.log, "made before plan names held the target") {
					t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
				}
				return
			}
			if res.code != 1 || res.outputs["failure-reason"] != tc.reason || !strings.Contains(res.log, "the reviewed plan is for production (arena.yaml)") {
				t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
			}
		})
	}
}

// deleteArtifact deletes an artifact through REST, as a user could.
func (h *harness) deleteArtifact(name string) {
	h.t.Helper()
	h.gh.AddToken("ghp_maintainer", "octocat", map[string]string{"actions": ghemu.Write, "metadata": ghemu.Read})
	gh := h.gh.GitHubClient("ghp_maintainer")
	for _, a := range h.gh.Artifacts() {
		if a.Name == name && !a.Deleted {
			if _, err := gh.Actions.DeleteArtifact(context.Background(), ghemu.DefaultOwner, ghemu.DefaultRepo, a.ID); err != nil {
				h.t.Fatal(err)
			}
			return
		}
	}
	h.t.Fatalf("no artifact %s", name)
}
