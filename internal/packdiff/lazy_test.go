package packdiff

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// oldText is Text as it was written before sections were streamed, over
// the prompts as shown: the reference the streamed text must equal.
func oldText(d *Diff, base, head string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Pack diff: %s → %s\n", base, head)
	if d.Empty() {
		b.WriteString("# No prompt or pack field differs.\n")
		return b.String()
	}
	added, removed := d.Totals()
	frags := 0
	for _, p := range d.Prompts {
		if p.Fragment {
			frags++
		}
	}
	fmt.Fprintf(&b, "# %d prompts and %d fragments differ (+%d −%d lines), %d prompts unchanged\n", len(d.Prompts)-frags, frags, added, removed, d.Unchanged)
	for _, p := range shown(d.Prompts) {
		fmt.Fprintf(&b, "\n## %s %s: %s\n", p.What(), p.Title(), p.Summary())
		for _, f := range p.Fields {
			b.WriteString("# " + f.String() + "\n")
		}
		if len(p.Lines) > 0 {
			from, to := "a/prompts/"+p.Name+"/"+TemplateField, "b/prompts/"+p.Name+"/"+TemplateField
			if p.Fragment {
				from, to = "a/fragments/"+p.Name, "b/fragments/"+p.Name
			}
			switch p.Kind {
			case Added:
				from = "/dev/null"
			case Removed:
				to = "/dev/null"
			}
			fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
			for _, l := range p.Lines {
				b.WriteString(l + "\n")
			}
		}
	}
	if len(d.Pack) > 0 {
		b.WriteString("\n## pack fields\n")
		for _, f := range d.Pack {
			b.WriteString("# " + f.String() + "\n")
		}
	}
	return b.String()
}

var templatePieces = []string{"a", "line", " ", "\n", "\n\n", "\r\n", `"`, `\`, "\\n", "é", "\u2028", "<&>", "\t", "sekrit-value", "+"}

func randomTemplate(r *rand.Rand) any {
	switch r.Intn(12) {
	case 0:
		return nil // absent
	case 1:
		return 42 // not a string: no text, a field
	}
	var b strings.Builder
	for n := r.Intn(12); n > 0; n-- {
		b.WriteString(templatePieces[r.Intn(len(templatePieces))])
	}
	return b.String()
}

// TestLazyPromptsAsShownBefore: added and removed prompts, whose lines and
// fields are made when shown, count, read and mask as the eager diff did,
// whatever their templates hold (escaped newlines, \u000a, a last line
// without a newline, no text, a template that is not a string), and the
// streamed text is the text Text wrote before, read in any piece sizes.
func TestLazyPromptsAsShownBefore(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	mask := func(s string) string { return strings.ReplaceAll(s, "sekrit-value", "***") }
	for i := 0; i < 400; i++ {
		pack := func(names ...string) []byte {
			ps := map[string]any{}
			for _, n := range names {
				p := map[string]any{"id": n, "version": "1", "variables": []any{map[string]any{"name": "v" + n, "type": "string"}}, "parameters": map[string]any{"temperature": 0.25}}
				if r.Intn(2) == 0 { // scalars only, of every kind
					p = map[string]any{"id": n, "version": json.Number("1.50"), "note": "<&> \"q\" \u2028 é\n", "on": true, "nothing": nil, "model": "gpt", "tools": "x"}
				}
				if tmpl := randomTemplate(r); tmpl != nil {
					p[TemplateField] = tmpl
				}
				ps[n] = p
			}
			raw, _ := json.Marshal(map[string]any{"id": "x", "prompts": ps})
			if i%3 == 0 { // \u000a for newlines, as another encoder may write
				raw = []byte(strings.ReplaceAll(string(raw), `\n`, `\u000A`))
			}
			return raw
		}
		old, cur := pack("gone", "kept"), pack("kept", "new1", "new2")
		for _, validated := range []bool{false, true} {
			var d *Diff
			var err error
			if validated {
				d, err = CompareValidated(old, cur)
			} else {
				d, err = Compare(old, cur)
			}
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				d.Mask(mask)
			}
			for _, p := range d.Prompts {
				if !p.lazy() {
					continue
				}
				text := templateOf(decode(p.raw))
				var lines []string
				var a, rm int
				if p.Kind == Added {
					lines, a, rm = unified("", text)
				} else {
					lines, a, rm = unified(text, "")
				}
				for j := range lines {
					lines[j] = p.masked(lines[j])
				}
				if p.Kind == Added {
					want := fieldDiff(nil, withoutTemplate(decode(p.raw)))
					for j := range want {
						want[j].Path, want[j].Old, want[j].New = p.masked(want[j].Path), p.masked(want[j].Old), p.masked(want[j].New)
					}
					if got := p.FieldChanges(); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("%s: fields %v, eager %v", p.raw, got, want)
					}
				}
				if a != p.Added || rm != p.Removed || strings.Join(lines, "\n") != strings.Join(p.DiffLines(), "\n") {
					t.Fatalf("%s %q: +%d −%d %q, eager +%d −%d %q", p.Kind, text, p.Added, p.Removed, p.DiffLines(), a, rm, lines)
				}
			}
			want := oldText(d, "base", "head")
			got, err := io.ReadAll(iotest.HalfReader(d.TextReader("base", "head")))
			if err != nil || string(got) != want {
				t.Fatalf("streamed text differs:\n%s\nwant\n%s", got, want)
			}
		}
	}
}

// TestScalarFieldsTakesPlainPrompts: the common prompt (scalars and its
// text) takes the fast way, and agrees with the general one.
func TestScalarFieldsTakesPlainPrompts(t *testing.T) {
	raw := []byte(`{"id":"a","version":1.50,"system_template":"x","note":"\u003cb\u003e \"q\"","on":true,"off":null,"id":"b"}`)
	fs, ok := scalarFields(raw, true)
	want := fieldDiff(nil, withoutTemplate(decode(raw)))
	if !ok || fmt.Sprint(fs) != fmt.Sprint(want) {
		t.Fatalf("scalarFields %v %v, general %v", ok, fs, want)
	}
	if _, ok := scalarFields([]byte(`{"id":"a","variables":[{"name":"v"}]}`), true); ok {
		t.Error("a prompt with an array took the fast way")
	}
}
