package arenacfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// load builds arena_config for testdata/<fixture>/arena.yaml, fenced to
// testdata.
func load(t *testing.T, fixture string) (string, []string) {
	t.Helper()
	root, err := workspace.Open("testdata")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	project := filepath.Join(root.Dir(), fixture)
	cfg, err := Load(root, filepath.Join(project, "arena.yaml"), "arena.yaml", project)
	if err != nil {
		t.Fatal(err)
	}
	out, secrets, err := cfg.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return out, secrets
}

// TestGoldens: arena_config per fixture, as PromptKit's loader would send
// it. The goldens are the exact JSON, indented for review.
func TestGoldens(t *testing.T) {
	for _, fixture := range []string{"tools", "scenarios", "providers", "older"} {
		t.Run(fixture, func(t *testing.T) {
			got, _ := load(t, fixture)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, []byte(got), "", "  "); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			pretty.WriteByte('\n')
			golden := filepath.Join("testdata", fixture+".golden.json")
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if pretty.String() != string(want) {
				t.Errorf("arena_config differs from %s (run with -update and review):\n%s", golden, pretty.String())
			}
		})
	}
}

// The structs below are shaped exactly like those of PromptKit's SDK
// helpers (runtime/deploy/adaptersdk/arena.go), which real adapters call
// on arena_config; the functions do what ExtractToolInfo and
// ExtractToolPolicies do. If our arena_config decodes here, it decodes
// there.
type sdkToolSpec struct {
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description"`
	InputSchema any      `json:"input_schema"`
	Mode        string   `json:"mode"`
	HTTP        *sdkHTTP `json:"http,omitempty"`
}

type sdkHTTP struct {
	URL    string `json:"url"`
	Method string `json:"method"`
}

type sdkToolData struct {
	FilePath string `json:"file_path,omitempty"`
	Data     []byte `json:"data,omitempty"`
}

type sdkArenaConfig struct {
	LoadedTools []sdkToolData           `json:"loaded_tools,omitempty"`
	ToolSpecs   map[string]*sdkToolSpec `json:"tool_specs,omitempty"`
}

type sdkToolManifest struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Name        string   `yaml:"name"`
		Description string   `yaml:"description"`
		InputSchema any      `yaml:"input_schema"`
		Mode        string   `yaml:"mode"`
		HTTP        *sdkHTTP `yaml:"http,omitempty"`
	} `yaml:"spec"`
}

type sdkScenarios struct {
	LoadedScenarios map[string]*struct {
		ToolPolicy *struct {
			Blocklist []string `json:"blocklist,omitempty"`
		} `json:"tool_policy,omitempty"`
	} `json:"loaded_scenarios,omitempty"`
}

type sdkTool struct{ Name, Description, Mode, URL string }

