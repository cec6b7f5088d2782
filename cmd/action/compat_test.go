package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// The compatibility suite: adapters answering as adapters built on each
// generation of the deploy protocol's adapter SDK do, driven through plan,
// apply, status, refresh, destroy and the pull request comment; and the
// files the promptarena CLI reads (state, saved plan) checked against its
// exact formatting.
//
// Generations of the SDK (docs/compatibility.md):
//   - v1.3.5: PromptKit's runtime/deploy and adaptersdk at v1.3.5: apply
//     returns adapter_state and no events; no warnings, no links, no login.
//   - head (PromptKit after v1.5.11, its last runtime before the move):
//     events with per-resource links, plan and validate warnings,
//     deployment-wide status links, login methods answered -32601 by
//     adapters that do not implement login.
//   - promptarena (github.com/AltairaLabs/promptarena/deploy/adaptersdk at
//     e90d58d, the protocol's home since promptarena v1.5.9): head's, plus
//     resource events on destroy as well as apply ({status, events}),
//     ReconcilePriorState drift (a resource of the prior state gone at the
//     provider is a DRIFT change with the SDK's detail), -32601 for import
//     and for login when the provider is no LoginProvider.
//   - docs: apply's state under "state", as PromptKit's docs once said.
type sdkGeneration struct {
	name, version           string
	events, warnings, links bool
	stateKey                string
	// destroyEvents: destroy answers {status, events} with a resource
	// event per deleted resource (promptarena's serve.go destroyResult).
	destroyEvents bool
	// reconcile: plan probes the prior state's resources and reports the
	// ones gone at the provider as DRIFT (adaptersdk.ReconcilePriorState).
	reconcile bool
}

var generations = []sdkGeneration{
	{name: "v1.3.5", version: "1.3.5", stateKey: "adapter_state"},
	{name: "head", version: "1.5.11", events: true, warnings: true, links: true, stateKey: "adapter_state"},
	{name: "promptarena", version: "1.5.9", events: true, warnings: true, links: true, stateKey: "adapter_state", destroyEvents: true, reconcile: true},
	{name: "docs", version: "0.9.0", stateKey: "state"},
}

func generation(name string) sdkGeneration {
	for _, g := range generations {
		if g.name == name {
			return g
		}
	}
	panic("unknown SDK generation " + name)
}

// Quirks of AltairaLabs' real adapters, switched on in the compat adapter
// by $ARENA_COMPAT_QUIRKS (comma-separated); docs/compatibility.md says
// which adapter does what.
const (
	// quirkValidErrors: validate_config answers valid with advisories in
	// errors (agentcore: "warning: …placeholder account ID…").
	quirkValidErrors = "valid-errors"
	// quirkSummaryDrift: drift reported only in the plan's summary, with
	// no DRIFT change (agentcore's verifiedPriorState).
	quirkSummaryDrift = "summary-drift"
	// quirkPlanned: apply reports every resource "planned" (omnia with
	// dry_run: true deploys nothing).
	quirkPlanned = "planned"
	// quirkNoStatus, quirkNoDestroy: -32601 for status or destroy (Vertex
	// serves neither, per promptarena's target-capabilities reference).
	quirkNoStatus  = "no-status"
	quirkNoDestroy = "no-destroy"
	// quirkMetadataProbe: before answering plan, apply, status or destroy
	// the adapter asks the cloud's metadata endpoint for credentials, as
	// provider SDKs do (AWS's IMDS, Azure's managed identity, GCE's
	// metadata server), at $AWS_EC2_METADATA_SERVICE_ENDPOINT unless
	// $AWS_EC2_METADATA_DISABLED is true. It waits as long as the endpoint
	// does: only the action's adapter timeout ends a silent one.
	quirkMetadataProbe = "metadata-probe"
)

