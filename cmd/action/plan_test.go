package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

func TestPlanOnPullRequest(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1111"})
	h.pullRequest(pr)
	h.gh.ResetLog()
	res := h.run(map[string]string{"environment": "production"})
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.log)
	}
	comments := h.gh.Comments(pr.Number)
	if len(comments) != 1 || comments[0].User != ghemu.BotLogin {
		t.Fatalf("comments: %+v", comments)
	}
	body := comments[0].Body
	for _, want := range []string{"+4 to create", "sha256:", "production", "support-bot 1.2.0", "Merging this pull request applies exactly this plan"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if !strings.Contains(res.summary, "+4 to create") {
		t.Errorf("summary: %s", res.summary)
	}
	o := res.outputs
	if o["to-create"] != "4" || o["has-changes"] != "true" || o["unchanged"] != "0" || o["artifact-name"] != "arena-plan-production-"+target.New(".", "arena.yaml", "production").ID()+"-head1111" || len(o["plan-id"]) != 64 || o["comment-id"] == "" {
		t.Errorf("outputs: %v", o)
	}
	if _, ok := o["failure-reason"]; ok {
		t.Errorf("failure-reason set on success: %v", o)
	}
	// API calls: the token's identity, one list page, one write for the
	// comment and one list after it (a racing run may have made it too);
	// one read of the state branch; two Twirp calls and two blob PUTs for the artifact.
	if n := h.gh.CountRequests("GET /user"); n != 1 {
		t.Errorf("identity calls %d", n)
	}
	dir := target.New(".", "arena.yaml", "production").StateDir()
	if n := h.gh.CountRequests("GET /repos/octo-org/app/contents/" + dir + "/record.json"); n != 1 {
		t.Errorf("state reads %d", n)
	}
	if n := h.gh.CountRequests("GET /repos/octo-org/app/issues/"); n != 2 {
		t.Errorf("comment list calls %d", n)
	}
	if n := h.gh.CountRequests("POST /repos/"); n != 1 {
		t.Errorf("comment writes %d", n)
	}
	// The pull request's head, once, after the comment: a newer push's
	// plan is never written over (TestOlderHeadNeverOverwritesNewerPlan).
	if n := h.gh.CountRequests("GET /repos/octo-org/app/pulls/"); n != 1 {
		t.Errorf("pull request reads %d", n)
	}
	if n := h.gh.CountRequests("POST /twirp/") + h.gh.CountRequests("PUT /_blob/"); n != 4 {
		t.Errorf("artifact calls %d", n)
	}
	id, _ := strconv.ParseInt(o["artifact-id"], 10, 64)
	files := h.artifactFiles(id)
	var saved deploy.SavedPlan
	dec := json.NewDecoder(strings.NewReader(string(files["deploy.plan"])))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&saved); err != nil {
		t.Fatal(err)
	}
	if saved.PackChecksum != o["pack-checksum"] || deploy.ComputePackChecksum([]byte(saved.Request.PackJSON)) != saved.PackChecksum || saved.Environment != "production" || len(saved.Plan.Changes) != 4 {
		t.Errorf("saved plan: %+v", saved)
	}
	var prov map[string]any
	if err := json.Unmarshal(files["provenance.json"], &prov); err != nil || prov["plan_id"] != o["plan-id"] || prov["head_sha"] != "head1111" {
		t.Errorf("provenance: %s", files["provenance.json"])
	}
	if !strings.Contains(string(files["plan.md"]), "+4 to create") {
		t.Error("plan.md")
	}
}

func TestSecondPushEditsTheSameComment(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	first := h.run(nil)
	if first.code != 0 {
		t.Fatal(first.log)
	}
	// A new commit on the branch changes a prompt.
	pack := strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1)
	h.writeFile("support-bot.pack.json", pack)
	pr.HeadSHA = "head2"
	h.pullRequest(pr)
	second := h.run(nil)
	if second.code != 0 {
		t.Fatal(second.log)
	}
	comments := h.gh.Comments(pr.Number)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "`head2`") {
		t.Fatalf("comments: %+v", comments)
	}
	if first.outputs["comment-id"] != second.outputs["comment-id"] || first.outputs["plan-id"] == second.outputs["plan-id"] {
		t.Errorf("outputs: %v / %v", first.outputs, second.outputs)
	}
}

func TestPlanIDStableOnRerun(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	run := h.pullRequest(pr)
	a := h.run(nil)
	run.Attempt = 2 // a re-run of the same job: same inputs, same plan id
	h.env["GITHUB_RUN_ATTEMPT"] = "2"
	b := h.run(nil)
	if a.code != 0 || b.code != 0 || a.outputs["plan-id"] != b.outputs["plan-id"] {
		t.Fatalf("%v\n%v\n%s", a.outputs, b.outputs, b.log)
	}
	if a.outputs["artifact-id"] == b.outputs["artifact-id"] {
		t.Error("re-run did not replace the artifact")
	}
	if len(h.gh.Comments(pr.Number)) != 1 {
		t.Error("re-run added a comment")
	}
}

