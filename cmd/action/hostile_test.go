package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/report/reporttest"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// TestHostileInputs runs the real action (plan on the pull request, apply
// on merge, refresh with a drift issue) against the emulator with the
// hostile adapter (a real subprocess that echoes what it knows and
// workflow commands in every field), one row per place a secret can hide
// and per attack, and checks every output channel: comments, job
// summaries, logs, step outputs, every artifact's zip contents, the
// committed state and the drift issue for the secret, every printed line
// for a workflow command, and the Markdown for steering.
func TestHostileInputs(t *testing.T) {
	const sec = "Zq8-secret-7Hk2pW" // no secret word in it, nothing Markdown escapes
	pemLines := []string{"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", "VJTUt9Us8cKjMzEfYyjiWA4R4KBZDn0U5UmS5w2rWhM1Ia2Y0H6"}
	cases := []struct {
		name    string
		config  string            // production's config, indented under config:
		env     map[string]string // the step's environment (the adapter's too)
		echoEnv string            // variables the adapter echoes
		inputs  map[string]string
		secrets []string // what must appear nowhere
		state   bool     // the adapter puts the secret in its state
		refresh bool     // the adapter puts the secret in its refreshed state
		fail    string   // the plan fails with this reason
		pack    bool     // the pack holds a hostile prompt name
		payload string   // the adapter's hostile text, when not hostilePayload
		steer   []string // Markdown that must not reach a report as is
	}{
		{name: "config api_token", config: "api_token: " + sec},
		{name: "config auth", config: "auth: " + sec},
		{name: "config bearer", config: "bearer: " + sec},
		{name: "config dsn", config: "dsn: " + sec},
		{name: "config passwd", config: "db_passwd: " + sec},
		{name: "config pwd", config: "pwd: " + sec},
		{name: "config cert", config: "client_cert: " + sec},
		{name: "config private", config: "private: " + sec},
		{name: "config credential", config: "credential: " + sec},
		{name: "config session and cookie", config: "session_cookie: " + sec},
		{name: "config signature", config: "signature: " + sec},
		{name: "URL credentials", config: "endpoint: https://deploy:" + sec + "@api.example.test/v1"},
		{name: "headers value", config: "headers:\n  - name: Authorization\n    value: Bearer " + sec},
		{name: "YAML alias under a plain key", config: "api_token: &tok " + sec + "\nlabel: *tok"},
		{name: "multi-line secret", config: "private_key: |\n  -----BEGIN PRIVATE KEY-----\n  " + strings.Join(pemLines, "\n  ") + "\n  -----END PRIVATE KEY-----",
			secrets: pemLines},
		{name: "env variable with a secret name", env: map[string]string{"OMNIA_API_TOKEN": sec}, echoEnv: "OMNIA_API_TOKEN"},
		{name: "env variable listed in mask-env", env: map[string]string{"DATABASE_URL": sec}, echoEnv: "DATABASE_URL", inputs: map[string]string{"mask-env": "DATABASE_URL"}},
		{name: "adapter error names an env secret", env: map[string]string{"OMNIA_API_TOKEN": sec}, echoEnv: "OMNIA_API_TOKEN",
			fail: "plan-failed"},
		{name: "adapter state holds a secret", config: "api_token: " + sec, state: true},
		{name: "refreshed state holds a secret", config: "api_token: " + sec, refresh: true},
		{name: "hostile prompt name in the pack", config: "api_token: " + sec, pack: true},
		// One attack alone per row (the rows above carry them all at once).
		{name: "attack: command after LF", config: "api_token: " + sec, payload: "ok\n::error title=PWNED::x"},
		{name: "attack: command after CR", config: "api_token: " + sec, payload: "ok\r::add-mask::PWNED"},
		{name: "attack: stop-commands", config: "api_token: " + sec, payload: "ok\n::stop-commands::PWNED\n::error::PWNED"},
		{name: "attack: legacy ##[ command", config: "api_token: " + sec, payload: "ok ##[set-env name=PWNED;]x"},
		{name: "attack: issue references", config: "api_token: " + sec, payload: "fixes #123, octo/app#7 and GH-9", steer: []string{"#123", "app#7", "GH-9"}},
		{name: "attack: mention", config: "api_token: " + sec, payload: "cc @octo-org/admins", steer: []string{"@octo-org"}},
		{name: "attack: bidi override", config: "api_token: " + sec, payload: "open \u202egnp.exe", steer: []string{"\u202e"}},
		{name: "attack: link and image", config: "api_token: " + sec, payload: "[click](https://evil.test) ![x](https://evil.test/x.png) <a href=https://evil.test>", steer: []string{"[click](", "![x](", "<a href", "https://evil.test"}},
		{name: "attack: table row from a link URL", config: "api_token: " + sec, payload: "x", steer: []string{"| 🟢 | injected"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			config := "target_dir: out\n" + tc.config
			h.writeFile("arena.yaml", "deploy:\n  provider: local\n  environments:\n    production:\n      config:\n        "+
				strings.ReplaceAll(strings.TrimRight(config, "\n"), "\n", "\n        ")+"\n")
			if tc.pack {
				pack := mustRead(t, h.workspace+"/support-bot.pack.json")
				pack = strings.Replace(pack, `"prompts": {`, `"prompts": {"evil\n::error title=PWNED::pack #7 \u202egnp.exe": {"id": "evil", "system_template": "x"},`, 1)
				if !strings.Contains(pack, "PWNED") {
					t.Fatal("pack not modified")
				}
				h.writeFile("support-bot.pack.json", pack)
			}
			h.env["ARENA_HOSTILE_ADAPTER"] = "1"
			h.env["HOSTILE_ECHO_ENV"] = tc.echoEnv
			if tc.state {
				h.env["HOSTILE_STATE"] = "secret"
			}
			if tc.refresh {
				h.env["HOSTILE_STATE"] = "refresh"
			}
			if tc.fail != "" {
				h.env["HOSTILE_FAIL"] = "plan"
			}
			h.env["HOSTILE_PAYLOAD"] = tc.payload
			for k, v := range tc.env {
				h.env[k] = v
			}
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]string{"environment": "production", "adapter": exe}
			for k, v := range tc.inputs {
				in[k] = v
			}
			ch := &channels{t: t, h: h}
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.pullRequest(pr)
			plan := ch.run("plan", in, pr.Number)
			if tc.fail != "" {
				if plan.code == 0 || plan.outputs["failure-reason"] != tc.fail {
					t.Fatalf("plan: exit %d %v\n%s", plan.code, plan.outputs, plan.log)
				}
			} else {
				if plan.code != 0 {
					t.Fatalf("plan: exit %d %v\n%s", plan.code, plan.outputs, plan.log)
				}
				h.merge(pr, "merge111", "Merge pull request #1")
				apply := ch.run("apply", in, pr.Number)
				if apply.code != 0 || apply.outputs["applied"] != "true" {
					t.Fatalf("apply: exit %d %v\n%s", apply.code, apply.outputs, apply.log)
				}
				if tc.state {
					ch.checkStateKept(apply)
				}
				h.checkout()
				refresh := map[string]string{"command": "refresh", "drift-issue": "true"}
				for k, v := range in {
					refresh[k] = v
				}
				r := ch.run("refresh", refresh, 0)
				if r.code != 0 || r.outputs["drift-issue"] == "" && !tc.state {
					t.Fatalf("refresh: exit %d %v\n%s", r.code, r.outputs, r.log)
				}
				if tc.refresh && !strings.Contains(r.log, "refreshed state holds the value of a secret") {
					t.Errorf("refresh: no warning for a state holding a secret\n%s", r.log)
				}
			}
			ch.collectGitHub(tc.state)
			ch.checkSecrets(append([]string{sec}, tc.secrets...))
			steer := tc.steer
			if tc.payload == "" {
				steer = []string{"#1 octo", "app#2", "GH-3", "@admins", "\u202e", "[click](https://evil.test)", "(https://evil.test", "| 🟢 | injected", "#7 "}
			}
			ch.checkMarkdown(steer)
		})
	}
}