// compatAdapter serves the deploy protocol as an adapter on the SDK of
// generation gen: one JSON object per line, responses written with a
// json.Encoder, -32700 for lines and params it cannot decode, -32601 for
// methods it does not serve, -32603 for provider errors. It deploys the
// pack's prompts into its state (a JSON map of prompt name to digest) and
// logs every request it gets to $ARENA_COMPAT_LOG. Prompts named in
// $ARENA_COMPAT_GONE were deleted at the provider behind its back.
func compatAdapter(gen string) {
	a := compat{sdkGeneration: generation(gen), quirks: map[string]bool{}, gone: map[string]bool{}}
	for _, q := range strings.Split(os.Getenv("ARENA_COMPAT_QUIRKS"), ",") {
		a.quirks[strings.TrimSpace(q)] = true
	}
	for _, n := range strings.Split(os.Getenv("ARENA_COMPAT_GONE"), ",") {
		a.gone[strings.TrimSpace(n)] = true
	}
	enc := json.NewEncoder(os.Stdout)
	logf, _ := os.OpenFile(os.Getenv("ARENA_COMPAT_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 10<<20)
	type rpcErr struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	type response struct {
		JSONRPC string          `json:"jsonrpc"`
		Result  any             `json:"result,omitempty"`
		Error   *rpcErr         `json:"error,omitempty"`
		ID      json.RawMessage `json:"id"`
	}
	for sc.Scan() {
		var req struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params,omitempty"`
			ID     json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			_ = enc.Encode(response{JSONRPC: "2.0", Error: &rpcErr{-32700, "parse error: " + err.Error()}})
			continue
		}
		if logf != nil {
			line, _ := json.Marshal(map[string]any{"method": req.Method, "params": req.Params})
			_, _ = logf.Write(append(line, '\n'))
		}
		var p struct {
			PackJSON     string `json:"pack_json"`
			DeployConfig string `json:"deploy_config"`
			Environment  string `json:"environment"`
			PriorState   string `json:"prior_state"`
		}
		if len(req.Params) > 0 {
			if err := json.Unmarshal(req.Params, &p); err != nil {
				_ = enc.Encode(response{JSONRPC: "2.0", Error: &rpcErr{-32700, "invalid params: " + err.Error()}, ID: req.ID})
				continue
			}
		}
		result, code, msg := a.handle(req.Method, p.PackJSON, p.PriorState)
		if code != 0 {
			_ = enc.Encode(response{JSONRPC: "2.0", Error: &rpcErr{code, msg}, ID: req.ID})
			continue
		}
		_ = enc.Encode(response{JSONRPC: "2.0", Result: result, ID: req.ID})
	}
}

// compat is one compat adapter process: its generation and quirks.
type compat struct {
	sdkGeneration
	quirks map[string]bool
	gone   map[string]bool
}

// probeMetadata asks the metadata endpoint, as a provider SDK looking for
// credentials does; an endpoint that never answers holds the call.
func probeMetadata() {
	if os.Getenv("AWS_EC2_METADATA_DISABLED") == "true" {
		return
	}
	endpoint := os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")
	if endpoint == "" {
		return // never the real 169.254.169.254 from a test
	}
	if resp, err := http.Get(endpoint + "/latest/api/token"); err == nil {
		resp.Body.Close()
	}
}

func (g compat) handle(method, packJSON, prior string) (any, int, string) {
	link := func(label, url string) []map[string]string {
		if !g.links {
			return nil
		}
		return []map[string]string{{"label": label, "url": url, "rel": strings.ToLower(label)}}
	}
	old := map[string]string{}
	_ = json.Unmarshal([]byte(prior), &old)
	// ReconcilePriorState: what is gone at the provider is dropped from the
	// prior state and reported as drift; agentcore's summary-only drift
	// drops it too but says so only in the summary.
	var drift []string
	if g.reconcile || g.quirks[quirkSummaryDrift] {
		for _, name := range sortedNames(old, nil) {
			if g.gone[name] {
				delete(old, name)
				drift = append(drift, name)
			}
		}
	}
	want := map[string]string{}
	var pack struct {
		Prompts map[string]json.RawMessage `json:"prompts"`
	}
	_ = json.Unmarshal([]byte(packJSON), &pack)
	for name, body := range pack.Prompts {
		sum := sha256.Sum256(body)
		want[name] = hex.EncodeToString(sum[:6])
	}
	type change struct {
		Type   string `json:"type"`
		Name   string `json:"name"`
		Action string `json:"action"`
		Detail string `json:"detail,omitempty"`
	}
	changes := []change{}
	for _, name := range drift {
		if g.reconcile {
			changes = append(changes, change{"agent_prompt", name, "DRIFT", name + " no longer exists at the provider; it was removed outside promptarena"})
		}
	}
	for _, name := range sortedNames(want, old) {
		switch w, o := want[name], old[name]; {
		case o == "":
			changes = append(changes, change{"agent_prompt", name, "CREATE", "create " + name})
		case w == "":
			changes = append(changes, change{"agent_prompt", name, "DELETE", "delete " + name})
		case w != o:
			changes = append(changes, change{"agent_prompt", name, "UPDATE", o + " → " + w})
		default:
			changes = append(changes, change{"agent_prompt", name, "NO_CHANGE", ""})
		}
	}
	if g.quirks[quirkMetadataProbe] && method != "get_provider_info" && method != "validate_config" {
		probeMetadata()
	}
	switch method {
	case "get_provider_info":
		return map[string]any{"name": "compat", "version": g.version, "capabilities": []string{"plan", "apply", "destroy", "status"}}, 0, ""
	case "validate_config":
		v := map[string]any{"valid": true}
		if g.warnings {
			v["warnings"] = []string{"region is not set: using the default region"}
		}
		if g.quirks[quirkValidErrors] {
			v["errors"] = []string{"warning: account_id 123456789012 looks like a placeholder account ID", "warning: episodic memory is in preview"}
		}
		return v, 0, ""
	case "plan":
		summary := fmt.Sprintf("%d changes", len(changes))
		if g.quirks[quirkSummaryDrift] {
			n := map[string]int{}
			for _, ch := range changes {
				n[ch.Action]++
			}
			summary = fmt.Sprintf("Plan: %d to create, %d to update, %d to delete", n["CREATE"], n["UPDATE"], n["DELETE"])
			for _, name := range drift {
				summary += fmt.Sprintf("\nDrift detected: agent_prompt %q no longer exists and will be recreated", name)
			}
		}
		r := map[string]any{"changes": changes, "summary": summary}
		if g.warnings {
			r["warnings"] = []string{"prompt escalation has no fallback model"}
		}
		return r, 0, ""
	case "apply":
		state, _ := json.Marshal(want)
		r := map[string]any{g.stateKey: string(state)}
		if g.events {
			events := []map[string]any{{"type": "progress", "message": "deploying to the compat cloud"}}
			for _, c := range changes {
				status := map[string]string{"CREATE": "created", "UPDATE": "updated", "DELETE": "deleted", "DRIFT": "created"}[c.Action]
				if status == "" {
					continue
				}
				if g.quirks[quirkPlanned] {
					status = "planned"
					events = append(events, map[string]any{"type": "progress", "message": "Planned " + c.Type + ": " + c.Name})
				}
				events = append(events, map[string]any{"type": "resource", "resource": map[string]any{
					"type": c.Type, "name": c.Name, "action": c.Action, "status": status, "detail": c.Detail,
					"links": link("Console", "https://console.compat.example/prompts/"+c.Name),
				}})
			}
			r["events"] = append(events, map[string]any{"type": "complete", "message": "done"})
		}
		return r, 0, ""
	case "status":
		if g.quirks[quirkNoStatus] {
			break
		}
		if len(old) == 0 && len(drift) == 0 {
			return map[string]any{"status": "not_deployed"}, 0, ""
		}
		var res []map[string]any
		for _, name := range sortedNames(old, nil) {
			res = append(res, map[string]any{"type": "agent_prompt", "name": name, "status": "healthy"})
		}
		for _, name := range drift {
			res = append(res, map[string]any{"type": "agent_prompt", "name": name, "status": "missing", "detail": "deleted outside promptarena"})
		}
		r := map[string]any{"status": "deployed", "resources": res, "state": prior}
		if len(drift) > 0 {
			r["status"] = "degraded"
		}
		if l := link("Dashboard", "https://console.compat.example/dashboard"); l != nil {
			r["links"] = l
		}
		return r, 0, ""
	case "destroy":
		if g.quirks[quirkNoDestroy] {
			break
		}
		r := map[string]any{"status": "destroyed"}
		if g.events {
			var events []map[string]any
			if g.destroyEvents {
				for _, name := range sortedNames(old, nil) {
					events = append(events, map[string]any{"type": "resource", "resource": map[string]any{
						"type": "agent_prompt", "name": name, "action": "DELETE", "status": "deleted", "detail": "deleted " + name,
					}})
				}
			}
			r["events"] = append(events, map[string]any{"type": "complete", "message": "destroyed"})
		}
		return r, 0, ""
	}
	// get_login_url, complete_login (no login here), import, anything else.
	return nil, -32601, "method not found: " + method
}

func sortedNames(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// compatHarness is a harness whose arena deploys with the compat adapter
// of generation gen (the test binary, on PATH as promptarena-deploy-compat).
func compatHarness(t *testing.T, gen string) (*harness, string) {
	h := newHarness(t)
	bin := t.TempDir()
	if err := os.Symlink(os.Args[0], filepath.Join(bin, "promptarena-deploy-compat")); err != nil {
		t.Fatal(err)
	}
	h.env["PATH"] = bin + string(os.PathListSeparator) + h.env["PATH"]
	h.env["ARENA_COMPAT_SDK"] = gen
	logPath := filepath.Join(t.TempDir(), "requests.jsonl")
	h.env["ARENA_COMPAT_LOG"] = logPath
	arena := strings.Replace(mustRead(t, filepath.Join(h.workspace, "arena.yaml")), "provider: local", "provider: compat", 1)
	arena = strings.Replace(arena, "      target_dir: .deployed/default", "      target_dir: .deployed/default\n      api_token: compat-secret-token-123", 1)
	arena = strings.Replace(arena, "  tools:", "  scenarios:\n    - file: scenarios/refund.yaml\n  tools:", 1)
	h.writeFile("arena.yaml", arena)
	h.writeFile("scenarios/refund.yaml", "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Scenario\nmetadata:\n  name: refund\n"+
		"spec:\n  task_type: support\n  description: refunds need a human\n  turns:\n    - role: user\n      content: I want my money back\n  tool_policy:\n    tool_choice: auto\n    max_tool_calls_per_turn: 1\n    max_total_tool_calls: 2\n    blocklist: [issue_refund]\n")
	return h, logPath
}

// requests reads what the adapter was sent, by method.
func requests(t *testing.T, logPath, method string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(mustRead(t, logPath)), "\n") {
		var r struct {
			Method string         `json:"method"`
			Params map[string]any `json:"params"`
		}
		if json.Unmarshal([]byte(line), &r) == nil && r.Method == method {
			out = append(out, r.Params)
		}
	}
	return out
}

func TestCompatibilitySuite(t *testing.T) {
	for _, g := range generations {
		t.Run(g.name, func(t *testing.T) {
			h, logPath := compatHarness(t, g.name)
			in := map[string]string{"environment": "production"}
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})

			// Plan on the pull request.
			plan := h.planPR(pr, in)
			if plan.outputs["to-create"] != "3" || plan.outputs["adapter-version"] != "" && plan.outputs["adapter-version"] != g.version {
				t.Fatalf("plan outputs %v", plan.outputs)
			}
			c := h.gh.Comments(pr.Number)
			if len(c) != 1 || !strings.Contains(c[0].Body, "promptarena-deploy-compat") || !strings.Contains(c[0].Body, "+3 to create") {
				t.Fatalf("plan comment: %+v", c)
			}
			if g.warnings != strings.Contains(c[0].Body, "prompt escalation has no fallback model") {
				t.Errorf("plan warnings shown %v, want %v:\n%s", !g.warnings, g.warnings, c[0].Body)
			}
			if g.warnings != (strings.Contains(plan.log, "The plan warns: prompt escalation has no fallback model") &&
				strings.Contains(plan.log, "The adapter warns about the config: region is not set")) {
				t.Errorf("plan and config warnings in the log (want %v):\n%s", g.warnings, plan.log)
			}
			// The artifact's deploy.plan is what PromptKit's LoadPlan reads
			// (secrets fingerprinted: it is not for promptarena deploy apply).
			var saved pkSavedPlan
			checkPromptKitFile(t, h.artifactFiles(atoi64(t, plan.outputs["artifact-id"]))["deploy.plan"], &saved)
			if strings.Contains(saved.Request.DeployConfig, "compat-secret-token-123") || !strings.Contains(saved.Request.DeployConfig, "redacted:sha256:") {
				t.Errorf("artifact plan deploy_config: %s", saved.Request.DeployConfig)
			}
			// arena_config is PromptKit's shape: the SDK helpers find the
			// tool (base64 bytes) and the scenario's blocklist.
			checkArenaConfig(t, requests(t, logPath, "plan")[0]["arena_config"].(string))

			// Merge and apply.
			h.merge(pr, "merge111", "Merge pull request #1")
			apply := h.run(in)
			if apply.code != 0 {
				t.Fatalf("apply: %v\n%s", apply.outputs, apply.log)
			}
			if apply.outputs["applied"] != "true" || apply.outputs["created"] != "3" || apply.outputs["updated"] != "0" {
				t.Errorf("apply outputs %v", apply.outputs)
			}
			body := h.gh.Comments(pr.Number)[0].Body
			if strings.Contains(body, "nothing needed changing") {
				t.Errorf("apply comment says nothing changed:\n%s", body)
			}
			if fromPlan := strings.Contains(body, "reported by plan; this adapter does not report per-resource results"); fromPlan == g.events {
				t.Errorf("apply comment marks results from the plan: %v, adapter sends events: %v\n%s", fromPlan, g.events, body)
			}
			if g.links != strings.Contains(body, "[Console](https://console.compat.example/prompts/greeting)") ||
				g.links != strings.Contains(body, "**Links** [Dashboard](https://console.compat.example/dashboard)") {
				t.Errorf("apply comment links (want %v):\n%s", g.links, body)
			}
			if g.warnings != (strings.Contains(body, "prompt escalation has no fallback model") && strings.Contains(apply.log, "The reviewed plan warned: prompt escalation has no fallback model")) {
				t.Errorf("plan warnings in the apply comment and log (want %v):\n%s\n%s", g.warnings, body, apply.log)
			}
			// The adapter got the real deploy config; nothing posted has it.
			applied := requests(t, logPath, "apply")
			if len(applied) != 1 || !strings.Contains(applied[0]["deploy_config"].(string), "compat-secret-token-123") {
				t.Errorf("apply request: %v", applied)
			}
			if strings.Contains(body+apply.summary, "compat-secret-token-123") {
				t.Error("the secret leaked into a report")
			}
			// The committed state is PromptKit's file, byte for byte.
			raw, ok := h.stateOf(".", "production")
			if !ok {
				t.Fatal("no state")
			}
			checkPromptKitFile(t, raw, &pkState{})
			var st pkState
			_ = json.Unmarshal(raw, &st)
			// pack_version as promptarena writes it (flow.Session.Apply at
			// e90d58d: deploy.NewState(provider, env, "", ...)).
			if st.State == "" || st.AdapterVersion != g.version || st.Provider != "compat" || st.PackVersion != "" {
				t.Errorf("state %+v", st)
			}

			// Status shows the deployment-wide links.
			h.checkout()
			status := h.dispatch(map[string]string{"command": "status", "environment": "production"})
			if status.code != 0 || status.outputs["status"] != "deployed" {
				t.Fatalf("status: %v\n%s", status.outputs, status.log)
			}
			if g.links != strings.Contains(status.summary, "**Links** [Dashboard](https://console.compat.example/dashboard)") {
				t.Errorf("status links (want %v):\n%s", g.links, status.summary)
			}

			// Refresh: nothing drifted, nothing written.
			refresh := h.dispatch(map[string]string{"command": "refresh", "environment": "production"})
			if refresh.code != 0 || refresh.outputs["status"] != "deployed" || refresh.outputs["drift"] != "0" {
				t.Fatalf("refresh: %v\n%s", refresh.outputs, refresh.log)
			}

			// Someone deletes a prompt at the provider. An adapter on
			// promptarena's SDK reconciles its prior state when it plans
			// (ReconcilePriorState): the plan shows the DRIFT, with the SDK's
			// detail; status and refresh say the resource is missing.
			deleted := "3"
			if g.reconcile {
				h.env["ARENA_COMPAT_GONE"] = "greeting"
				pr2 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
				plan2 := h.planPR(pr2, in)
				body := h.gh.Comments(pr2.Number)[0].Body
				if plan2.outputs["drift"] != "1" || plan2.outputs["to-create"] != "1" ||
					!strings.Contains(body, "| 🟠 | **drift** | agent\\_prompt | greeting | greeting no longer exists at the provider; it was removed outside promptarena |") {
					t.Errorf("plan after a deletion at the provider: %v\n%s", plan2.outputs, body)
				}
				refresh := h.dispatch(map[string]string{"command": "refresh", "environment": "production"})
				if refresh.code != 0 || refresh.outputs["status"] != "degraded" || refresh.outputs["drift"] != "1" {
					t.Errorf("refresh after a deletion at the provider: %v\n%s", refresh.outputs, refresh.log)
				}
				h.checkout()
				deleted = "2" // the gone one is not there to delete
			}

			// Destroy: counted when the adapter reports its resources
			// (promptarena's SDK sends destroy events), else not claimed.
			destroy := h.dispatch(map[string]string{"command": "destroy", "environment": "production", "confirm-destroy": "production"})
			if destroy.code != 0 || destroy.outputs["destroyed"] != "true" {
				t.Fatalf("destroy: %v\n%s", destroy.outputs, destroy.log)
			}
			if !g.destroyEvents {
				deleted = ""
			}
			if destroy.outputs["deleted"] != deleted {
				t.Errorf("destroy deleted %q, want %q\n%s", destroy.outputs["deleted"], deleted, destroy.summary)
			}
			if _, ok := h.stateOf(".", "production"); ok {
				t.Error("state not deleted after destroy")
			}
			// No login in CI: the adapter is never asked for one.
			if len(requests(t, logPath, "get_login_url"))+len(requests(t, logPath, "complete_login")) != 0 {
				t.Error("the action asked the adapter to log in")
			}
		})
	}
}

