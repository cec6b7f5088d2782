package surface

import "testing"

func TestSurfaceNamesInputs(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Workflow.Set("confirm-destroy", "production"), "Set confirm-destroy: production"},
		{CLI.Set("confirm-destroy", "production"), "Pass --confirm-destroy production"},
		{Workflow.SetLower("on-stale-plan", "replan"), "set on-stale-plan: replan"},
		{CLI.SetLower("on-stale-plan", "replan"), "pass --on-stale-plan replan"},
		{Workflow.Setting("adapter-install", "omnia@1.4.0"), "adapter-install: omnia@1.4.0"},
		{Workflow.Setting("github-token", "${{ github.token }}"), "github-token: ${{ github.token }}"},
		{Workflow.Setting("fail-on", "delete, drift"), "fail-on: delete, drift"},
		{Workflow.Setting("state-branch", ""), `state-branch: ""`},
		{Workflow.Setting("pack", "@x"), `pack: "@x"`},
		{CLI.Setting("fail-on", "delete, drift"), "--fail-on 'delete, drift'"},
		{CLI.Setting("state-branch", ""), "--state-branch ''"},
		{CLI.Setting("pack", "it's.pack.json"), `--pack 'it'\''s.pack.json'`},
		{CLI.Set("adapter-allow-unverified", "true"), "Pass --adapter-allow-unverified"},
		{CLI.Setting("comment", "false"), "--comment=false"},
		{Workflow.Setting("comment", "false"), "comment: false"},
		{CLI.Setting("adapter", "<its path>"), "--adapter <its path>"},
		{Workflow.Setting("adapter", "<its path>"), "adapter: <its path>"},
		{Workflow.Input("config"), "the config input"},
		{CLI.Input("config"), "--config"},
		{Workflow.Name("pack"), "pack"},
		{CLI.Name("pack"), "--pack"},
		{CLI.Inputs(), "arena-deploy --help"},
		{CLI.Rerun(), "run the command again"},
		{Workflow.Rerun(), "re-run this job"},
		{CLI.Replan(), "run plan again, review it, then apply"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