func TestTwoEnvironmentsTwoComments(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	for _, env := range []string{"staging", "production", "staging"} {
		if r := h.run(map[string]string{"environment": env}); r.code != 0 {
			t.Fatal(r.log)
		}
	}
	if n := len(h.gh.Comments(pr.Number)); n != 2 {
		t.Fatalf("comments %d, want 2", n)
	}
}

func TestAdapterValidationErrorIsReported(t *testing.T) {
	h := newHarness(t)
	h.writeFile("arena.yaml", "deploy:\n  provider: local\n  config:\n    target_dir: ''\n")
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	res := h.run(nil)
	if res.code != 1 || res.outputs["failure-reason"] != "invalid-config" {
		t.Fatalf("exit %d outputs %v\n%s", res.code, res.outputs, res.log)
	}
	c := h.gh.Comments(pr.Number)
	if len(c) != 1 || !strings.Contains(c[0].Body, "target_dir is required") || !strings.Contains(c[0].Body, "invalid-config") {
		t.Fatalf("comment: %+v", c)
	}
	if !strings.Contains(res.log, "::error::") {
		t.Error("no error annotation")
	}
}

func TestPlanFailuresHaveReasons(t *testing.T) {
	cases := []struct {
		name, reason string
		setup        func(h *harness) map[string]string
	}{
		{"missing config", "config-not-found", func(h *harness) map[string]string { return map[string]string{"config": "nope.yaml"} }},
		{"no deploy section", "no-deploy-section", func(h *harness) map[string]string {
			h.writeFile("arena.yaml", "kind: Arena\nspec: {}\n")
			return nil
		}},
		// Outside the workspace is invalid-input for every path (#12's fence),
		// whichever file named it.
		{"tool file outside the repository", "invalid-input", func(h *harness) map[string]string {
			h.writeFile("arena.yaml", strings.Replace(mustRead(h.t, h.workspace+"/arena.yaml"), "tools/lookup_order.yaml", "../../../../../etc/passwd", 1))
			return nil
		}},
		{"missing scenario file", "invalid-arena-config", func(h *harness) map[string]string {
			h.writeFile("arena.yaml", strings.Replace(mustRead(h.t, h.workspace+"/arena.yaml"), "  tools:", "  scenarios:\n    - file: scenarios/gone.yaml\n  tools:", 1))
			return nil
		}},
		{"adapter not found", "adapter-not-found", func(h *harness) map[string]string {
			h.env["PATH"] = "/nonexistent"
			return nil
		}},
		{"crashing adapter", "adapter-failed", func(h *harness) map[string]string {
			h.writeFile("crash.sh", "#!/bin/sh\necho 'fatal: cannot reach provider' >&2\nexit 3\n")
			return map[string]string{"adapter": "crash.sh"}
		}},
		{"fail-on", "fail-on", func(h *harness) map[string]string { return map[string]string{"fail-on": "create"} }},
		{"bad input", "invalid-input", func(h *harness) map[string]string { return map[string]string{"fail-on": "explode"} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			_ = os.Chmod(h.workspace, 0o755)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.pullRequest(pr)
			in := tc.setup(h)
			if tc.name == "crashing adapter" {
				_ = os.Chmod(h.workspace+"/crash.sh", 0o755)
			}
			res := h.run(in)
			if res.code == 0 || res.outputs["failure-reason"] != tc.reason {
				t.Fatalf("exit %d, outputs %v\n%s", res.code, res.outputs, res.log)
			}
		})
	}
}