// checkArenaConfig decodes arena_config as PromptKit's SDK helpers do
// (adaptersdk/arena.go: loaded_tools[].data as []byte, tool manifests as
// YAML, loaded_scenarios[].tool_policy.blocklist).
func checkArenaConfig(t *testing.T, arenaConfig string) {
	t.Helper()
	var cfg struct {
		LoadedTools []struct {
			FilePath string `json:"file_path,omitempty"`
			Data     []byte `json:"data,omitempty"`
		} `json:"loaded_tools,omitempty"`
		LoadedScenarios map[string]*struct {
			ToolPolicy *struct {
				Blocklist []string `json:"blocklist,omitempty"`
			} `json:"tool_policy,omitempty"`
		} `json:"loaded_scenarios,omitempty"`
	}
	if err := json.Unmarshal([]byte(arenaConfig), &cfg); err != nil {
		t.Fatalf("PromptKit's SDK cannot decode arena_config: %v", err)
	}
	if len(cfg.LoadedTools) != 1 {
		t.Fatalf("loaded_tools: %+v", cfg.LoadedTools)
	}
	var m struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	if err := yaml.Unmarshal(cfg.LoadedTools[0].Data, &m); err != nil || m.Metadata.Name != "lookup_order" {
		t.Errorf("tool manifest: %q %v", cfg.LoadedTools[0].Data, err)
	}
	if sc := cfg.LoadedScenarios["refund"]; sc == nil || sc.ToolPolicy == nil || strings.Join(sc.ToolPolicy.Blocklist, ",") != "issue_refund" {
		t.Errorf("tool policy: %s", arenaConfig)
	}
	if strings.Contains(arenaConfig, "compat-secret-token-123") {
		t.Error("arena_config holds the secret")
	}
}

