package packdiff

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func examplePack(t testing.TB) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "example", "support-bot.pack.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func prompt(m map[string]any, name string) map[string]any {
	return m["prompts"].(map[string]any)[name].(map[string]any)
}

func TestCompare(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		want  []Prompt
		pack  []Field
		same  int
		empty bool
	}{
		{
			name: "identical", edit: func(map[string]any) {}, same: 3, empty: true,
		},
		{
			name: "recompiled only",
			edit: func(m map[string]any) {
				m["compilation"] = map[string]any{"compiled_with": "promptarena v1.4.0", "created_at": "2026-11-27T00:00:00Z"}
			},
			same: 3, empty: true,
		},
		{
			name: "one template line edited",
			edit: func(m map[string]any) {
				prompt(m, "escalation")["system_template"] = "Summarise the conversation for a human agent in three bullet points."
			},
			want: []Prompt{{Kind: Changed, Name: "escalation", Added: 1, Removed: 1, Lines: []string{
				"@@ -1 +1 @@",
				"-Summarise the conversation for a human agent in five bullet points.",
				"+Summarise the conversation for a human agent in three bullet points.",
			}}},
			same: 2,
		},
		{
			name: "variables and model changed",
			edit: func(m map[string]any) {
				p := prompt(m, "refund")
				p["variables"] = []any{
					map[string]any{"name": "max_refund", "type": "string", "required": true},
					map[string]any{"name": "currency", "type": "string", "required": false},
				}
				p["parameters"] = map[string]any{"temperature": 0.2}
				p["model_overrides"] = map[string]any{"gpt-4o": map[string]any{"system_template_suffix": "Be brief."}}
				p["tools"] = []any{"lookup_order", "issue_refund"}
			},
			want: []Prompt{{Kind: Changed, Name: "refund", Fields: []Field{
				{Path: "variables[currency]", New: `{"name":"currency","required":false,"type":"string"}`},
				{Path: "variables[max_refund].type", Old: `"number"`, New: `"string"`},
				{Path: "model_overrides.gpt-4o.system_template_suffix", New: `"Be brief."`},
				{Path: "parameters.temperature", New: `0.2`},
				{Path: "tools", Old: `["lookup_order"]`, New: `["lookup_order","issue_refund"]`},
			}}},
			same: 2,
		},
		{
			name: "renamed",
			edit: func(m map[string]any) {
				ps := m["prompts"].(map[string]any)
				p := ps["escalation"].(map[string]any)
				p["id"], p["name"] = "handoff", "Hand-off"
				ps["handoff"] = p
				delete(ps, "escalation")
			},
			want: []Prompt{{Kind: Renamed, Name: "handoff", From: "escalation", Fields: []Field{
				{Path: "id", Old: `"escalation"`, New: `"handoff"`},
				{Path: "name", Old: `"Escalation"`, New: `"Hand-off"`},
			}}},
			same: 2,
		},
		{
			name: "added and removed, with pack fields",
			edit: func(m map[string]any) {
				ps := m["prompts"].(map[string]any)
				delete(ps, "greeting")
				ps["triage"] = map[string]any{"id": "triage", "system_template": "Sort the ticket.\nAsk one question."}
				m["version"] = "1.3.0"
			},
			want: []Prompt{
				{Kind: Removed, Name: "greeting", Removed: 1, Lines: []string{"@@ -1 +0,0 @@", "-You are a friendly support agent for {{company}}. Greet the customer and ask how you can help."}},
				{Kind: Added, Name: "triage", Added: 2, Lines: []string{"@@ -0,0 +1,2 @@", "+Sort the ticket.", "+Ask one question."},
					Fields: []Field{{Path: "id", New: `"triage"`}}},
			},
			pack: []Field{{Path: "version", Old: `"1.2.0"`, New: `"1.3.0"`}},
			same: 2,
		},
		{
			name: "reformatted but equal",
			edit: func(m map[string]any) {
				prompt(m, "greeting")["variables"] = []any{map[string]any{"required": true, "type": "string", "name": "company"}}
			},
			same: 3, empty: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := examplePack(t), examplePack(t)
			tc.edit(cur)
			d, err := Compare(encode(t, old), encode(t, cur))
			if err != nil {
				t.Fatal(err)
			}
			if d.Empty() != tc.empty || d.Unchanged != tc.same {
				t.Errorf("empty %v unchanged %d, want %v %d", d.Empty(), d.Unchanged, tc.empty, tc.same)
			}
			if got := shown(d.Prompts); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("prompts:\n got %#v\nwant %#v", got, tc.want)
			}
			if !reflect.DeepEqual(d.Pack, tc.pack) && !(len(d.Pack) == 0 && len(tc.pack) == 0) {
				t.Errorf("pack fields:\n got %#v\nwant %#v", d.Pack, tc.pack)
			}
		})
	}
}

func TestNothingDeployed(t *testing.T) {
	d, err := Compare(nil, encode(t, examplePack(t)))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Prompts) != 3 || d.Unchanged != 0 || len(d.Pack) != 0 {
		t.Fatalf("got %d prompts, %d unchanged", len(d.Prompts), d.Unchanged)
	}
	for _, p := range d.Prompts {
		if p.Kind != Added || p.Added != 1 || p.Removed != 0 {
			t.Errorf("%s: %s %s", p.Name, p.Kind, p.Summary())
		}
	}
	if got := []string{d.Prompts[0].Name, d.Prompts[1].Name, d.Prompts[2].Name}; strings.Join(got, ",") != "escalation,greeting,refund" {
		t.Errorf("order %v", got)
	}
}

