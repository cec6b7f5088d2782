package packdiff

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// line is one line of a line diff: op is ' ', '+' or '-'.
type line struct {
	op   byte
	text string
}

// lineDiff is a line-mode diff of two texts (go-diff's line mode: lines are
// hashed to runes, diffed, then mapped back).
func lineDiff(a, b string) []line {
	dmp := diffmatchpatch.New()
	ra, rb, lines := dmp.DiffLinesToRunes(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(ra, rb, false), lines)
	var out []line
	for _, d := range diffs {
		op := map[diffmatchpatch.Operation]byte{diffmatchpatch.DiffDelete: '-', diffmatchpatch.DiffInsert: '+', diffmatchpatch.DiffEqual: ' '}[d.Type]
		text := d.Text
		for text != "" {
			l, rest, _ := strings.Cut(text, "\n")
			out = append(out, line{op, l})
			text = rest
		}
	}
	return out
}

// unified is the unified diff of two template texts, with Context lines of
// context around each change, and the number of lines added and removed.
func unified(a, b string) (out []string, added, removed int) {
	if a == b {
		return nil, 0, 0
	}
	// Lines are compared with their newline, so a last line without one
	// would differ from the same line followed by more: compare both texts
	// as if they ended with one, and say so when that is all that differs.
	na, nb := strings.HasSuffix(a, "\n"), strings.HasSuffix(b, "\n")
	if !na && a != "" {
		a += "\n"
	}
	if !nb && b != "" {
		b += "\n"
	}
	if a == b {
		note := "\\ the text now ends with a newline"
		if na {
			note = "\\ the text no longer ends with a newline"
		}
		return []string{"@@ end of text @@", note}, 0, 0
	}
	ls := lineDiff(a, b)
	var changes []int
	for i, l := range ls {
		switch l.op {
		case '+':
			added++
			changes = append(changes, i)
		case '-':
			removed++
			changes = append(changes, i)
		}
	}
	if len(changes) == 0 {
		return nil, 0, 0
	}
	// Line numbers of each diff line on both sides, for the hunk headers.
	oldNo, newNo := make([]int, len(ls)+1), make([]int, len(ls)+1)
	o, n := 1, 1
	for i, l := range ls {
		oldNo[i], newNo[i] = o, n
		if l.op != '+' {
			o++
		}
		if l.op != '-' {
			n++
		}
	}
	oldNo[len(ls)], newNo[len(ls)] = o, n
	for i := 0; i < len(changes); {
		start := max(0, changes[i]-Context)
		j := i
		for j+1 < len(changes) && changes[j+1]-changes[j] <= 2*Context+1 {
			j++
		}
		end := min(len(ls), changes[j]+Context+1)
		var oc, nc int
		for _, l := range ls[start:end] {
			if l.op != '+' {
				oc++
			}
			if l.op != '-' {
				nc++
			}
		}
		out = append(out, "@@ -"+span(oldNo[start], oc)+" +"+span(newNo[start], nc)+" @@")
		for _, l := range ls[start:end] {
			out = append(out, string(l.op)+l.text)
		}
		i = j + 1
	}
	return out, added, removed
}

// span is a hunk range as diff(1) writes it: "3" for one line, "3,0"
// (after line 3) for none.
func span(start, count int) string {
	switch count {
	case 1:
		return fmt.Sprint(start)
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

// Summary is "+N −M" with the field count when fields changed.
func (p *Prompt) Summary() string {
	s := fmt.Sprintf("+%d −%d", p.Added, p.Removed)
	if n := len(p.Fields); n == 1 {
		s += ", 1 field"
	} else if n > 1 {
		s += fmt.Sprintf(", %d fields", n)
	}
	return s
}

// Title names the prompt and what happened to it: "escalation (changed)",
// "triage (renamed from escalate)".
func (p *Prompt) Title() string {
	if p.Kind == Renamed {
		return p.Name + " (renamed from " + p.From + ")"
	}
	return p.Name + " (" + string(p.Kind) + ")"
}

// What is "prompt" or "fragment".
func (p *Prompt) What() string {
	if p.Fragment {
		return "fragment"
	}
	return "prompt"
}

// String is a field change as one line of text.
func (f Field) String() string {
	switch {
	case f.Old == "":
		return f.Path + ": added " + f.New
	case f.New == "":
		return f.Path + ": removed (was " + f.Old + ")"
	}
	return f.Path + ": " + f.Old + " → " + f.New
}

// Text is the whole diff as plain text (the plan artifact's pack.diff):
// for each prompt a header, its field changes and its template's unified
// diff; then the pack-level changes. base and head label the two sides.
func (d *Diff) Text(base, head string) string {
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
	for _, p := range d.Prompts {
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