// pkState and pkSavedPlan are shaped exactly like PromptKit's State and
// SavedPlan (runtime/deploy/state.go), field for field in PromptKit's order.
type pkState struct {
	Version        int    `json:"version"`
	Provider       string `json:"provider"`
	Environment    string `json:"environment"`
	LastDeployed   string `json:"last_deployed"`
	PackVersion    string `json:"pack_version"`
	PackChecksum   string `json:"pack_checksum"`
	AdapterVersion string `json:"adapter_version"`
	LastRefreshed  string `json:"last_refreshed,omitempty"`
	State          string `json:"state,omitempty"`
}

type pkSavedPlan struct {
	Version      int    `json:"version"`
	CreatedAt    string `json:"created_at"`
	Provider     string `json:"provider"`
	Environment  string `json:"environment"`
	PackChecksum string `json:"pack_checksum"`
	Plan         *struct {
		Changes []struct {
			Type   string `json:"type"`
			Name   string `json:"name"`
			Action string `json:"action"`
			Detail string `json:"detail,omitempty"`
		} `json:"changes"`
		Summary  string   `json:"summary"`
		Warnings []string `json:"warnings,omitempty"`
	} `json:"plan"`
	Request *struct {
		PackJSON     string `json:"pack_json"`
		DeployConfig string `json:"deploy_config"`
		ArenaConfig  string `json:"arena_config,omitempty"`
		Environment  string `json:"environment,omitempty"`
		PriorState   string `json:"prior_state,omitempty"`
	} `json:"request"`
}

