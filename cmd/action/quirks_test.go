package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// Quirks of AltairaLabs' real adapters (compat_test.go's quirk constants),
// each driven through the action as a user's workflow would.

// quirkHarness is compatHarness with the adapter's quirks switched on.
func quirkHarness(t *testing.T, gen string, quirks ...string) (*harness, string) {
	h, logPath := compatHarness(t, gen)
	h.env["ARENA_COMPAT_QUIRKS"] = strings.Join(quirks, ",")
	return h, logPath
}

// TestValidConfigWithErrorsIsValid: valid decides. agentcore answers
// validate_config {"valid": true, "errors": ["warning: …"]}; the plan and
// the apply go ahead, and each error is shown as a warning in the log, the
// comment and the job summary.
func TestValidConfigWithErrorsIsValid(t *testing.T) {
	h, _ := quirkHarness(t, "head", quirkValidErrors)
	in := map[string]string{"environment": "production"}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	plan := h.planPR(pr, in)
	if plan.code != 0 || plan.outputs["to-create"] != "3" {
		t.Fatalf("plan: exit %d %v\n%s", plan.code, plan.outputs, plan.log)
	}
	const w = "warning: account_id 123456789012 looks like a placeholder account ID"
	body := h.gh.Comments(pr.Number)[0].Body
	for where, text := range map[string]string{"log": plan.log, "comment": body, "summary": plan.summary} {
		if !strings.Contains(text, "account\\_id 123456789012 looks like a placeholder account ID") && !strings.Contains(text, w) {
			t.Errorf("the %s does not show the advisory:\n%s", where, text)
		}
	}
	if !strings.Contains(plan.log, "::warning::The adapter warns about the config: "+w) {
		t.Errorf("no warning annotation:\n%s", plan.log)
	}
	if !strings.Contains(body, "[!WARNING]") || !strings.Contains(body, "episodic memory is in preview") {
		t.Errorf("comment warnings:\n%s", body)
	}
	h.merge(pr, "merge111", "Merge pull request #1")
	apply := h.run(in)
	if apply.code != 0 || apply.outputs["created"] != "3" {
		t.Fatalf("apply: exit %d %v\n%s", apply.code, apply.outputs, apply.log)
	}
}

// deployWith plans pull request #1 and applies it on merge with the quirky
// adapter: the target is deployed, its state on the state branch.
func deployWith(t *testing.T, gen string, quirks ...string) (*harness, string) {
	t.Helper()
	h, logPath := quirkHarness(t, gen, quirks...)
	in := map[string]string{"environment": "production"}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, in)
	h.merge(pr, "merge111", "Merge pull request #1")
	if r := h.run(in); r.code != 0 {
		t.Fatalf("apply: %v\n%s", r.outputs, r.log)
	}
	h.checkout()
	return h, logPath
}

// TestAdapterWithoutStatusOrDestroy: an adapter that answers -32601 for
// status and destroy (Vertex serves neither) still plans against the
// stored state, as promptarena does; status, refresh and destroy fail
// method-not-supported, naming the adapter and the command, and destroy
// keeps the state.
func TestAdapterWithoutStatusOrDestroy(t *testing.T) {
	h, _ := deployWith(t, "promptarena", quirkNoStatus, quirkNoDestroy)
	// A second pull request plans against the deployed state.
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	plan := h.planPR(pr, map[string]string{"environment": "production"})
	if plan.outputs["unchanged"] != "3" || strings.Contains(plan.log, "::warning::refresh of the prior state failed") ||
		!strings.Contains(plan.log, "the compat adapter (promptarena-deploy-compat 1.5.9) does not offer status, so the prior state was not refreshed") {
		t.Errorf("plan with a deployed state: %v\n%s", plan.outputs, plan.log)
	}
	for _, cmd := range []string{"status", "refresh", "destroy"} {
		in := map[string]string{"command": cmd, "environment": "production", "confirm-destroy": "production"}
		r := h.dispatch(in)
		method := map[string]string{"status": "status", "refresh": "status", "destroy": "destroy"}[cmd]
		want := "the compat adapter (promptarena-deploy-compat 1.5.9) does not offer " + cmd + ": it answered the " + method + " request with -32601 (method not found)"
		if r.code != 1 || r.outputs["failure-reason"] != "method-not-supported" || !strings.Contains(r.log, want) {
			t.Errorf("%s: exit %d %v\n%s", cmd, r.code, r.outputs, r.log)
		}
		if strings.Contains(r.log, "Check its config and credentials") || strings.Contains(r.log, "fix the cause and re-run destroy") {
			t.Errorf("%s: the hint is for a broken adapter:\n%s", cmd, r.log)
		}
		if r.outputs["destroyed"] == "true" {
			t.Errorf("%s: destroyed", cmd)
		}
	}
	if _, ok := h.stateOf(".", "production"); !ok {
		t.Error("the state was deleted by a destroy the adapter does not offer")
	}
}

