package main

import (
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestSchemaRefusals: arena files promptarena refuses ("schema validation
// failed") fail the plan with invalid-arena-config, the place in the
// comment and the log, before the adapter runs; before this, each planned
// with exit 0 and the user's own promptarena CLI refused the pack.
func TestSchemaRefusals(t *testing.T) {
	cases := []struct {
		name, file, from, to, want string
	}{
		{"tool without output_schema", "tools/lookup_order.yaml", "  output_schema:\n    type: object\n    properties:\n      status: { type: string }\n", "",
			"tools/lookup_order.yaml:6:3: spec: output_schema is required"},
		{"prompt config without spec", "prompts/greeting.yaml", "spec:", "notspec:",
			"prompts/greeting.yaml:1:1: spec is required"},
		{"arena.yaml without providers", "arena.yaml", "  providers:\n    - file: providers/mock.yaml\n", "",
			"arena.yaml:8:3: spec: providers is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			src := mustRead(t, h.workspace+"/"+tc.file)
			if !strings.Contains(src, tc.from) {
				t.Fatalf("%s lacks %q", tc.file, tc.from)
			}
			h.writeFile(tc.file, strings.Replace(src, tc.from, tc.to, 1))
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.pullRequest(pr)
			res := h.run(nil)
			if res.code != 1 || res.outputs["failure-reason"] != "invalid-arena-config" || !strings.Contains(res.log, tc.want) {
				t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
			}
			if c := h.gh.Comments(pr.Number); len(c) != 1 || !strings.Contains(c[0].Body, tc.want) || !strings.Contains(c[0].Body, "schema validation failed") {
				t.Errorf("comment: %+v", c)
			}
			if strings.Contains(res.log, "Adapter local") {
				t.Error("the adapter ran for a refused config")
			}
		})
	}
}

// TestOlderArenaShapeIsWarned: an arena file in the older shape (deploy at
// the top level) still plans, as it always has here, and the plan says that
// promptarena refuses it.
func TestOlderArenaShapeIsWarned(t *testing.T) {
	h := newHarness(t)
	h.writeFile("arena.yaml", "deploy:\n  provider: local\n  config:\n    target_dir: .deployed/default\n")
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	res := h.planPR(pr, nil)
	body := h.gh.Comments(pr.Number)[0].Body
	const w = "has the older shape (deploy at the top level, no apiVersion, kind or spec)"
	if !strings.Contains(res.log, "::warning::arena.yaml "+w) || !strings.Contains(body, w) {
		t.Errorf("log:\n%s\ncomment:\n%s", res.log, body)
	}
}