// checkPromptKitFile: raw decodes into PromptKit's type with no field left
// over, and PromptKit's Save/SavePlan (json.MarshalIndent, two spaces, no
// final newline) of what it read gives the same bytes.
func checkPromptKitFile(t *testing.T, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("PromptKit cannot read the file: %v\n%s", err, raw)
	}
	again, _ := json.MarshalIndent(v, "", "  ")
	if !bytes.Equal(again, raw) {
		t.Errorf("not PromptKit's bytes:\n got %q\nwant %q", raw, again)
	}
}

// TestCLISavedPlanIsPromptKits: outside GitHub Actions the plan goes to
// .promptarena/deploy.plan, where `promptarena deploy apply` picks it up.
// So it is PromptKit's file byte for byte and holds the real deploy config
// (PromptKit's own saved plans do; applying fingerprints would hand them to
// the adapter as credentials); it is verified by its redacted form, applied
// and used up; our state file is PromptKit's too.
func TestCLISavedPlanIsPromptKits(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if err := os.CopyFS(app, os.DirFS(filepath.Join(deploytest.RepoRoot(), "testdata", "example"))); err != nil {
		t.Fatal(err)
	}
	arenaPath := filepath.Join(app, "arena.yaml")
	arena := strings.Replace(mustRead(t, arenaPath), "      target_dir: .deployed/default", "      target_dir: .deployed/default\n      api_token: cli-secret-token-456", 1)
	if err := os.WriteFile(arenaPath, []byte(arena), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(deploytest.LocalAdapter(t), filepath.Join(bin, "promptarena-deploy-local")); err != nil {
		t.Fatal(err)
	}
	environ := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	t.Chdir(dir)
	cli := func(args ...string) string {
		t.Helper()
		var out syncBuffer
		if code := realMain(context.Background(), args, environ, &out, &out); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out.String())
		}
		return out.String()
	}

	log := cli("plan", "--working-directory", "app")
	planPath := filepath.Join(app, ".promptarena", "deploy.plan")
	raw, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	var saved pkSavedPlan
	checkPromptKitFile(t, raw, &saved)
	if !strings.Contains(saved.Request.DeployConfig, `"api_token":"cli-secret-token-456"`) {
		t.Errorf("the CLI's plan holds %s, not the real config", saved.Request.DeployConfig)
	}
	if fi, _ := os.Stat(planPath); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode: %v", fi)
	}
	if strings.Contains(log, "cli-secret-token-456") {
		t.Error("the secret reached the output")
	}

	cli("apply", "--working-directory", "app")
	if _, err := os.Stat(planPath); !os.IsNotExist(err) {
		t.Error("the applied plan was not used up")
	}
	state, err := os.ReadFile(filepath.Join(app, ".promptarena", "deploy.state"))
	if err != nil {
		t.Fatal(err)
	}
	checkPromptKitFile(t, state, &pkState{})
	if strings.Contains(string(state), "cli-secret-token-456") {
		t.Error("the secret reached the state file")
	}
}