func TestNotAPack(t *testing.T) {
	for _, tc := range []struct{ old, cur string }{{"{}", "[1]"}, {"nope", "{}"}, {"{}", `{"prompts": []}`}} {
		if _, err := Compare([]byte(tc.old), []byte(tc.cur)); !errors.Is(err, ErrNotAPack) {
			t.Errorf("%s → %s: %v, want ErrNotAPack", tc.old, tc.cur, err)
		}
	}
}

func TestUnifiedHunks(t *testing.T) {
	var a, b []string
	for i := 1; i <= 30; i++ {
		a = append(a, fmt.Sprintf("line %d", i))
	}
	b = append(b, a...)
	b[1] = "line two"                                         // hunk 1
	b[4] = "line five"                                        // joins hunk 1 (gap ≤ 2×context)
	b = append(b[:20], append([]string{"new"}, b[20:]...)...) // hunk 2
	b = b[:len(b)-1]                                          // hunk 2 too: last line removed
	lines, added, removed := unified(strings.Join(a, "\n"), strings.Join(b, "\n"))
	want := []string{
		"@@ -1,8 +1,8 @@", " line 1", "-line 2", "+line two", " line 3", " line 4", "-line 5", "+line five", " line 6", " line 7", " line 8",
		"@@ -18,6 +18,7 @@", " line 18", " line 19", " line 20", "+new", " line 21", " line 22", " line 23",
		"@@ -27,4 +28,3 @@", " line 27", " line 28", " line 29", "-line 30",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if added != 3 || removed != 3 {
		t.Errorf("+%d −%d", added, removed)
	}
}

func TestOrderAndText(t *testing.T) {
	old, cur := examplePack(t), examplePack(t)
	prompt(cur, "greeting")["system_template"] = "Hello.\nWelcome to {{company}}.\nHow can I help?"
	prompt(cur, "escalation")["system_template"] = "Summarise in three bullets."
	delete(cur["prompts"].(map[string]any), "refund")
	d, err := Compare(encode(t, old), encode(t, cur))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range d.Prompts {
		got = append(got, p.Name+":"+string(p.Kind))
	}
	// Biggest edit first, then removals.
	if strings.Join(got, " ") != "greeting:changed escalation:changed refund:removed" {
		t.Errorf("order %v", got)
	}
	text := d.Text("deployed", "pull request")
	for _, want := range []string{"--- a/prompts/greeting/system_template\n+++ b/prompts/greeting/system_template\n@@ -1 +1,3 @@\n", "--- a/prompts/refund/system_template\n+++ /dev/null\n", "+How can I help?\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// manyMembers is an object of n members, every 7th key written again
// further on with another value.
func manyMembers(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
		if i%7 == 3 && i > 10 {
			fmt.Fprintf(&b, `,"k%d":"again %d"`, i-10, i)
		}
	}
	return b.String() + "}"
}

func TestSplitObjectAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { "a" : 1 , "b":[1,{"c":"]}"}], "d\"e": "x\\\"y\\\\", "\u00e9": null, "f": {"g": [true, false]} } `,
		`{"s": "a \\\\\" b", "n": -1.5e3}`,
		manyMembers(3000), // more than a chunk of members, some written twice
	} {
		got, err := splitObject([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d members, want %d", in, len(got), len(want))
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Errorf("%s: %q = %s, want %s", in, k, got[k], v)
			}
		}
	}
	for _, bad := range []string{``, `[]`, `{"a" 1}`, `{"a": "x}`, `{"a": [1}`, `{"a": 1,}`, `{"a":1} x`, `{"a": }`} {
		if _, err := splitObject([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestTrailingNewlineOnly(t *testing.T) {
	old, cur := examplePack(t), examplePack(t)
	prompt(cur, "refund")["system_template"] = prompt(old, "refund")["system_template"].(string) + "\n"
	d, err := Compare(encode(t, old), encode(t, cur))
	if err != nil || len(d.Prompts) != 1 {
		t.Fatalf("%v %+v", err, d)
	}
	if got := strings.Join(d.Prompts[0].Lines, "|"); got != `@@ end of text @@|\ the text now ends with a newline` {
		t.Errorf("got %q", got)
	}
}

func TestFragments(t *testing.T) {
	old, cur := examplePack(t), examplePack(t)
	old["fragments"] = map[string]any{"tone": "Be kind.\nBe brief.", "legal": "No advice.", "gone": "x"}
	cur["fragments"] = map[string]any{"tone": "Be kind.\nBe very brief.", "legal": "No advice.", "new": "y"}
	d, err := Compare(encode(t, old), encode(t, cur))
	if err != nil {
		t.Fatal(err)
	}
	want := []Prompt{
		{Kind: Changed, Fragment: true, Name: "tone", Added: 1, Removed: 1, Lines: []string{"@@ -1,2 +1,2 @@", " Be kind.", "-Be brief.", "+Be very brief."}},
		{Kind: Removed, Fragment: true, Name: "gone", Removed: 1, Lines: []string{"@@ -1 +0,0 @@", "-x"}},
		{Kind: Added, Fragment: true, Name: "new", Added: 1, Lines: []string{"@@ -0,0 +1 @@", "+y"}},
	}
	if !reflect.DeepEqual(shown(d.Prompts), want) || len(d.Pack) != 0 {
		t.Errorf("got %#v\npack %#v", d.Prompts, d.Pack)
	}
	if text := d.Text("a", "b"); !strings.Contains(text, "## fragment tone (changed): +1 −1\n--- a/fragments/tone\n+++ b/fragments/tone\n") {
		t.Errorf("text:\n%s", text)
	}
}

// shown is the prompts as a report shows them: the lines and fields of
// added and removed prompts made.
func shown(ps []Prompt) []Prompt {
	var out []Prompt
	for _, p := range ps {
		p.Lines, p.Fields = p.DiffLines(), p.FieldChanges()
		p.raw, p.mask = nil, nil
		out = append(out, p)
	}
	return out
}
