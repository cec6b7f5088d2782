package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// cliCase is one row of the CLI's table: a command line run by realMain in
// a directory holding app/ (a copy of testdata/example with the reference
// adapter in its .promptarena/adapters), as a user runs it.
type cliCase struct {
	name   string
	args   []string
	env    map[string]string                       // beside PATH and HOME
	setup  func(t *testing.T, dir string) []string // optional: more args
	code   int
	reason string   // the failure-reason output ("" for none)
	stdout []string // on stdout
	stderr []string // on stderr
	absent []string // on neither
	first  string   // how stderr's first line starts
	// quiet: nothing on stdout (a usage error prints its message on stderr
	// only, so >/dev/null still shows it).
	quiet bool
}

// workflowWords are hints in a workflow's words: the CLI never says them.
var workflowWords = []string{
	"Set confirm-destroy:", "confirm-destroy: ", "the config input", "the pack input", "the adapter input", "the environment input",
	"check out the repository first", "set the ", " input to ", "README's inputs table", "adapter-install: ", "on-stale-plan: ",
	"re-run this job", "Re-run this job",
}

// TestCLITable: every CLI finding of issue #20, one row each: flag forms,
// exit codes, errors once on stderr as plain text, hints in the CLI's
// words, no entities, no panic.
func TestCLITable(t *testing.T) {
	cases := []cliCase{
		// Flag forms.
		{name: "true/false flag without a value, flags after the command", args: []string{"refresh", "--fail-on-drift", "--working-directory", "app"},
			stdout: []string{"not deployed", "status=not_deployed"}},
		{name: "flags before the command", args: []string{"--environment", "production", "--working-directory", "app", "plan"},
			stdout: []string{"Arena plan for production", "to-create=4"}},
		{name: "flags on both sides", args: []string{"--working-directory", "app", "plan", "--environment", "staging", "--json"},
			stdout: []string{`"to-create": "4"`, `"command": "plan"`}},
		{name: "true/false flag =false", args: []string{"refresh", "--fail-on-drift=false", "--working-directory", "app"},
			stdout: []string{"status=not_deployed"}},
		{name: "true/false flag given a value", args: []string{"refresh", "--fail-on-drift", "true", "--working-directory", "app"}, code: 2, quiet: true,
			stderr: []string{"--fail-on-drift takes no value", "--fail-on-drift=true"}},
		{name: "true/false flag with a wrong value", args: []string{"refresh", "--fail-on-drift=maybe"}, code: 2, quiet: true,
			stderr: []string{`--fail-on-drift is true or false, not "maybe"`}},
		{name: "a project given as an argument", args: []string{"plan", "app"}, code: 2, quiet: true,
			stderr: []string{`unexpected argument "app"`, "--working-directory app"}},
		{name: "two commands", args: []string{"plan", "apply"}, code: 2, quiet: true, stderr: []string{"two commands, plan and apply"}},
		{name: "unknown flag", args: []string{"plan", "--no-such-flag"}, code: 2, quiet: true, stderr: []string{"unknown flag --no-such-flag", "arena-deploy --help"}},
		{name: "flag without its value", args: []string{"plan", "--environment"}, code: 2, quiet: true, stderr: []string{"--environment needs a value"}},
		{name: "no command", args: []string{"--environment", "production"}, code: 2, quiet: true, stderr: []string{"no command given", "arena-deploy <plan|apply"}},
		{name: "workflow-only input", args: []string{"plan", "--comment=false"}, code: 2, quiet: true,
			stderr: []string{"--comment is an input of the GitHub Action, not a flag of the CLI", "no pull request comment"}},
		// The GitHub Action's own commands: said at once, with where to run
		// them, never after a confirmation the CLI then cannot use.
		{name: "rollback is the action's", args: []string{"rollback", "--working-directory", "app", "--environment", "production"}, code: 2, quiet: true,
			stderr: []string{"rollback is a command of the GitHub Action, not of the CLI", "examples/rollback.yml"}, absent: []string{"confirm-rollback"}},
		{name: "unlock is the action's", args: []string{"unlock", "--working-directory", "app"}, code: 2, quiet: true,
			stderr: []string{"unlock is a command of the GitHub Action, not of the CLI", "freed when the process holding it exits"}},
		{name: "adopt is the action's", args: []string{"adopt", "--working-directory", "app"}, code: 2, quiet: true,
			stderr: []string{"adopt is a command of the GitHub Action, not of the CLI"}},
		{name: "preview is the action's", args: []string{"preview", "--working-directory", "app"}, code: 2, quiet: true,
			stderr: []string{"preview is a command of the GitHub Action, not of the CLI", "examples/preview.yml"}},
		{name: "a flag of the action's commands", args: []string{"plan", "--confirm-rollback", "production"}, code: 2, quiet: true,
			stderr: []string{"--confirm-rollback is an input of the GitHub Action, not a flag of the CLI"}},
		{name: "state-token: the CLI writes no state on GitHub", args: []string{"plan", "--state-token", "x"}, code: 2, quiet: true,
			stderr: []string{"--state-token is an input of the GitHub Action", "--state-path"}},
		{name: "workflow-only state backend", args: []string{"plan", "--state-backend", "git"}, code: 2, quiet: true,
			stderr: []string{"--state-backend is an input of the GitHub Action", "--state-path"}},

		// Exit codes and errors: once, on stderr, plain text, in the CLI's words.
		{name: "missing config, stdout thrown away", args: []string{"plan", "--working-directory", "app", "--config", "nope.yaml"}, code: 2, reason: "config-not-found",
			stderr: []string{"error: arena config not found: app/nope.yaml does not exist", "Set --config (relative to --working-directory)"}},
		{name: "missing working-directory", args: []string{"plan", "--working-directory", "services/bot"}, code: 2, reason: "invalid-input",
			stderr: []string{"--working-directory services/bot does not exist", "pass --working-directory <the directory holding arena.yaml>"}},
		{name: "working-directory outside the workspace", args: []string{"plan", "--working-directory", "../elsewhere"}, code: 2, reason: "invalid-input",
			setup: func(t *testing.T, dir string) []string {
				if err := os.CopyFS(filepath.Join(filepath.Dir(dir), "elsewhere"), os.DirFS(filepath.Join(dir, "app"))); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			stderr: []string{"working-directory", "outside", "Keep --config, --pack, --working-directory"}},
		{name: "destroy without confirmation", args: []string{"destroy", "--working-directory", "app", "--environment", "production"}, code: 2, reason: "destroy-not-confirmed",
			stderr: []string{"needs --confirm-destroy set to the environment's name", "Pass --confirm-destroy production to destroy it."}},
		{name: "bad choice", args: []string{"apply", "--working-directory", "app", "--on-stale-plan", "sometimes"}, code: 2, reason: "invalid-input",
			stderr: []string{`--on-stale-plan is "sometimes"; use one of: fail, replan`}},
		{name: "bad duration", args: []string{"plan", "--working-directory", "app", "--lock-timeout", "soon"}, code: 2, reason: "invalid-input",
			stderr: []string{`--lock-timeout must be a duration such as 30s or 5m, not "soon"`}},
		{name: "bad adapter-timeout", args: []string{"plan", "--working-directory", "app", "--adapter-timeout", "plan=never"}, code: 2, reason: "invalid-input",
			stderr: []string{`--adapter-timeout: "never" is not a positive duration`}},
		{name: "config is a directory", args: []string{"plan", "--working-directory", "app", "--config", "prompts"}, code: 2, reason: "invalid-input",
			stderr: []string{"--config prompts is a directory", "--config prompts/arena.yaml"}},
		{name: "two packs: name both, pick one with --pack", args: []string{"plan", "--working-directory", "app"}, code: 1, reason: "pack-not-found",
			setup: func(t *testing.T, dir string) []string {
				write(t, dir, "app/other.pack.json", mustRead(t, filepath.Join(dir, "app/support-bot.pack.json")))
				return nil
			},
			stderr: []string{"2 packs in", "other.pack.json, support-bot.pack.json", "Pick the one to deploy with --pack other.pack.json"},
			absent: []string{"packc"}},
		{name: "GitHub does not answer the release lookup", args: []string{"plan", "--working-directory", "app", "--adapter-install", "omnia@1.4.0"}, code: 1, reason: "github-api-error",
			env:    map[string]string{"GITHUB_API_URL": "http://127.0.0.1:1"},
			stderr: []string{"error: get release v1.4.0 of AltairaLabs/PromptArena-deploy-omnia", "Run the command again once GitHub answers", "HTTPS_PROXY"}},
		{name: "adapter missing", args: []string{"plan", "--working-directory", "app", "--adapter", "bin/nope"}, code: 1, reason: "adapter-not-found",
			stderr: []string{"app/bin/nope: no such file", "Fix --adapter (relative to --working-directory)"}},
		{name: "adapter not found anywhere", args: []string{"plan", "--working-directory", "app"}, code: 1, reason: "adapter-not-found",
			setup: func(t *testing.T, dir string) []string {
				_ = os.RemoveAll(filepath.Join(dir, "app/.promptarena/adapters"))
				return nil
			},
			env:    map[string]string{"PATH": "/nonexistent"},
			stderr: []string{"no executable promptarena-deploy-local", "Build it and put it in .promptarena/adapters/ of the project, or pass --adapter <its path>"}},
		{name: "errors with < and > stay plain text", args: []string{"plan", "--working-directory", "app"}, code: 1, reason: "no-deploy-section",
			setup: func(t *testing.T, dir string) []string {
				write(t, dir, "app/arena.yaml", "spec:\n  prompt_configs: []\n")
				return nil
			},
			stderr: []string{"provider: <name>"}},
		{name: "json: a usage error is one object on stdout too", args: []string{"plan", "--json", "--no-such-flag"}, code: 2,
			stdout: []string{`"exit_code": 2`, `"command": "plan"`, `"unknown flag --no-such-flag`}, stderr: []string{"arena-deploy: unknown flag --no-such-flag"}},
		{name: "json: an unknown command is one object on stdout too", args: []string{"--json", "deploy"}, code: 2,
			stdout: []string{`"exit_code": 2`, `unknown command \"deploy\"`}, stderr: []string{`arena-deploy: unknown command "deploy"`}},
		{name: "json: one object on stdout, the error on stderr", args: []string{"plan", "--working-directory", "app", "--config", "nope.yaml", "--json"}, code: 2,
			stdout: []string{`"failure-reason": "config-not-found"`, `"exit_code": 2`}, stderr: []string{"error: arena config not found"}},

		// The review's headline: the prompt diff, against the pack applied.
		{name: "plan shows the prompt diff: all new when nothing is deployed", args: []string{"plan", "--working-directory", "app", "--environment", "production"},
			stdout: []string{"#### Prompts: 3 added", "Nothing is deployed to production: every prompt is new.", "  +Summarise the conversation for a human agent in five bullet points."}},
		{name: "plan shows the prompt diff against the pack applied", args: []string{"plan", "--working-directory", "app", "--environment", "production"},
			setup: func(t *testing.T, dir string) []string {
				cliStep(t, "plan", "--working-directory", "app", "--environment", "production")
				cliStep(t, "apply", "--working-directory", "app", "--environment", "production")
				pack := filepath.Join(dir, "app/support-bot.pack.json")
				write(t, dir, "app/support-bot.pack.json", strings.Replace(mustRead(t, pack), "five bullet points", "three bullet points", 1))
				return nil
			},
			stdout: []string{"#### Prompts: 1 changed (+1 −1 lines)", "Compared with the pack last applied to production.",
				"  -Summarise the conversation for a human agent in five bullet points.\n  +Summarise the conversation for a human agent in three bullet points."}},
		{name: "apply names where the state went once", args: []string{"apply", "--working-directory", "app", "--environment", "production"},
			setup: func(t *testing.T, dir string) []string {
				cliStep(t, "plan", "--working-directory", "app", "--environment", "production")
				return nil
			},
			stdout: []string{"State written to /", "/app/.promptarena/deploy.state\n", "applied=true", "Links deploy directory: file:///"}, absent: []string{"deploy.state ("}},
		{name: "refresh does not contradict itself", args: []string{"refresh", "--working-directory", "app", "--environment", "production"},
			setup: func(t *testing.T, dir string) []string {
				cliStep(t, "plan", "--working-directory", "app", "--environment", "production")
				cliStep(t, "apply", "--working-directory", "app", "--environment", "production")
				if err := os.Remove(filepath.Join(dir, "app/.deployed/production/prompts/greeting.json")); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			stdout: []string{"production: degraded, 1 resources not healthy", "1 resources of production are not as deployed (above)", "Run plan and apply to restore them", "drift=1"},
			absent: []string{"Nothing changed"}},

		{name: "a second environment beside the first's state", args: []string{"plan", "--working-directory", "app", "--environment", "staging"},
			code: 1, reason: "state-other-environment",
			setup: func(t *testing.T, dir string) []string {
				cliStep(t, "plan", "--working-directory", "app", "--environment", "production")
				cliStep(t, "apply", "--working-directory", "app", "--environment", "production")
				return nil
			},
			stderr: []string{`is the state of "production", not "staging"`, "--state-path .promptarena/<environment>.state"}},
		{name: "an evaluation that blocks: the hint names the CLI's flag", args: []string{"apply", "--working-directory", "app", "--environment", "production", "--evaluations", "out"},
			code: 1, reason: "evaluation-blocked",
			setup: func(t *testing.T, dir string) []string {
				out := filepath.Join(dir, "app", "out")
				if err := os.CopyFS(out, os.DirFS(filepath.Join(deploytest.RepoRoot(), "internal", "evalresults", "testdata", "promptarena", "pr"))); err != nil {
					t.Fatal(err)
				}
				// The plain scenarios only: the fixture's hostile ones hold
				// "&amp;" and "error:" as text, which every row's checks
				// would take for ours.
				keep := func(s string) bool {
					for _, sc := range []string{"_greet_", "_refund-limit_", "_escalation-summary_"} {
						if strings.Contains(s, sc) {
							return true
						}
					}
					return false
				}
				var index map[string]any
				if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(out, "index.json"))), &index); err != nil {
					t.Fatal(err)
				}
				for _, k := range []string{"run_ids", "scenarios"} {
					list, _ := index[k].([]any)
					kept := []any{}
					for _, v := range list {
						if s, _ := v.(string); keep("_"+s+"_") || keep(s) {
							kept = append(kept, v)
						}
					}
					index[k] = kept
				}
				index["total_runs"] = len(index["run_ids"].([]any))
				b, _ := json.Marshal(index)
				write(t, out, "index.json", string(b))
				later := time.Now().Add(time.Minute) // written after the checkout
				filepath.WalkDir(out, func(p string, d os.DirEntry, _ error) error {
					if !d.IsDir() && d.Name() != "index.json" && !keep(d.Name()) {
						return os.Remove(p)
					}
					return os.Chtimes(p, later, later)
				})
				cliStep(t, "plan", "--working-directory", "app", "--environment", "production", "--evaluations", "out")
				return nil
			},
			stderr: []string{"block the deploy of production", "pass --evaluation-override <the reason>"},
			absent: []string{"merge the fix", "run the workflow", "on the pull request"}},
		{name: "apply of a pack changed since the plan: refused in the CLI's words", args: []string{"apply", "--working-directory", "app", "--environment", "production"},
			code: 1, reason: "pack-mismatch",
			setup: func(t *testing.T, dir string) []string {
				cliStep(t, "plan", "--working-directory", "app", "--environment", "production")
				pack := filepath.Join(dir, "app/support-bot.pack.json")
				write(t, dir, "app/support-bot.pack.json", strings.Replace(mustRead(t, pack), "five bullet points", "six bullet points", 1))
				return nil
			},
			stderr: []string{"error: the pack now (support-bot.pack.json, sha256:", "is not the pack that was reviewed", "Run plan again, review it, then apply."},
			absent: []string{"pull request", "created="}},

		// Nothing a user can't see.
		{name: "an environment arena.yaml does not list is said first", args: []string{"plan", "--working-directory", "app", "--environment", "prodution"},
			first:  `warning: Environment "prodution" is not listed under deploy.environments in arena.yaml (it lists production, staging), so it deploys with the base deploy.config`,
			stderr: []string{"fix --environment or add deploy.environments.prodution"},
			stdout: []string{"### ⚠️ Arena plan for prodution in app (not in arena.yaml): +4 to create\n\n> prodution is not an environment of arena.yaml (its deploy.environments: production, staging)", "to-create=4"},
			absent: []string{"[!WARNING]"}},

		// No panic: a runner's variables without the runner's files.
		{name: "GITHUB_ACTIONS without GITHUB_OUTPUT", args: []string{"plan"}, env: map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "x"},
			code: 2, quiet: true, stderr: []string{"GITHUB_ACTIONS is true but GITHUB_OUTPUT is not set", "unset GITHUB_ACTIONS"}},
		{name: "GITHUB_ACTIONS with an unwritable GITHUB_OUTPUT", args: []string{"plan"}, code: 2, quiet: true,
			env:    map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "x", "GITHUB_OUTPUT": "/nonexistent/out", "GITHUB_STEP_SUMMARY": "/nonexistent/sum"},
			stderr: []string{"GITHUB_OUTPUT (/nonexistent/out) cannot be written"}},
		{name: "demo with an unknown flag", args: []string{"demo", "--bogus"}, code: 2, quiet: true,
			stderr: []string{"demo: unknown flag --bogus", "arena-deploy demo [--keep] [--example <dir>]"}, absent: []string{"Usage of"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLICase(t, tc)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			checkCLIOutput(t, tc, stdout, stderr)
		})
	}
}

