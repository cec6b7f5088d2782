package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// TestUserMistakes: every mistake a user can make has its own failure
// reason, exit code 1 (2 for usage and input mistakes), a message naming the file or input, a
// fix that works, and never internal-error, an empty hint or advice that
// loses the record of what is deployed.
func TestUserMistakes(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, ws string) []string // returns CLI args
		reason string
		code   int
		want   []string // in the log
	}{
		{name: "YAML syntax error", reason: "invalid-arena-config", code: 1, want: []string{"arena.yaml:4:4: YAML: did not find expected key"},
			setup: func(t *testing.T, ws string) []string {
				write(t, ws, "arena.yaml", "spec:\n  deploy:\n    provider: local\n   config: {}\n")
				return []string{"plan"}
			}},
		{name: "deploy is a string", reason: "invalid-arena-config", code: 1, want: []string{"arena.yaml:2: deploy must be a mapping", `not the string "oops"`},
			setup: func(t *testing.T, ws string) []string {
				write(t, ws, "arena.yaml", "spec:\n  deploy: \"oops\"\n")
				return []string{"plan"}
			}},
		{name: "config is a directory", reason: "invalid-input", code: 2, want: []string{"config", "prompts", "directory"},
			setup: func(t *testing.T, ws string) []string {
				return []string{"plan", "--config", "prompts"}
			}},
		{name: "working-directory is a file", reason: "invalid-input", code: 2, want: []string{"working-directory", "arena.yaml", "not a directory"},
			setup: func(t *testing.T, ws string) []string {
				return []string{"plan", "--working-directory", "arena.yaml"}
			}},
		{name: "working-directory missing", reason: "invalid-input", code: 2, want: []string{"working-directory", "services/bot", "does not exist"},
			setup: func(t *testing.T, ws string) []string {
				return []string{"plan", "--working-directory", "services/bot"}
			}},
		{name: "config missing", reason: "config-not-found", code: 2, want: []string{"arena.yml", "does not exist", "--config"},
			setup: func(t *testing.T, ws string) []string {
				return []string{"plan", "--config", "arena.yml"}
			}},
		{name: "pack without id", reason: "pack-invalid", code: 1, want: []string{"support-bot.pack.json", `no "id"`, "packc"},
			setup: func(t *testing.T, ws string) []string {
				write(t, ws, "support-bot.pack.json", `{"version":"1.0.0","prompts":{}}`)
				return []string{"plan"}
			}},
		{name: "adapter not found", reason: "adapter-not-found", code: 1, want: []string{"promptarena-deploy-local", ".promptarena/adapters/", "--adapter"},
			setup: func(t *testing.T, ws string) []string {
				_ = os.RemoveAll(filepath.Join(ws, ".promptarena", "adapters"))
				return []string{"plan"}
			}},
		{name: "corrupt state", reason: "state-corrupt", code: 1, want: []string{"deploy.state", "git history"},
			setup: func(t *testing.T, ws string) []string {
				write(t, ws, ".promptarena/deploy.state", "{not json")
				return []string{"plan"}
			}},
		{name: "read-only .promptarena", reason: "invalid-input", code: 2, want: []string{".promptarena", "writable"},
			setup: func(t *testing.T, ws string) []string {
				if os.Getuid() == 0 {
					// root writes anyway; an unwritable file in its place
					// fails the same way.
					write(t, ws, ".promptarena/deploy.plan/keep", "")
				} else {
					_ = os.Chmod(filepath.Join(ws, ".promptarena"), 0o555)
					t.Cleanup(func() { _ = os.Chmod(filepath.Join(ws, ".promptarena"), 0o755) })
				}
				return []string{"plan"}
			}},
		{name: "read-only .promptarena at apply", reason: "state-not-writable", code: 1, want: []string{".promptarena", "writable", "Nothing was deployed"},
			setup: func(t *testing.T, ws string) []string {
				if code, out, errOut := cliRun(t, ws, "plan"); code != 0 {
					t.Fatalf("plan: %d\n%s%s", code, out, errOut)
				}
				if os.Getuid() == 0 {
					// root writes anyway; a directory where the lock file
					// goes fails the same way.
					write(t, ws, ".promptarena/deploy.lock/keep", "")
				} else {
					_ = os.Chmod(filepath.Join(ws, ".promptarena"), 0o555)
					t.Cleanup(func() { _ = os.Chmod(filepath.Join(ws, ".promptarena"), 0o755) })
				}
				return []string{"apply"}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := deploytest.CopyExample(t)
			if err := os.MkdirAll(filepath.Join(ws, ".promptarena", "adapters"), 0o755); err != nil {
				t.Fatal(err)
			}
			bin, _ := os.ReadFile(deploytest.LocalAdapter(t))
			write(t, ws, ".promptarena/adapters/promptarena-deploy-local", string(bin))
			_ = os.Chmod(filepath.Join(ws, ".promptarena/adapters/promptarena-deploy-local"), 0o755)
			args := tc.setup(t, ws)
			code, out, errOut := cliRun(t, ws, append(args, "--json")...)
			log := out + errOut
			if code != tc.code || !strings.Contains(out, `"failure-reason": "`+tc.reason+`"`) {
				t.Fatalf("exit %d (want %d), want reason %s:\n%s", code, tc.code, tc.reason, log)
			}
			for _, w := range tc.want {
				if !strings.Contains(log, w) {
					t.Errorf("log lacks %q:\n%s", w, errOut)
				}
			}
			for _, bad := range []string{"internal-error", "delete it to start over", "a bug", "adapter-install: local", "(`" + tc.reason + "`).\n"} {
				if strings.Contains(log, bad) {
					t.Errorf("log holds %q:\n%s", bad, errOut)
				}
			}
		})
	}
}

func write(t *testing.T, ws, rel, content string) {
	t.Helper()
	p := filepath.Join(ws, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