// TestUnknownEnvironmentUsesBaseConfig: as promptarena does, an environment
// missing from deploy.environments plans with the base config, and it is
// impossible to miss: the comment's and the summary's title say so, the
// line under the title says what it means, and it is the log's warning
// (the CLI's first line on stderr: TestCLITable).
func TestUnknownEnvironmentUsesBaseConfig(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	res := h.planPR(pr, map[string]string{"environment": "prod"})
	if res.outputs["to-create"] == "0" || res.outputs["failure-reason"] != "" {
		t.Fatalf("outputs %v", res.outputs)
	}
	notice := `Environment "prod" is not listed under deploy.environments`
	c := h.gh.Comments(pr.Number)
	if len(c) != 1 {
		t.Fatalf("%d comments", len(c))
	}
	for where, text := range map[string]string{"comment": c[0].Body, "summary": res.summary} {
		lines := strings.Split(strings.TrimSpace(text), "\n")
		for len(lines) > 0 && (lines[0] == "" || strings.HasPrefix(lines[0], "<!--")) {
			lines = lines[1:] // the hidden markers
		}
		if len(lines) < 4 || lines[0] != "### ⚠️ Arena plan for **prod** (not in arena.yaml): +4 to create" ||
			lines[2] != "> [!WARNING]" || !strings.HasPrefix(lines[3], "> **prod is not an environment of arena.yaml** (its deploy.environments: **production**, **staging**): this deploys with the base `deploy.config`") {
			t.Errorf("the %s does not say it first:\n%s", where, text)
		}
		if strings.Count(text, "is not an environment of") != 1 || strings.Contains(text, notice) {
			t.Errorf("the %s says it more than once:\n%s", where, text)
		}
	}
	if !strings.Contains(res.log, "::warning::"+notice) {
		t.Errorf("log lacks the warning:\n%s", res.log)
	}
	if !strings.Contains(res.log, ".deployed/default") && !strings.Contains(res.summary, ".deployed/default") {
		t.Errorf("base config target_dir not used:\n%s", res.summary)
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	h := newHarness(t)
	const secret = "sk-live-0123456789abcdef"
	h.writeFile("arena.yaml", `deploy:
  provider: local
  config:
    target_dir: out
  environments:
    production:
      config:
        api_token: `+secret+`
`)
	h.writeFile("chatty.sh", "#!/bin/sh\necho \"debug: config has "+secret+"\" >&2\nexec promptarena-deploy-local\n")
	_ = os.Chmod(h.workspace+"/chatty.sh", 0o755)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	res := h.run(map[string]string{"environment": "production", "adapter": "chatty.sh"})
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.log)
	}
	id, _ := strconv.ParseInt(res.outputs["artifact-id"], 10, 64)
	files := h.artifactFiles(id)
	places := map[string]string{"summary": res.summary, "outputs": fmt.Sprint(res.outputs), "comment": h.gh.Comments(pr.Number)[0].Body}
	for name, b := range files {
		places["artifact "+name] = string(b)
	}
	// The log may carry the ::add-mask:: command for the secret (the runner
	// masks from then on), but nothing else with it.
	places["log"] = strings.ReplaceAll(res.log, "::add-mask::"+secret, "")
	for name, text := range places {
		if strings.Contains(text, secret) {
			t.Errorf("secret leaked into %s", name)
		}
	}
	if !strings.Contains(res.log, "::add-mask::"+secret) {
		t.Error("secret not masked for the runner")
	}
	if !strings.Contains(res.log, "debug: config has ***") {
		t.Errorf("adapter stderr not shown masked:\n%s", res.log)
	}
	if !strings.Contains(string(files["deploy.plan"]), "redacted:sha256:") {
		t.Error("saved plan lacks the redaction fingerprint")
	}

	// The merge: verified against the redacted config, applied with the real
	// one, and still nothing leaks.
	h.merge(pr, "merge111", "Merge pull request #1")
	apply := h.run(map[string]string{"environment": "production", "adapter": "chatty.sh"})
	if apply.code != 0 {
		t.Fatalf("apply: exit %d %v\n%s", apply.code, apply.outputs, apply.log)
	}
	state, _ := h.stateOf(".", "production")
	after := map[string]string{"apply summary": apply.summary, "apply outputs": fmt.Sprint(apply.outputs),
		"apply comment": h.gh.Comments(pr.Number)[0].Body, "state": string(state),
		"apply log": strings.ReplaceAll(apply.log, "::add-mask::"+secret, "")}
	for name, text := range after {
		if strings.Contains(text, secret) {
			t.Errorf("secret leaked into %s", name)
		}
	}
}

func TestCommentAPIErrors(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	// A passing 502 is retried; the create's answer lost to a reset is found
	// again on the next try rather than repeated.
	h.gh.Inject("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", ghemu.Fault{Status: 502})
	if r := h.run(nil); r.code != 0 || strings.Contains(r.log, "::warning::") || len(h.gh.Comments(pr.Number)) != 1 {
		t.Fatalf("transient 502: %v\n%s", r.outputs, r.log)
	}
	// A lasting outage (every try of the policy, twice) is a warning: the
	// plan, summary and artifact stand.
	h.gh.Inject("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", ghemu.Fault{Status: 502, Times: 10})
	res := h.run(nil)
	if res.code != 0 || !strings.Contains(res.log, "::warning::Could not update the pull request comment") || res.outputs["artifact-id"] == "" {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	// The next run comments normally.
	if r := h.run(nil); r.code != 0 || len(h.gh.Comments(pr.Number)) != 1 {
		t.Fatal(r.log)
	}
}

// TestLostCreateIsNotRepeated: GitHub created the comment but the answer was
// lost; the retry finds it instead of posting a second one.
func TestLostCreateIsNotRepeated(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	h.gh.Inject("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", ghemu.Fault{DropAnswer: true})
	r := h.run(nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.log)
	}
	if n := len(h.gh.Comments(pr.Number)); n != 1 {
		t.Fatalf("%d comments after a lost answer, want 1", n)
	}
	if h.gh.CountRequests("POST /repos/") != 1 {
		t.Error("the create was repeated")
	}
}

func TestFailOnIsExplainedInTheComment(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	r := h.run(map[string]string{"fail-on": "create,delete"})
	if r.code != 1 || r.outputs["failure-reason"] != "fail-on" {
		t.Fatalf("exit %d %v", r.code, r.outputs)
	}
	body := h.gh.Comments(pr.Number)[0].Body
	for _, want := range []string{"+4 to create", "This plan fails the check (fail-on: create, delete)", "create prompt/greeting"} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
}