// cliStep runs an earlier command of a row's story (in its directory).
func cliStep(t *testing.T, args ...string) {
	t.Helper()
	var out bytes.Buffer
	if code := realMain(context.Background(), args, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, &out, &out); code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, out.String())
	}
}

// runCLICase runs one row in a fresh copy of the example.
func runCLICase(t *testing.T, tc cliCase) (int, string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(filepath.Join(dir, "app"), os.DirFS(deploytest.CopyExample(t))); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(deploytest.LocalAdapter(t))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "app/.promptarena/adapters/promptarena-deploy-local", string(bin))
	if err := os.Chmod(filepath.Join(dir, "app/.promptarena/adapters/promptarena-deploy-local"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": t.TempDir()}
	for k, v := range tc.env {
		env[k] = v
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	t.Chdir(dir)
	args := tc.args
	if tc.setup != nil {
		args = append(append([]string{}, args...), tc.setup(t, dir)...)
	}
	var out, errb bytes.Buffer
	// Retries wait no time: a row of GitHub not answering takes its four
	// retries at once, not 13 s.
	code := runMain(context.Background(), hooks{now: time.Now, sleep: func(context.Context, time.Duration) error { return nil }}, args, environ, &out, &errb)
	return code, out.String(), errb.String()
}

var entity = regexp.MustCompile(`&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);`)

func checkCLIOutput(t *testing.T, tc cliCase, stdout, stderr string) {
	t.Helper()
	both := stdout + stderr
	for _, w := range tc.stdout {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	for _, w := range tc.stderr {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	for _, w := range tc.absent {
		if strings.Contains(both, w) {
			t.Errorf("output holds %q:\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
		}
	}
	if first, _, _ := strings.Cut(stderr, "\n"); tc.first != "" && !strings.HasPrefix(first, tc.first) {
		t.Errorf("stderr's first line is not %q:\n%s", tc.first, stderr)
	}
	if tc.quiet && stdout != "" {
		t.Errorf("a usage error printed on stdout:\n%s", stdout)
	}
	if tc.reason != "" && !strings.Contains(stdout, "failure-reason="+tc.reason) && !strings.Contains(stdout, `"failure-reason": "`+tc.reason+`"`) {
		t.Errorf("failure-reason is not %s:\n%s", tc.reason, stdout)
	}
	// Every row: no panic, no Markdown fence or HTML entity, no invisible
	// joiner, hints in the CLI's words, an error said once and on stderr.
	for _, bad := range []string{"panic", "goroutine ", "```", "<details", "<br>", "\u200d", "\u200b"} {
		if strings.Contains(both, bad) {
			t.Errorf("output holds %q:\nstdout:\n%s\nstderr:\n%s", bad, stdout, stderr)
		}
	}
	if m := entity.FindString(both); m != "" {
		t.Errorf("output holds the HTML entity %s:\nstdout:\n%s\nstderr:\n%s", m, stdout, stderr)
	}
	for _, w := range workflowWords {
		if strings.Contains(both, w) {
			t.Errorf("the CLI speaks a workflow's words (%q):\n%s", w, both)
		}
	}
	if tc.code != 0 {
		if strings.Contains(stdout, "error:") {
			t.Errorf("the error is on stdout:\n%s", stdout)
		}
		if n := strings.Count(stderr, "error:") + strings.Count(stderr, "arena-deploy: "); n != 1 {
			t.Errorf("the error is said %d times on stderr:\n%s", n, stderr)
		}
	}
}

// TestTerminalColorsTheDiff: at a terminal the prompt diff is coloured
// (removals red, additions green) and the report's emphasis bold; piped,
// no escape sequence at all. Text a pull request wrote cannot add one.
func TestTerminalColorsTheDiff(t *testing.T) {
	md := "### Arena plan for **production**\n\n```diff\n@@ -1 +1 @@\n-five bullet points\n+three bullet points\n```\n\nname \\*\\*x\\*\\* &#27;[31m \ue000"
	tty := terminalReport(md, true)
	for _, want := range []string{"\x1b[1mproduction\x1b[0m", "\x1b[36m@@ -1 +1 @@\x1b[0m", "\x1b[31m-five bullet points\x1b[0m", "\x1b[32m+three bullet points\x1b[0m"} {
		if !strings.Contains(tty, want) {
			t.Errorf("terminal text lacks %q:\n%q", want, tty)
		}
	}
	if strings.Count(tty, "\x1b[") != 8 {
		t.Errorf("escape sequences beyond the report's own:\n%q", tty)
	}
	if piped := terminalReport(md, false); strings.Contains(piped, "\x1b") || !strings.Contains(piped, "  -five bullet points\n  +three bullet points") {
		t.Errorf("piped:\n%q", piped)
	}
}
