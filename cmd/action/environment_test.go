package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

const consoleURL = "https://console.example.com/support-bot"

// withConsole gives production a console URL the reference adapter reports
// as the deployment's "Console" link (rel console).
func (h *harness) withConsole() {
	h.t.Helper()
	p := filepath.Join(h.workspace, "arena.yaml")
	raw, err := os.ReadFile(p)
	if err != nil {
		h.t.Fatal(err)
	}
	out := strings.Replace(string(raw), "target_dir: .deployed/production", "target_dir: .deployed/production\n          console_url: "+consoleURL, 1)
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// TestEnvironmentURLAndDeployment: apply sets environment-url from the
// adapter's console link, and with create-deployment records a GitHub
// Deployment of the merge commit: in progress, then success with the URL,
// each status linking the run.
func TestEnvironmentURLAndDeployment(t *testing.T) {
	const merge = "f00dfeedcafe0123456789abcdef0123456789ab"
	cases := []struct {
		name   string
		inputs map[string]string
		breaks func(h *harness)  // makes the apply fail
		perms  map[string]string // the token's, when not the default
		states []string          // the deployment's statuses; nil: no deployment
		code   int
	}{
		{name: "output only", inputs: map[string]string{}},
		{name: "deployment", inputs: map[string]string{"create-deployment": "true"}, states: []string{"in_progress", "success"}},
		{name: "failed apply", inputs: map[string]string{"create-deployment": "true"}, code: 1, states: []string{"in_progress", "failure"},
			breaks: func(h *harness) { h.writeFile(".deployed/production/prompts", "a file where a directory must go") }},
		{name: "no permission", inputs: map[string]string{"create-deployment": "true"},
			perms: map[string]string{"issues": ghemu.Write, "pull_requests": ghemu.Write, "contents": ghemu.Write, "actions": ghemu.Read, "metadata": ghemu.Read}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.withConsole()
			if tc.perms != nil {
				h.gh.AddToken(ghemu.DefaultToken, ghemu.BotLogin, tc.perms)
			}
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.planPR(pr, map[string]string{"environment": "production"})
			h.merge(pr, merge, "Merge pull request #1 from octo-org/feature")
			if tc.breaks != nil {
				tc.breaks(h)
			}
			in := map[string]string{"environment": "production"}
			for k, v := range tc.inputs {
				in[k] = v
			}
			res := h.run(in)
			if res.code != tc.code {
				t.Fatalf("exit %d\n%s", res.code, res.log)
			}
			if tc.code == 0 && res.outputs["environment-url"] != consoleURL {
				t.Errorf("environment-url %q", res.outputs["environment-url"])
			}
			if tc.name == "output only" {
				// status reports the same URL, from the adapter's status links.
				h.checkout()
				st := h.dispatch(map[string]string{"environment": "production", "command": "status"})
				if st.code != 0 || st.outputs["environment-url"] != consoleURL {
					t.Errorf("status: exit %d, environment-url %q\n%s", st.code, st.outputs["environment-url"], st.log)
				}
			}
			deps := h.gh.Deployments()
			if tc.states == nil {
				if len(deps) != 0 {
					t.Errorf("deployments: %+v", deps)
				}
				if tc.perms != nil && !strings.Contains(res.log, "No GitHub Deployment was created") {
					t.Errorf("no warning:\n%s", res.log)
				}
				return
			}
			if len(deps) != 1 || deps[0].SHA != merge || deps[0].Environment != "production" {
				t.Fatalf("deployments: %+v", deps)
			}
			var states []string
			for _, s := range deps[0].Statuses {
				states = append(states, s.State)
				if !strings.HasSuffix(s.LogURL, "/octo-org/app/actions/runs/"+h.runner.Env["GITHUB_RUN_ID"]) {
					t.Errorf("status %s log %q", s.State, s.LogURL)
				}
			}
			if strings.Join(states, ",") != strings.Join(tc.states, ",") {
				t.Errorf("statuses %v, want %v", states, tc.states)
			}
			last := deps[0].Statuses[len(deps[0].Statuses)-1]
			if tc.code == 0 && last.EnvironmentURL != consoleURL {
				t.Errorf("environment_url %q", last.EnvironmentURL)
			}
			if v := h.gh.Violations(); len(v) > 0 {
				t.Errorf("API contract: %+v", v)
			}
		})
	}
}
