package arenaschema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"
)

// promptarenaVerdict is what promptarena decides (PromptKit's
// pkg/config.ValidateWithSchema at v1.5.11): the YAML decoded by yaml.v3
// into interface{}, encoded by encoding/json, validated by gojsonschema.
// A file that cannot be converted is refused.
func promptarenaVerdict(t *testing.T, kind Kind, data []byte) (bool, string) {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return false, "yaml: " + err.Error()
	}
	doc, err := json.Marshal(v)
	if err != nil {
		return false, "json: " + err.Error()
	}
	s := gojsonschemaFor(t, kind)
	res, err := s.Validate(gojsonschema.NewBytesLoader(doc))
	if err != nil {
		return false, "validate: " + err.Error()
	}
	var errs []string
	for _, e := range res.Errors() {
		errs = append(errs, e.String())
	}
	return res.Valid(), strings.Join(errs, "; ")
}

var compiledGJS = map[Kind]*gojsonschema.Schema{}

func gojsonschemaFor(t *testing.T, kind Kind) *gojsonschema.Schema {
	if s, ok := compiledGJS[kind]; ok {
		return s
	}
	raw, err := os.ReadFile(filepath.Join("schemas", "v1alpha1", string(kind)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := gojsonschema.NewSchema(gojsonschema.NewBytesLoader(raw))
	if err != nil {
		t.Fatalf("gojsonschema cannot load %s: %v", kind, err)
	}
	compiledGJS[kind] = s
	return s
}

// corpus are valid files of each kind, as promptarena's users write them.
var corpus = map[Kind][]string{
	Arena: {`apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: Arena
metadata:
  name: support-bot
  annotations:
    arena-deploy/follows: staging
spec:
  prompt_configs:
    - id: greeting
      file: prompts/greeting.yaml
      vars: {company: Acme}
  providers:
    - file: providers/mock.yaml
      group: primary
  scenarios:
    - file: scenarios/refund.yaml
  tools:
    - file: tools/lookup_order.yaml
  tool_specs:
    get_weather:
      description: Weather for a city
      mode: mock
      input_schema: {type: object, properties: {city: {type: string}}}
      output_schema: {type: object}
      mock_result: {temp: 21}
  defaults:
    temperature: 0.7
    max_tokens: 1000
    concurrency: 2
    output:
      dir: out
      formats: [json, markdown]
  deploy:
    provider: omnia
    config:
      region: eu-west-1
      replicas: 2
    environments:
      production:
        config: {replicas: 3}
`, `apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: Arena
metadata: {name: minimal}
spec:
  providers: []
  defaults: {}
`},
	PromptConfig: {`apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: PromptConfig
metadata:
  name: greeting
spec:
  task_type: greeting
  version: v1.0.0
  description: Greets the customer
  system_template: |
    You are the support bot of {{company}}.
  allowed_tools: [lookup_order]
`},
	Scenario: {`apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: Scenario
metadata:
  name: refund
spec:
  task_type: support
  description: refunds need a human
  turns:
    - role: user
      content: I want my money back
      assertions:
        - type: content_includes
          params: {patterns: [refund]}
  tool_policy:
    tool_choice: auto
    max_tool_calls_per_turn: 1
    max_total_tool_calls: 2
    blocklist: [issue_refund]
`},
	Eval: {`apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: Eval
metadata:
  name: replay
spec:
  id: replay
  description: Replays a saved session
  recording:
    path: recordings/session.json
    type: session
  tags: [support]
`},
	Provider: {`apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: Provider
metadata:
  name: openai-gpt4o
spec:
  id: openai-gpt4o
  type: openai
  model: gpt-4o
  defaults: {temperature: 0.7, top_p: 1, max_tokens: 1024}
  pricing: {input_cost_per_1k: 0.0025, output_cost_per_1k: 0.01}
  capabilities: [text, tools]
`},
	Tool: {`apiVersion: promptkit.altairalabs.ai/v1alpha1
kind: Tool
metadata:
  name: lookup_order
spec:
  name: lookup_order
  description: Look up an order by its id
  mode: mock
  input_schema:
    type: object
    properties:
      order_id: {type: string}
    required: [order_id]
  output_schema:
    type: object
  mock_result: {status: shipped}
`},
}

// odd are documents whose conversion to JSON is the question: types
// YAML has and JSON has not, keys that are not strings, merges, aliases.
var odd = map[Kind][]string{
	Provider: {
		"",
		"null\n",
		"- a\n- b\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m, defaults: {temperature: .inf}}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m, defaults: {max_tokens: 1.0}}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m, defaults: {max_tokens: 1.5}}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m, defaults: {max_tokens: 0x10}}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m, defaults: {max_tokens: 1e3}}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: 2024-01-01}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: yes}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: true}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: ~}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m, 1: x}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x, labels: {1: x}}\nspec: {type: openai, model: m}\n",
		"base: &b {type: openai, model: m}\napiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: *b\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec:\n  <<: {type: openai, model: m}\n  id: x\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec:\n  <<: [{type: openai}, {model: m, bogus: 1}]\n",
		"$schema: https://promptkit.altairalabs.ai/schemas/v1alpha1/provider.json\napiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m}\n",
		"$schema: not a uri\napiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m}\n",
		"$schema: 'c:\\schemas\\provider.json'\napiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m}\n",
		"apiVersion: v\nkind: Provider\nmetadata: {name: x}\nspec: {type: openai, model: m}\n---\nbogus: 1\n",
	},
	Scenario: {
		"apiVersion: v\nkind: Scenario\nmetadata: {name: x}\nspec: {description: d, pack: p.json, steps: []}\n",
		"apiVersion: v\nkind: Scenario\nmetadata: {name: x}\nspec: {description: d, task_type: t, turns: [], pack: p.json, steps: []}\n",
		"apiVersion: v\nkind: Scenario\nmetadata: {name: x}\nspec: {description: d, task_type: t}\n",
		"apiVersion: v\nkind: Scenario\nmetadata: {name: x}\nspec: {description: d, task_type: t, turns: [{role: user, content: hi, assertions: [{type: my_own_check}]}]}\n",
		"apiVersion: v\nkind: Scenario\nmetadata: {name: x}\nspec: {description: d, task_type: t, turns: [{role: user, content: hi, assertions: [{type: 3}]}]}\n",
	},
}

// mutations are the corpus document with one change each: a key removed,
// an unknown key added, a value replaced by one of another type.
func mutations(t *testing.T, src string) []string {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	var nodes []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		nodes = append(nodes, n)
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc.Content[0])
	var out []string
	emit := func() {
		b, err := yaml.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	for _, n := range nodes {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				saved := n.Content
				n.Content = append(append([]*yaml.Node{}, saved[:i]...), saved[i+2:]...)
				emit()
				n.Content = saved
			}
			saved := n.Content
			n.Content = append(append([]*yaml.Node{}, saved...), &yaml.Node{Kind: yaml.ScalarNode, Value: "unknown_key"}, &yaml.Node{Kind: yaml.ScalarNode, Value: "1"})
			emit()
			n.Content = saved
		case yaml.ScalarNode:
			old := *n
			for _, repl := range []yaml.Node{
				{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"},
				{Kind: yaml.ScalarNode, Tag: "!!int", Value: "7"},
				{Kind: yaml.ScalarNode, Tag: "!!float", Value: "7.5"},
				{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"},
				{Kind: yaml.ScalarNode, Tag: "!!str", Value: "text"},
				{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "a"}}},
				{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "a"}, {Kind: yaml.ScalarNode, Value: "b"}}},
			} {
				*n = repl
				emit()
			}
			*n = old
		case yaml.SequenceNode:
			saved := n.Content
			n.Content = append(append([]*yaml.Node{}, saved...), &yaml.Node{Kind: yaml.ScalarNode, Value: "extra"})
			emit()
			n.Content = saved
		}
	}
	return out
}

