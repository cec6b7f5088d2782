package packdiff

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unsafe"

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
	return summary(p, len(p.FieldChanges()))
}

func summary(p *Prompt, fields int) string {
	s := fmt.Sprintf("+%d −%d", p.Added, p.Removed)
	if n := fields; n == 1 {
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
	_, _ = io.Copy(&b, d.TextReader(base, head))
	return b.String()
}

// TextReader reads Text's bytes a section at a time: the text of a first
// deploy is as long as the pack, and is never held whole.
func (d *Diff) TextReader(base, head string) io.Reader {
	return &textReader{d: d, base: base, head: head, next: -1}
}

type textReader struct {
	d          *Diff
	base, head string
	next       int // -1: the header; then prompts; then the pack fields
	buf        []byte
	off        int
}

func (r *textReader) Read(p []byte) (int, error) {
	for r.off == len(r.buf) {
		if !r.fill() {
			return 0, io.EOF
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// fill renders the next part into buf; false at the end.
func (r *textReader) fill() bool {
	d, b := r.d, r.buf[:0]
	r.off = 0
	switch n := r.next; {
	case n == -1:
		b = fmt.Appendf(b, "# Pack diff: %s → %s\n", r.base, r.head)
		if d.Empty() {
			b = append(b, "# No prompt or pack field differs.\n"...)
			r.next = len(d.Prompts) + 1
		} else {
			added, removed := d.Totals()
			frags := 0
			for _, p := range d.Prompts {
				if p.Fragment {
					frags++
				}
			}
			b = fmt.Appendf(b, "# %d prompts and %d fragments differ (+%d −%d lines), %d prompts unchanged\n", len(d.Prompts)-frags, frags, added, removed, d.Unchanged)
		}
	case n < len(d.Prompts):
		b = appendSection(b, &d.Prompts[n])
	case n == len(d.Prompts):
		if len(d.Pack) > 0 {
			b = append(b, "\n## pack fields\n"...)
			for _, f := range d.Pack {
				b = append(b, "# "+f.String()+"\n"...)
			}
		}
	default:
		r.buf = b
		return false
	}
	r.next++
	r.buf = b
	return true
}

// appendSection writes one prompt's part of Text. Its pieces are appended
// as they are, not joined into strings first: a first deploy of 50,000
// prompts has 50,000 sections.
func appendSection(b []byte, p *Prompt) []byte {
	fields := p.FieldChanges()
	b = append(append(append(b, "\n## "...), p.What()...), ' ')
	if p.Kind == Renamed {
		b = append(append(append(b, p.Name...), " (renamed from "...), p.From...)
	} else {
		b = append(append(append(b, p.Name...), " ("...), p.Kind...)
	}
	b = append(append(b, "): "...), summary(p, len(fields))...)
	b = append(b, '\n')
	for _, f := range fields {
		b = append(append(append(b, "# "...), f.String()...), '\n')
	}
	if p.Added+p.Removed == 0 && len(p.Lines) == 0 && !p.lazy() {
		return b
	}
	if !p.lazy() && len(p.Lines) == 0 {
		return b
	}
	path := func(b []byte, side string) []byte {
		if p.Fragment {
			return append(append(b, side+"/fragments/"...), p.Name...)
		}
		return append(append(append(b, side+"/prompts/"...), p.Name...), "/"+TemplateField...)
	}
	headerStart := len(b)
	b = append(b, "--- "...)
	if p.Kind == Added {
		b = append(b, "/dev/null"...)
	} else {
		b = path(b, "a")
	}
	b = append(b, "\n+++ "...)
	if p.Kind == Removed {
		b = append(b, "/dev/null"...)
	} else {
		b = path(b, "b")
	}
	b = append(b, '\n')
	if p.lazy() {
		n := len(b)
		if b = p.appendLazyBlock(b); len(b) == n {
			return b[:headerStart] // no template text: no block, no file header
		}
		return b
	}
	for _, l := range p.Lines {
		b = append(append(b, l...), '\n')
	}
	return b
}

// lazyBlock is an added or removed prompt's diff lines, each followed by
// a newline and masked as DiffLines masks them, written straight from its
// text: the lines of a first deploy's thousands of prompts are never
// strings of their own.
func (p *Prompt) lazyBlock() []byte { return p.appendLazyBlock(nil) }

// appendLazyBlock appends lazyBlock to b, without making it apart first.
func (p *Prompt) appendLazyBlock(b []byte) []byte {
	text, _ := p.template()
	if text == "" {
		return b
	}
	n := textLines(text)
	op := byte('+')
	head := "@@ -0,0 +" + span(1, n) + " @@"
	if p.Kind == Removed {
		op, head = '-', "@@ -"+span(1, n)+" +0,0 @@"
	}
	start := len(b)
	b = slices.Grow(b, len(head)+len(text)+2*n+2)
	b = append(append(b, head...), '\n')
	for rest := text; rest != ""; {
		l, r, _ := strings.Cut(rest, "\n")
		b = append(append(append(b, op), l...), '\n')
		rest = r
	}
	if p.mask == nil {
		return b
	}
	// Each line is masked on its own, as DiffLines does; when the block as
	// a whole holds no secret, neither does any of its lines.
	if s := unsafe.String(&b[start], len(b)-start); p.mask(s) == s {
		return b
	}
	block := string(b[start:])
	b = b[:start]
	for _, l := range strings.SplitAfter(block, "\n") {
		if l != "" {
			b = append(append(b, p.mask(strings.TrimSuffix(l, "\n"))...), '\n')
		}
	}
	return b
}
