package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestFailOnIsDecidedBeforeTheUpload: a plan that fails fail-on is recorded
// as such in its artifact's provenance, its comment does not promise that
// merging applies it, and apply refuses it even when the check was not
// required and the pull request merged, or when only the apply job has
// fail-on.
func TestFailOnIsDecidedBeforeTheUpload(t *testing.T) {
	cases := []struct {
		name                 string
		planInputs, applyIns map[string]string
		planFails            bool
		inApplyLog           string
	}{
		{name: "plan failed fail-on, merged anyway", planInputs: map[string]string{"fail-on": "create"}, applyIns: map[string]string{},
			planFails: true, inApplyLog: "the reviewed plan failed its fail-on check (create)"},
		{name: "apply job's own fail-on", planInputs: map[string]string{}, applyIns: map[string]string{"fail-on": "create"},
			inApplyLog: "not applied: the plan contains actions listed in fail-on"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "failhead"})
			h.pullRequest(pr)
			plan := h.run(tc.planInputs)
			if tc.planFails {
				if plan.code != 1 || plan.outputs["failure-reason"] != "fail-on" {
					t.Fatalf("plan: exit %d %v\n%s", plan.code, plan.outputs, plan.log)
				}
				id, _ := strconv.ParseInt(plan.outputs["artifact-id"], 10, 64)
				var prov struct {
					FailOn *struct {
						Actions []string `json:"actions"`
						Failed  bool     `json:"failed"`
						Hits    []string `json:"hits"`
					} `json:"fail_on"`
				}
				if err := json.Unmarshal(h.artifactFiles(id)["provenance.json"], &prov); err != nil || prov.FailOn == nil || !prov.FailOn.Failed ||
					strings.Join(prov.FailOn.Actions, ",") != "create" || len(prov.FailOn.Hits) != 4 {
					t.Fatalf("provenance does not record the failed check: %+v %v", prov.FailOn, err)
				}
				body := h.gh.Comments(pr.Number)[0].Body
				if strings.Contains(body, "Merging this pull request applies") || !strings.Contains(body, "Merging this pull request does not apply this plan: it fails the fail-on check") {
					t.Errorf("comment:\n%s", body)
				}
			} else if plan.code != 0 {
				t.Fatalf("plan: exit %d\n%s", plan.code, plan.log)
			}
			h.merge(pr, "failmerg", "Merge pull request #1")
			res := h.run(tc.applyIns)
			if res.code != 1 || res.outputs["failure-reason"] != "fail-on" || res.outputs["applied"] != "false" || !strings.Contains(res.log, tc.inApplyLog) {
				t.Fatalf("apply: exit %d %v\n%s", res.code, res.outputs, res.log)
			}
			if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
				t.Error("a plan failing fail-on was deployed")
			}
			if h.anyState() {
				t.Error("state written")
			}
		})
	}
}