// TestTerminalKeepsLinksApart: at a terminal, a cell's two links (joined
// by a line break on GitHub) are two links, not "[Console](…)[Logs](…)".
func TestTerminalKeepsLinksApart(t *testing.T) {
	st := &comment.Status{Kind: "status", Env: "production", Response: &deploy.StatusResponse{Status: "deployed", Resources: []deploy.ResourceStatus{{
		Type: "agent_runtime", Name: "support", Status: "healthy", Detail: "line one\nline two",
		Links: []deploy.Link{{Label: "Console", URL: "https://console.example.com/agent_runtime/support"}, {Label: "Logs", URL: "https://logs.example.com/support"}},
	}}}}
	out := terminalText(comment.RenderStatus(st, comment.SummaryBudget))
	if !strings.Contains(out, "[Console](https://console.example.com/agent_runtime/support) [Logs](https://logs.example.com/support)") ||
		!strings.Contains(out, "line one line two") {
		t.Errorf("terminal text:\n%s", out)
	}
}

// TestAdapterSummaryIsShown: the adapter's own plan summary is shown in
// the comment, the job summary and the CLI, escaped and masked like all
// adapter text. agentcore reports drift only there (no DRIFT change).
func TestAdapterSummaryIsShown(t *testing.T) {
	h, _ := deployWith(t, "head", quirkSummaryDrift)
	h.env["ARENA_COMPAT_GONE"] = "greeting"
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	plan := h.planPR(pr, map[string]string{"environment": "production"})
	const drift = `Drift detected: agent\_prompt "greeting" no longer exists and will be recreated`
	body := h.gh.Comments(pr.Number)[0].Body
	for where, text := range map[string]string{"comment": body, "summary": plan.summary} {
		if !strings.Contains(text, "> **The adapter's summary:** Plan: 1 to create, 0 to update, 0 to delete<br>"+drift) {
			t.Errorf("the %s lacks the adapter's summary:\n%s", where, text)
		}
	}
	if plan.outputs["to-create"] != "1" || plan.outputs["drift"] != "0" {
		t.Errorf("outputs %v", plan.outputs)
	}

	// The CLI shows it too (hostile_adapter_test.go checks that a summary
	// cannot leak a secret or steer the Markdown, in every channel).
	t.Chdir(h.workspace)
	environ := []string{"PATH=" + h.env["PATH"], "HOME=" + t.TempDir(), "ARENA_COMPAT_SDK=head", "ARENA_COMPAT_QUIRKS=" + quirkSummaryDrift}
	var out syncBuffer
	if code := realMain(context.Background(), []string{"plan", "--environment", "staging"}, environ, &out, &out); code != 0 {
		t.Fatalf("cli plan: exit %d\n%s", code, out.String())
	}
	// At a terminal: plain text, emphasis dropped (bold on a terminal).
	if !strings.Contains(out.String(), "> The adapter's summary: Plan: 3 to create, 0 to update, 0 to delete") {
		t.Errorf("the CLI does not show the adapter's summary:\n%s", out.String())
	}
}

