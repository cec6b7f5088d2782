package arenaschema

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// mapFiles is a project in memory, by absolute path.
type mapFiles map[string]string

func (m mapFiles) ReadFile(name string) ([]byte, error) {
	s, ok := m[filepath.ToSlash(name)]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(s), nil
}

const validArena = `apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: Arena
metadata:
  name: app
spec:
  providers:
    - file: providers/mock.yaml
  defaults: {temperature: 0.5}
  prompt_configs:
    - id: greeting
      file: prompts/greeting.yaml
    - id: inline-only
      file: ""
  tools:
    - file: tools/lookup.yaml
    - file: tools/openai.json
  deploy:
    provider: omnia
`

func project(edit func(m mapFiles)) mapFiles {
	m := mapFiles{
		"/p/arena.yaml":          validArena,
		"/p/providers/mock.yaml": "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Provider\nmetadata: {name: mock}\nspec: {type: mock, model: m}\n",
		"/p/prompts/greeting.yaml": "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: PromptConfig\nmetadata: {name: greeting}\n" +
			"spec: {task_type: greeting, version: v1, description: d, system_template: Hi}\n",
		"/p/tools/lookup.yaml": "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Tool\nmetadata: {name: lookup}\n" +
			"spec:\n  description: Look up\n  mode: mock\n  input_schema: {type: object}\n  output_schema: {type: object}\n",
		"/p/tools/openai.json": `{"type": "function", "function": {"name": "x"}}`,
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// TestCheckRefusesWhatPromptarenaRefuses: each case is a file promptarena
// refuses at e90d58d ("schema validation failed"), reported at its place.
func TestCheckRefusesWhatPromptarenaRefuses(t *testing.T) {
	cases := []struct {
		name string
		edit func(m mapFiles)
		want []string
	}{
		{"tool without output_schema", func(m mapFiles) {
			m["/p/tools/lookup.yaml"] = strings.Replace(m["/p/tools/lookup.yaml"], "  output_schema: {type: object}\n", "", 1)
		}, []string{"app/tools/lookup.yaml:5:3: spec: output_schema is required"}},
		{"prompt config without spec", func(m mapFiles) {
			m["/p/prompts/greeting.yaml"] = "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: PromptConfig\nmetadata: {name: greeting}\n"
		}, []string{"app/prompts/greeting.yaml:1:1: spec is required"}},
		{"arena without providers", func(m mapFiles) {
			m["/p/arena.yaml"] = strings.Replace(validArena, "  providers:\n    - file: providers/mock.yaml\n", "", 1)
		}, []string{"app/arena.yaml:6:3: spec: providers is required"}},
		{"misspelt key", func(m mapFiles) {
			m["/p/arena.yaml"] = strings.Replace(validArena, "  defaults:", "  defualts: {}\n  defaults:", 1)
		}, []string{"app/arena.yaml:8:3: spec: additional property defualts is not allowed (did you mean defaults?)"}},
		{"wrong type in a provider", func(m mapFiles) {
			m["/p/providers/mock.yaml"] = strings.Replace(m["/p/providers/mock.yaml"], "model: m}", "model: m, defaults: {max_tokens: lots}}", 1)
		}, []string{"app/providers/mock.yaml:4:53: spec.defaults.max_tokens: invalid type: expected integer, given string"}},
		{"missing tts provider", func(m mapFiles) {
			m["/p/arena.yaml"] = strings.Replace(validArena, "  defaults:", "  tts_providers:\n    - file: providers/voice.yaml\n  defaults:", 1)
		}, []string{"app/arena.yaml:9:13: tts_providers: app/providers/voice.yaml does not exist; promptarena cannot load it"}},
		{"key that is not a string", func(m mapFiles) {
			m["/p/arena.yaml"] = strings.Replace(validArena, "    provider: omnia\n", "    provider: omnia\n    config: {1: one}\n", 1)
		}, []string{"app/arena.yaml:19:14: spec.deploy.config: the key \"1\" is not a string"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(project(tc.edit), "/p/arena.yaml", "app/arena.yaml")
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want a schema refusal", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestCheckAcceptsWhatPromptarenaAccepts: a valid project passes; a JSON
// tool (OpenAI's format) and a prompt config without a file are not
// schema-checked, as promptarena does not check them; the older shape is
// read, with a warning that promptarena refuses it.
func TestCheckAcceptsWhatPromptarenaAccepts(t *testing.T) {
	if w, err := Check(project(nil), "/p/arena.yaml", "app/arena.yaml"); err != nil || len(w) != 0 {
		t.Fatalf("valid project: %v %v", w, err)
	}
	older := project(func(m mapFiles) {
		m["/p/arena.yaml"] = "deploy:\n  provider: omnia\nproviders:\n  - file: providers/mock.yaml\n"
	})
	w, err := Check(older, "/p/arena.yaml", "app/arena.yaml")
	if err != nil || len(w) != 1 || !strings.Contains(w[0], "promptarena refuses it") {
		t.Fatalf("older shape: %v %v", w, err)
	}
	// The older shape's references are still checked.
	older["/p/providers/mock.yaml"] = "kind: Provider\n"
	if _, err := Check(older, "/p/arena.yaml", "app/arena.yaml"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "app/providers/mock.yaml:1:1: apiVersion is required") {
		t.Errorf("older shape's provider: %v", err)
	}
}

// TestErrorListsAtMost: a file with hundreds of problems lists the first
// ones and counts the rest.
func TestErrorListsAtMost(t *testing.T) {
	var ps []Problem
	for i := range 300 {
		ps = append(ps, Problem{File: "arena.yaml", Line: i + 1, Column: 3, Path: "spec", Message: "x"})
	}
	msg := (&Error{Problems: ps}).Error()
	if strings.Count(msg, "\n- arena.yaml:") != maxShown || !strings.Contains(msg, "… and 275 more") {
		t.Errorf("%s", msg)
	}
}