// TestHostileGitHubText: GitHub's answers are text the action did not
// write either; an error message holding workflow commands, printed in a
// warning, stays inert.
func TestHostileGitHubText(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	msg := "Forbidden\n::error title=PWNED::gh\r::add-mask::PWNED ##[set-env name=PWNED;]x"
	h.gh.Inject("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", ghemu.Fault{Status: 422, Message: msg})
	res := h.run(nil)
	if res.code != 0 || !strings.Contains(res.log, "::warning::") {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if !strings.Contains(res.log, "%0A::error title=PWNED") {
		t.Fatalf("GitHub's message not in the log (the fault did not reach the action?):\n%s", res.log)
	}
	if bad := reporttest.Injected(res.log, "PWNED"); len(bad) > 0 {
		t.Errorf("commands from GitHub's text: %+v\n%s", bad, res.log)
	}
}

// channels gathers every output of the runs of one journey.
type channels struct {
	t      *testing.T
	h      *harness
	texts  map[string]string // channel -> content
	logs   map[string]string
	keptAs string // the artifact holding state that could not be committed
}

func (c *channels) add(name, text string) {
	if c.texts == nil {
		c.texts, c.logs = map[string]string{}, map[string]string{}
	}
	c.texts[name] += text + "\n"
}

// run runs the action and keeps its log, summary, outputs and the
// pull request's comments as they are after it.
func (c *channels) run(step string, in map[string]string, pr int) result {
	res := c.h.run(in)
	c.add(step+" summary", res.summary)
	c.add(step+" outputs", fmt.Sprint(res.outputs))
	// The runner consumes ::add-mask:: lines: they are the one place a
	// secret may be printed, to tell the runner to hide it.
	var log []string
	for _, l := range strings.Split(res.log, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			log = append(log, l)
		}
	}
	c.add(step+" log", strings.Join(log, "\n"))
	if c.logs == nil {
		c.logs = map[string]string{}
	}
	c.logs[step] = res.log
	if bad := reporttest.Injected(res.log, "PWNED"); len(bad) > 0 {
		c.t.Errorf("%s: the runner would execute commands from hostile text: %+v", step, bad)
	}
	if !strings.Contains(res.log, "exiting ") {
		c.t.Errorf("%s: the adapter's last stderr line (no newline) was lost", step)
	}
	if pr != 0 {
		for _, cm := range c.h.gh.Comments(pr) {
			c.add(step+" comment", cm.Body)
		}
	}
	return res
}

