package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// cliRun runs the CLI (no GITHUB_ACTIONS) in dir with args.
func cliRun(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errb bytes.Buffer
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	code = realMain(context.Background(), args, env, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIUsage(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		stdout   []string
		stderr   []string
		notInOut string
	}{
		{args: []string{"--help"}, code: 0, stdout: []string{"usage: arena-deploy <command> [flags]", "plan ", "--environment", inputDocs["environment"], "(default default)", "--json", "exit codes"}},
		{args: []string{"help"}, code: 0, stdout: []string{"--working-directory", cliDocs["working-directory"]}},
		{args: []string{"plan", "-h"}, code: 0, stdout: []string{"commands:"}},
		{args: []string{"--version"}, code: 0, stdout: []string{"arena-deploy ", "go1."}},
		{args: []string{"version"}, code: 0, stdout: []string{"arena-deploy "}},
		{args: nil, code: 2, stderr: []string{"no command given", "--help"}},
		{args: []string{"deploy"}, code: 2, stderr: []string{`unknown command "deploy"`, "plan, apply, status, refresh, destroy, targets, demo"}},
		{args: []string{"plan", "app"}, code: 2, stderr: []string{`unexpected argument "app"`, "--working-directory"}},
		{args: []string{"plan", "--no-such-flag"}, code: 2, stderr: []string{"unknown flag --no-such-flag", "--help"}},
	} {
		code, out, errOut := cliRun(t, "", tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errOut)
		}
		for _, w := range tc.stdout {
			if !strings.Contains(out, w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, w := range tc.stderr {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, errOut)
			}
		}
	}
	// Every flag the CLI takes has a real description, the one action.yml
	// gives unless the CLI's differs; the workflow-only inputs are not
	// listed.
	_, out, _ := cliRun(t, "", "--help")
	for _, n := range inputNames {
		_, workflowOnly := workflowOnly[n]
		switch {
		case workflowOnly && strings.Contains(out, "--"+n+" "):
			t.Errorf("help lists the workflow-only input --%s", n)
		case !workflowOnly && (flagDoc(n) == "" || !strings.Contains(out, "--"+n) || !strings.Contains(out, flagDoc(n))):
			t.Errorf("flag --%s has no help (%q)", n, flagDoc(n))
		}
	}
	// Only the commands the CLI runs: the action's own (rollback, unlock,
	// adopt, preview) would refuse after their confirmation was typed.
	for _, c := range []string{"rollback", "unlock", "adopt", "preview"} {
		if regexp.MustCompile(`(?m)^  ` + c + ` `).MatchString(out) {
			t.Errorf("help lists the command %s, which the CLI cannot run", c)
		}
	}
	if strings.Contains(out, "README's inputs table") {
		t.Error("help still points to the README instead of saying what a flag does")
	}
}

// TestCLIPlanOutput: a plan at a terminal shows the report without its
// HTML or the pull-request footer; --json prints one object on stdout.
func TestCLIPlanOutput(t *testing.T) {
	ws := deploytest.CopyExample(t)
	adapters := ws + "/.promptarena/adapters"
	if err := os.MkdirAll(adapters, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(deploytest.LocalAdapter(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(adapters+"/promptarena-deploy-local", bin, 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cliRun(t, ws, "plan", "--environment", "production")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, bad := range []string{"<!--", "<details", "<summary>", "<sub>", "Merging this pull request"} {
		if strings.Contains(out, bad) {
			t.Errorf("CLI output holds %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"+4 to create", "| Action | Type | Name |", "outputs:", "to-create=4"} {
		if !strings.Contains(out, want) {
			t.Errorf("CLI output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = cliRun(t, ws, "plan", "--environment", "production", "--json")
	var got struct {
		Command  string            `json:"command"`
		ExitCode int               `json:"exit_code"`
		Outputs  map[string]string `json:"outputs"`
		Errors   []string          `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("--json stdout is not one JSON object (%v, exit %d):\n%s\nstderr:\n%s", err, code, out, errOut)
	}
	if got.Command != "plan" || got.ExitCode != 0 || got.Outputs["to-create"] != "4" || got.Errors == nil {
		t.Errorf("--json: %+v", got)
	}
	if !strings.Contains(errOut, "+4 to create") {
		t.Errorf("--json: the report should go to stderr:\n%s", errOut)
	}
}

// TestCLIOutputsTellTheTruth: apply with the local state file sets no
// state-sha (a path is not a blob sha); destroy with nothing deployed is
// not "destroyed".
func TestCLIOutputsTellTheTruth(t *testing.T) {
	ws := deploytest.CopyExample(t)
	if err := os.MkdirAll(ws+"/.promptarena/adapters", 0o755); err != nil {
		t.Fatal(err)
	}
	bin, _ := os.ReadFile(deploytest.LocalAdapter(t))
	if err := os.WriteFile(ws+"/.promptarena/adapters/promptarena-deploy-local", bin, 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, _ := cliRun(t, ws, "destroy", "--confirm-destroy", "default", "--json")
	if code != 0 || !strings.Contains(out, `"destroyed": "false"`) {
		t.Errorf("destroy with nothing deployed: exit %d\n%s", code, out)
	}
	if code, out, errOut := cliRun(t, ws, "plan"); code != 0 {
		t.Fatalf("plan: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := cliRun(t, ws, "apply", "--json")
	if code != 0 || !strings.Contains(out, `"applied": "true"`) || strings.Contains(out, "state-sha") {
		t.Errorf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = cliRun(t, ws, "destroy", "--confirm-destroy", "default", "--json")
	if code != 0 || !strings.Contains(out, `"destroyed": "true"`) {
		t.Errorf("destroy: exit %d\n%s", code, out)
	}
}
