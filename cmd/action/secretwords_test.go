package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestSecretWordsInIDsAreShown: a support bot's prompts, scenarios, tools
// and evals are named password-reset, api-key-rotation, session-timeout,
// auth-help and certificate-renewal, with words such as urgent and normal
// under them and tool parameters named session_id and password. Every one
// of those names shows in the comment, the summary and the log, while the
// deploy config's real credentials (under secret-looking keys), a token in
// a prompt's variables (by its shape) and a path-valued variable
// (SSL_CERT_FILE, shown) behave as they must.
func TestSecretWordsInIDsAreShown(t *testing.T) {
	ids := []string{"password-reset", "api-key-rotation", "session-timeout", "auth-help", "certificate-renewal"}
	const (
		credential = "Zq8-deploy-credential-7Hk2pW"      // under deploy.config.api_token
		shaped     = "sk-live-0123456789abcdefABCDEF012" // a token's shape, in a prompt's vars
	)
	h := newHarness(t)
	var cfgs, scenarios, evals strings.Builder
	prompts := map[string]any{}
	for i, id := range ids {
		priority := []string{"urgent", "normal"}[i%2]
		fmt.Fprintf(&cfgs, "    - id: %s\n      file: prompts/%s.yaml\n      vars: {priority: %s, session_timeout: 30m, api_key_hint: rotate monthly}\n", id, id, priority)
		h.writeFile("prompts/"+id+".yaml", fmt.Sprintf("apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: PromptConfig\nmetadata:\n  name: %s\nspec:\n  task_type: %s\n  version: v1.0.0\n  description: Handles %s requests (%s)\n  system_template: |\n    Help with the %s.\n", id, id, id, priority, id))
		fmt.Fprintf(&scenarios, "    - file: scenarios/%s.scenario.yaml\n", id)
		h.writeFile("scenarios/"+id+".scenario.yaml", fmt.Sprintf("apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Scenario\nmetadata:\n  name: %s\nspec:\n  task_type: %s\n  description: A %s %s conversation\n  turns:\n    - role: user\n      content: I need %s help, it is %s\n", id, id, priority, id, id, priority))
		fmt.Fprintf(&evals, "    - file: evals/%s.eval.yaml\n", id)
		h.writeFile("evals/"+id+".eval.yaml", fmt.Sprintf("apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Eval\nmetadata:\n  name: %s\nspec:\n  description: Replays a %s conversation\n  recording:\n    path: recordings/%s.json\n    type: session\n  tags: [%s]\n", id, id, id, priority))
		h.writeFile("evals/recordings/"+id+".json", "{}")
		prompts[id] = map[string]any{"id": id, "name": id, "version": "1.0.0", "system_template": "Help with the " + id + " (" + priority + ")."}
	}
	h.writeFile("tools/auth-help.yaml", "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Tool\nmetadata:\n  name: auth-help\nspec:\n  description: Resets a password for a session\n"+
		"  mode: mock\n  input_schema:\n    type: object\n    properties:\n      session_id: { type: string }\n      password: { type: string }\n    required: [session_id]\n  output_schema: { type: object }\n")
	h.writeFile("arena.yaml", "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Arena\nmetadata:\n  name: support-bot\nspec:\n  providers:\n    - file: providers/mock.yaml\n  defaults: {temperature: 0.2}\n  prompt_configs:\n"+cfgs.String()+
		"    - id: token-holder\n      file: prompts/password-reset.yaml\n      vars: {note: \""+shaped+"\"}\n"+
		"  scenarios:\n"+scenarios.String()+"  evals:\n"+evals.String()+"  tools:\n    - file: tools/auth-help.yaml\n"+
		"  deploy:\n    provider: local\n    config:\n      target_dir: .deployed/production\n      api_token: "+credential+"\n")
	pack, _ := json.MarshalIndent(map[string]any{"id": "support-bot", "name": "Support bot", "version": "1.0.0", "prompts": prompts}, "", "  ")
	h.writeFile("support-bot.pack.json", string(pack))
	h.env["SSL_CERT_FILE"] = h.workspace + "/certs/corporate-ca.pem"

	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	res := h.run(nil)
	if res.code != 0 {
		t.Fatalf("plan: exit %d %v\n%s", res.code, res.outputs, res.log)
	}
	comments := h.gh.Comments(pr.Number)
	if len(comments) != 1 {
		t.Fatalf("%d comments", len(comments))
	}
	var log []string // the log but the masks it asks for
	for _, l := range strings.Split(res.log, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			log = append(log, l)
		}
	}
	channels := map[string]string{"comment": comments[0].Body, "summary": res.summary, "log": strings.Join(log, "\n")}
	for name, text := range channels {
		for _, id := range ids {
			if name == "log" {
				break // the log says what was planned in counts
			}
			// Every id in the plan's table (escaped as Markdown escapes
			// it), nothing masked in its place.
			if !strings.Contains(text, id) && !strings.Contains(text, strings.ReplaceAll(id, "-", "\\-")) {
				t.Errorf("%s does not show %s", name, id)
			}
		}
		if name != "log" && strings.Contains(text, "***") {
			t.Errorf("%s masks something that is no secret:\n%s", name, text)
		}
		for _, secret := range []string{credential, shaped} {
			if strings.Contains(text, secret) {
				t.Errorf("%s leaks %s", name, secret)
			}
		}
	}
	if strings.Contains(res.log, "::add-mask::"+h.workspace) || strings.Contains(res.log, "::add-mask::urgent") || strings.Contains(res.log, "::add-mask::password-reset") {
		t.Errorf("a path or a name was masked as a secret:\n%s", res.log)
	}
	for _, secret := range []string{credential, shaped} {
		if !strings.Contains(res.log, "::add-mask::"+secret) {
			t.Errorf("%s was not masked", secret)
		}
	}
}