func atoi64(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// TestCLIAppliesPromptarenasOwnPlan: `promptarena deploy plan` saves
// .promptarena/deploy.plan with no provenance of ours. On the user's own
// machine that plan is theirs, so the CLI's apply takes it: verified by
// its pack, environment, config and adapter, and by planning again (it has
// no record of the state it was made against), then applied and used up.
// A stale one (the pack changed since) is refused as promptarena would
// re-plan it, and in GitHub Actions a plan without provenance is never
// applied (TestArtifactPlanNeedsProvenance).
func TestCLIAppliesPromptarenasOwnPlan(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	if err := os.CopyFS(app, os.DirFS(filepath.Join(deploytest.RepoRoot(), "testdata", "example"))); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(deploytest.LocalAdapter(t), filepath.Join(bin, "promptarena-deploy-local")); err != nil {
		t.Fatal(err)
	}
	environ := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	t.Chdir(dir)
	cli := func(want int, args ...string) string {
		t.Helper()
		var out syncBuffer
		if code := realMain(context.Background(), args, environ, &out, &out); code != want {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, want, out.String())
		}
		return out.String()
	}
	// promptarena's plan: its file format, and no provenance beside it.
	promptarenaPlan := func() {
		cli(0, "plan", "--working-directory", "app")
		if err := os.Remove(filepath.Join(app, ".promptarena", "deploy.plan.provenance.json")); err != nil {
			t.Fatal(err)
		}
	}
	promptarenaPlan()
	out := cli(0, "apply", "--working-directory", "app")
	if !strings.Contains(out, "promptarena's saved plan") || !strings.Contains(out, "created=4") {
		t.Errorf("apply of promptarena's plan:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(app, ".promptarena", "deploy.plan")); !os.IsNotExist(err) {
		t.Error("the applied plan was not used up")
	}
	if _, err := os.Stat(filepath.Join(app, ".deployed", "default", "prompts", "greeting.json")); err != nil {
		t.Errorf("not deployed: %v", err)
	}

	// Stale: the pack changed after promptarena planned.
	promptarenaPlan()
	packPath := filepath.Join(app, "support-bot.pack.json")
	pack := strings.Replace(mustRead(t, packPath), "Greet the customer and ask", "Greet the customer briefly and ask", 1)
	if err := os.WriteFile(packPath, []byte(pack), 0o644); err != nil {
		t.Fatal(err)
	}
	out = cli(1, "apply", "--working-directory", "app")
	if !strings.Contains(out, "failure-reason=pack-mismatch") {
		t.Errorf("stale plan:\n%s", out)
	}
}

// TestArtifactPlanNeedsProvenance: in GitHub Actions the plan is an
// artifact any workflow of the repository could have uploaded, so a plan
// without its provenance is never applied, whoever made it.
func TestArtifactPlanNeedsProvenance(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	name := target.New(".", "arena.yaml", "default").PlanArtifact("head1")
	h.reuploadArtifact(name, name+"-x", nil)
	h.reuploadArtifact(name+"-x", name, func(files map[string][]byte) { delete(files, "provenance.json") })
	h.merge(pr, "merge111", "Merge pull request #1")
	res := h.run(nil)
	if res.code != 1 || res.outputs["failure-reason"] != "plan-not-found" || !strings.Contains(res.log, "has no valid provenance.json") {
		t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	if h.anyState() {
		t.Error("applied")
	}
}