// collectGitHub adds the drift issues, committed state and artifacts.
func (c *channels) collectGitHub(stateKept bool) {
	for _, is := range c.h.gh.Issues() {
		c.add(fmt.Sprintf("issue #%d", is.Number), is.Title+"\n"+is.Body)
	}
	if st, ok := c.h.stateOf(".", "production"); ok {
		c.add("committed state", string(st))
	}
	dir := target.New(".", "arena.yaml", "production").StateDir()
	for _, f := range []string{"record.json", "deployed.pack.json"} {
		if b, ok := c.h.gh.GetFile(stateBranch, dir+"/"+f); ok {
			c.add("state branch "+f, string(b))
		}
	}
	f := artifacts.NewFinder(c.h.gh.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo, c.h.gh.Client())
	for _, a := range c.h.gh.Artifacts() {
		if stateKept && a.Name == c.keptAs {
			continue // kept on purpose, and said so (checkStateKept)
		}
		data, err := f.Download(context.Background(), a.ID)
		if err != nil {
			c.t.Fatal(err)
		}
		c.add("artifact "+a.Name, rawZip(c.t, data))
	}
}

func (c *channels) checkSecrets(secrets []string) {
	names := make([]string, 0, len(c.texts))
	for n := range c.texts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, s := range secrets {
			if strings.Contains(c.texts[n], s) {
				c.t.Errorf("secret %.12s… leaked into %s", s, n)
			}
		}
	}
	if len(names) < 4 {
		c.t.Errorf("only %d channels checked: %v", len(names), names)
	}
}

var fenced = regexp.MustCompile("(?s)```+[a-z]*\n.*?\n```+")

// checkMarkdown: nothing the adapter or pack wrote links, mentions,
// references an issue, hides characters or adds a table row.
func (c *channels) checkMarkdown(steer []string) {
	for n, text := range c.texts {
		if !strings.Contains(n, "comment") && !strings.Contains(n, "summary") && !strings.HasPrefix(n, "issue") {
			continue
		}
		if strings.Contains(text, "\u202e") {
			c.t.Errorf("%s holds a bidi override", n)
		}
		// Code blocks (error messages, diffs) render nothing: look outside them.
		prose := fenced.ReplaceAllString(text, "")
		for _, bad := range append(steer, "| 🟢 | injected") {
			if strings.Contains(prose, bad) {
				c.t.Errorf("%s steered by %q", n, bad)
			}
		}
	}
}

// checkStateKept: a state holding a secret is not committed but kept as
// an artifact, with a warning that says why.
func (c *channels) checkStateKept(apply result) {
	if c.h.anyState() {
		c.t.Error("a state holding a secret was committed")
	}
	c.keptAs = apply.outputs["state-artifact"]
	if c.keptAs == "" || !strings.Contains(apply.log, "::warning::") || !strings.Contains(apply.log, "holds the value of a secret") {
		c.t.Errorf("state not kept with a warning: %v\n%s", apply.outputs, apply.log)
	}
}

// TestOIDCReachesAdapterOnlyWhenAllowed: the OIDC request variables let
// whoever holds them mint identity tokens for the workflow; the adapter
// gets them only with adapter-oidc: true.
func TestOIDCReachesAdapterOnlyWhenAllowed(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint("adapter-oidc=", allow), func(t *testing.T) {
			h := newHarness(t)
			h.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "oidc-request-token-0123456789"
			h.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = "https://token.actions.example.test/oidc?x=1"
			h.writeFile("spy.sh", "#!/bin/sh\nenv > \"$(dirname \"$0\")/adapter-env.txt\"\nexec promptarena-deploy-local\n")
			_ = os.Chmod(h.workspace+"/spy.sh", 0o755)
			h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"}))
			res := h.run(map[string]string{"adapter": "spy.sh", "adapter-oidc": fmt.Sprint(allow)})
			if res.code != 0 {
				t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
			}
			env := mustRead(t, h.workspace+"/adapter-env.txt")
			for _, v := range []string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN=", "ACTIONS_ID_TOKEN_REQUEST_URL="} {
				if strings.Contains(env, v) != allow {
					t.Errorf("adapter-oidc %v: %s passed = %v", allow, v, !allow)
				}
			}
			if strings.Contains(env, "INPUT_GITHUB-TOKEN") || strings.Contains(env, "ACTIONS_RUNTIME_TOKEN=") {
				t.Error("GitHub's tokens reached the adapter")
			}
			if strings.Contains(strings.ReplaceAll(res.log, "::add-mask::oidc-request-token-0123456789", ""), "oidc-request-token-0123456789") {
				t.Error("the OIDC request token was printed")
			}
		})
	}
}