// TestAgreesWithGojsonschema: on every corpus file, every one-change
// mutation of it, and odd YAML, this package accepts exactly what
// promptarena's validation (gojsonschema on the YAML's JSON) accepts.
func TestAgreesWithGojsonschema(t *testing.T) {
	checked, refused := 0, 0
	for _, kind := range Kinds {
		docs := append([]string{}, corpus[kind]...)
		for _, d := range corpus[kind] {
			docs = append(docs, mutations(t, d)...)
		}
		docs = append(docs, odd[kind]...)
		for i, d := range docs {
			want, why := promptarenaVerdict(t, kind, []byte(d))
			problems, err := Validate(kind, fmt.Sprintf("%s-%d.yaml", kind, i), []byte(d))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(problems) == 0; got != want {
				t.Errorf("%s #%d: promptarena says valid=%v (%s), we say %v %v\n%s", kind, i, want, why, got, problems, d)
			}
			if i < len(corpus[kind]) && !want {
				t.Errorf("%s corpus #%d is not valid: %s", kind, i, why)
			}
			checked++
			if !want {
				refused++
			}
		}
	}
	t.Logf("%d documents, %d refused by both", checked, refused)
	if checked < 500 || refused < 200 {
		t.Errorf("the corpus is too small to say much: %d documents, %d refused", checked, refused)
	}
}