// TestPlannedIsNotApplied: an apply whose adapter reports every resource
// "planned" (omnia with dry_run: true) deployed nothing, and says so with
// its counts, instead of "✅ Applied: ." with four zeros.
func TestPlannedIsNotApplied(t *testing.T) {
	h, _ := deployWith(t, "head", quirkPlanned)
	body := h.gh.Comments(1)[0].Body
	if strings.Contains(body, "**Applied**: .") || !strings.Contains(body, "3 planned") ||
		!strings.Contains(body, "nothing was created, updated or deleted") {
		t.Errorf("apply comment:\n%s", body)
	}
	if strings.Count(body, "| 📝 | **planned** |") != 3 {
		t.Errorf("planned rows:\n%s", body)
	}
}

// TestDestroyIsCounted: destroy says how many resources it deleted, in
// the summary and the deleted output, when the adapter reports them
// (promptarena's SDK sends destroy events); an adapter that reports none
// leaves deleted empty rather than claiming 0.
func TestDestroyIsCounted(t *testing.T) {
	for _, tc := range []struct{ gen, deleted, line string }{
		{"promptarena", "3", "🗑️ **Destroyed**: 3 deleted."},
		{"head", "", "🗑️ **Destroyed**: the adapter reported no per-resource results.\n\nWhat it said:\n\n- destroyed\n"},
	} {
		t.Run(tc.gen, func(t *testing.T) {
			h, _ := deployWith(t, tc.gen)
			r := h.dispatch(map[string]string{"command": "destroy", "environment": "production", "confirm-destroy": "production"})
			if r.code != 0 || r.outputs["destroyed"] != "true" || r.outputs["deleted"] != tc.deleted {
				t.Fatalf("destroy: %v\n%s", r.outputs, r.log)
			}
			if _, set := r.outputs["deleted"]; set != (tc.deleted != "") {
				t.Errorf("deleted set: %v", r.outputs)
			}
			if !strings.Contains(r.summary, tc.line) {
				t.Errorf("summary:\n%s", r.summary)
			}
			if tc.deleted != "" && strings.Count(r.summary, "| 🔴 | **deleted** | agent\\_prompt |") != 3 {
				t.Errorf("summary rows:\n%s", r.summary)
			}
		})
	}
}

// TestMetadataProbeIsBounded: provider SDKs look for credentials at the
// cloud's metadata endpoint (AWS's IMDS, Azure's managed identity, GCE's
// metadata server) when none are configured; where that endpoint takes the
// connection and never answers, the adapter waits. The action's adapter
// timeout ends it (the adapter and every process it started are killed),
// so no run and no test hangs on it; and the SDKs' own switch, set in the
// step's env (AWS_EC2_METADATA_DISABLED), reaches the adapter.
func TestMetadataProbeIsBounded(t *testing.T) {
	// A metadata endpoint on loopback that accepts and never answers (the
	// test never sends anything to 169.254.169.254).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})

	h, _ := quirkHarness(t, "promptarena", quirkMetadataProbe)
	h.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://" + ln.Addr().String()
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	start := time.Now()
	res := h.run(map[string]string{"adapter-timeout": "plan=1s"})
	if res.code != 1 || res.outputs["failure-reason"] != "adapter-failed" || !strings.Contains(res.log, "timed out after 1s") {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the run took %v", d)
	}
	// The SDK's switch, in the step's env, reaches the adapter: no probe.
	h.env["AWS_EC2_METADATA_DISABLED"] = "true"
	if res := h.run(map[string]string{"adapter-timeout": "plan=1s"}); res.code != 0 {
		t.Fatalf("with AWS_EC2_METADATA_DISABLED: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
}