// sdkTools does what ExtractToolInfo does: inline specs, then loaded tool
// manifests (skipping ones that do not parse), by name.
func sdkTools(t *testing.T, arenaConfig string) []sdkTool {
	t.Helper()
	var cfg sdkArenaConfig
	if err := json.Unmarshal([]byte(arenaConfig), &cfg); err != nil {
		t.Fatalf("the SDK's ExtractToolInfo would fail: %v", err)
	}
	seen := map[string]bool{}
	var out []sdkTool
	for name, s := range cfg.ToolSpecs {
		tool := sdkTool{Name: name, Description: s.Description, Mode: s.Mode}
		if s.HTTP != nil {
			tool.URL = s.HTTP.URL
		}
		out, seen[name] = append(out, tool), true
	}
	for _, td := range cfg.LoadedTools {
		var m sdkToolManifest
		if len(td.Data) == 0 || yaml.Unmarshal(td.Data, &m) != nil {
			continue
		}
		name := m.Spec.Name
		if name == "" {
			name = m.Metadata.Name
		}
		if name == "" || seen[name] {
			continue
		}
		tool := sdkTool{Name: name, Description: m.Spec.Description, Mode: m.Spec.Mode}
		if m.Spec.HTTP != nil {
			tool.URL = m.Spec.HTTP.URL
		}
		out, seen[name] = append(out, tool), true
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sdkBlocklist does what ExtractToolPolicies does.
func sdkBlocklist(t *testing.T, arenaConfig string) []string {
	t.Helper()
	var cfg sdkScenarios
	if err := json.Unmarshal([]byte(arenaConfig), &cfg); err != nil {
		t.Fatalf("the SDK's ExtractToolPolicies would fail: %v", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, sc := range cfg.LoadedScenarios {
		if sc == nil || sc.ToolPolicy == nil {
			continue
		}
		for _, b := range sc.ToolPolicy.Blocklist {
			if !seen[b] {
				seen[b] = true
				out = append(out, b)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestSDKHelpersReadOurArenaConfig(t *testing.T) {
	tools, _ := load(t, "tools")
	got := sdkTools(t, tools)
	want := []sdkTool{
		{Name: "calculator", Description: "Adds numbers", Mode: "mock"},
		{Name: "issue_refund", Description: "Refund an order (dangerous)", Mode: "mock"},
		{Name: "lookup_order", Description: "Look up an order by id", Mode: "live", URL: "https://orders.example.com/lookup"},
		{Name: "weather", Description: "Current weather for a city", Mode: "live", URL: "https://api.example.com/weather"},
	}
	if gj, wj := mustJSON(got), mustJSON(want); gj != wj {
		t.Errorf("tools:\n got %s\nwant %s", gj, wj)
	}
	// The tool files travel byte for byte, base64 on the wire.
	var raw struct {
		LoadedTools []struct {
			FilePath string `json:"file_path"`
			Data     string `json:"data"`
		} `json:"loaded_tools"`
	}
	_ = json.Unmarshal([]byte(tools), &raw)
	file, _ := os.ReadFile("testdata/tools/tools/lookup_order.tool.yaml")
	if len(raw.LoadedTools) != 4 || raw.LoadedTools[0].FilePath != "tools/lookup_order.tool.yaml" ||
		raw.LoadedTools[0].Data != encodeBase64(file) || raw.LoadedTools[2].FilePath != "<inline:calculator>" {
		t.Errorf("loaded_tools: %+v", raw.LoadedTools)
	}

	scenarios, _ := load(t, "scenarios")
	if got := sdkBlocklist(t, scenarios); strings.Join(got, ",") != "delete_account,issue_refund" {
		t.Errorf("blocklist: %v", got)
	}
}

func encodeBase64(b []byte) string {
	s, _ := json.Marshal(b)
	return strings.Trim(string(s), `"`)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSecretsRedacted: secrets under deploy (any scalar) and string values
// under secret-looking keys elsewhere become fingerprints; typed numbers
// that merely look secret (max_tokens) stay numbers.
func TestSecretsRedacted(t *testing.T) {
	out, secrets := load(t, "providers")
	for _, s := range []string{"hunter2-secret", "prod-key-9999", "mcp-secret-value"} {
		if strings.Contains(out, s) {
			t.Errorf("arena_config leaks %s", s)
		}
		if !contains(secrets, s) {
			t.Errorf("secret %s not reported for masking: %v", s, secrets)
		}
	}
	var cfg struct {
		Defaults struct {
			MaxTokens int `json:"max_tokens"`
		} `json:"defaults"`
		LoadedProviders map[string]struct {
			Defaults struct {
				MaxTokens int `json:"max_tokens"`
			} `json:"defaults"`
		} `json:"loaded_providers"`
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil || cfg.Defaults.MaxTokens != 800 || cfg.LoadedProviders["openai-gpt4o"].Defaults.MaxTokens != 1024 {
		t.Errorf("typed numbers: %+v %v", cfg, err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestInvalid: what PromptKit's loader refuses, we refuse, naming the file
// and the fix; nothing outside the workspace is ever read.
func TestInvalid(t *testing.T) {
	cases := []struct {
		name, arena string
		files       map[string]string
		want        []string
	}{
		{"tool outside the workspace", "tools:\n  - file: ../../../../../../etc/passwd\n", nil, []string{"tool ../../../../../../etc/passwd", "outside the workspace", "fix the path in arena.yaml"}},
		{"absolute tool path outside", "tools:\n  - file: /etc/hostname\n", nil, []string{"outside the workspace"}},
		{"missing scenario", "scenarios:\n  - file: scenarios/gone.yaml\n", nil, []string{"scenario scenarios/gone.yaml", "no such file"}},
		{"scenario not a manifest", "scenarios:\n  - file: s.yaml\n", map[string]string{"s.yaml": "- a list\n"}, []string{"scenario s.yaml", "must be a scenario manifest"}},
		{"bad YAML", "spec: [", nil, []string{"arena.yaml", "fix its YAML"}},
		{"duplicate scenario", "scenarios:\n  - file: s.yaml\nscenario_specs:\n  dup: {description: x}\n",
			map[string]string{"s.yaml": "kind: Scenario\nmetadata: {name: dup}\nspec: {description: y}\n"}, []string{`scenario "dup" is defined in both scenario_specs and scenarios`}},
		{"judge without provider", "judges:\n  - {name: j, provider: nope}\n", nil, []string{`judge "j" references unknown provider "nope"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			project := filepath.Join(dir, "repo", "app")
			if err := os.MkdirAll(project, 0o755); err != nil {
				t.Fatal(err)
			}
			for n, c := range tc.files {
				_ = os.WriteFile(filepath.Join(project, n), []byte(c), 0o644)
			}
			_ = os.WriteFile(filepath.Join(project, "arena.yaml"), []byte(tc.arena), 0o644)
			root, err := workspace.Open(filepath.Join(dir, "repo"))
			if err != nil {
				t.Fatal(err)
			}
			defer root.Close()
			_, err = Load(root, filepath.Join(project, "arena.yaml"), "arena.yaml", project)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestSecretWordsMarkCredentialsOnly: ids and contents of prompts,
// scenarios, tools and evals whose words look secret (password-reset,
// session_id, auth-help) are no secrets, nor a provider's id; credentials
// stay secrets: under a secret-looking key of a provider's config, of an
// MCP server's environment and of deploy, and a token's shape anywhere.
func TestSecretWordsMarkCredentialsOnly(t *testing.T) {
	out, secrets := load(t, "secretwords")
	for _, s := range []string{"hunter2-secret", "mcp-secret-value", "provider-secret-4242", "sk-live-0123456789abcdefABCDEF012"} {
		if strings.Contains(out, s) {
			t.Errorf("arena_config leaks %s", s)
		}
		if !contains(secrets, s) {
			t.Errorf("secret %s not reported for masking: %v", s, secrets)
		}
	}
	for _, word := range []string{"password-reset", "urgent", "30 minutes", "auth-help", "certificate-renewal", "string", "mock-normal", "Help with logins."} {
		if !strings.Contains(out, word) {
			t.Errorf("arena_config lost %q:\n%s", word, out)
		}
		for _, s := range secrets {
			if strings.Contains(s, word) || strings.Contains(word, s) {
				t.Errorf("%q is masked as the secret %q", word, s)
			}
		}
	}
}
