// Package packdiff compares two compiled PromptKit packs the way a reviewer
// reads them: prompts added, removed, renamed and changed; for a changed
// prompt, a unified diff of its template text and a field-level list of
// everything else that changed, in a stable order. It is pure: bytes in,
// values out, no I/O.
package packdiff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// TemplateField is where a prompt keeps its template text (PromptPack spec:
// prompts.<key>.system_template).
const TemplateField = "system_template"

// Context is the number of unchanged lines shown around each change.
const Context = 3

// Kind is what happened to a prompt.
type Kind string

// Kinds of prompt change.
const (
	Added   Kind = "added"
	Removed Kind = "removed"
	Renamed Kind = "renamed"
	Changed Kind = "changed"
)

// Field is one changed value outside the template text. Old and New are
// compact JSON; an empty string means the field is absent on that side.
type Field struct {
	Path     string
	Old, New string
}

// Prompt is one prompt that differs between the packs.
type Prompt struct {
	Kind Kind
	// Fragment marks a shared template fragment (the pack's fragments map)
	// rather than a prompt: its text is diffed the same way, and every
	// prompt that includes it changes with it.
	Fragment bool
	// Name is the prompt's key in the pull request's pack (the deployed
	// pack's for a removed prompt); From is the old key of a renamed one.
	Name, From string
	// Lines is the unified diff of the template text: hunk headers
	// ("@@ -1,3 +1,4 @@") and lines prefixed with ' ', '+' or '-'.
	Lines []string
	// Added and Removed count the template lines the diff adds and removes.
	Added, Removed int
	// Fields lists what else changed, grouped as reviewers read a prompt
	// (variables, model and parameters, tools, validators, pipeline, the
	// rest) and sorted by path within a group.
	Fields []Field

	// An added or removed prompt keeps its raw JSON (in its pack) instead
	// of Lines and Fields, which are made only when it is shown
	// (DiffLines, FieldChanges): a first deploy adds every prompt, and
	// holding each template again, line by line, cost twice the pack.
	raw   json.RawMessage
	valid bool // raw is known to be valid JSON: read without decoding
	mask  func(string) string
}

// lazy reports whether Lines and Fields are made from raw when asked.
func (p *Prompt) lazy() bool { return p.raw != nil }

// DiffLines is the unified diff of the template text (Lines, made when the
// prompt is added or removed).
func (p *Prompt) DiffLines() []string {
	if !p.lazy() {
		return p.Lines
	}
	text, _ := p.template()
	lines, _, _ := p.unified(text)
	for i := range lines {
		lines[i] = p.masked(lines[i])
	}
	return lines
}

// FieldChanges is what else changed (Fields, made when the prompt is added
// or removed).
func (p *Prompt) FieldChanges() []Field {
	if !p.lazy() {
		return p.Fields
	}
	var fs []Field
	if p.Kind == Added {
		var ok bool
		if fs, ok = scalarFields(p.raw, p.valid); !ok {
			fs = fieldDiff(nil, p.withoutTemplate())
		}
	}
	for i := range fs {
		fs[i].Path, fs[i].Old, fs[i].New = p.masked(fs[i].Path), p.masked(fs[i].Old), p.masked(fs[i].New)
	}
	return fs
}

func (p *Prompt) masked(s string) string {
	if p.mask == nil {
		return s
	}
	return p.mask(s)
}

// template is the prompt's template text, decoded.
func (p *Prompt) template() (string, bool) {
	if p.valid {
		if lit, ok := templateLiteral(p.raw); ok {
			if lit == nil {
				return "", true
			}
			if s, n, ok := jsonwire.Unquote(lit); ok && n == len(lit) {
				return s, true
			}
		}
	}
	return templateOf(decode(p.raw)), true
}

// withoutTemplate is the prompt decoded without its template text: a
// valid prompt's members are decoded one by one, the text skipped.
func (p *Prompt) withoutTemplate() map[string]any {
	if p.valid {
		if m, ok := membersWithoutTemplate(p.raw); ok {
			return m
		}
	}
	return withoutTemplate(decode(p.raw))
}

// unified is the diff of an added or removed prompt's text.
func (p *Prompt) unified(text string) ([]string, int, int) {
	if p.Kind == Added {
		return unified("", text)
	}
	return unified(text, "")
}

// Mask applies m to every text of the diff that comes from a pack (names,
// template lines, field paths and values), now and when the lines and
// fields of added and removed prompts are made.
func (d *Diff) Mask(m func(string) string) {
	fields := func(fs []Field) {
		for i := range fs {
			fs[i].Path, fs[i].Old, fs[i].New = m(fs[i].Path), m(fs[i].Old), m(fs[i].New)
		}
	}
	for i := range d.Prompts {
		p := &d.Prompts[i]
		p.Name, p.From = m(p.Name), m(p.From)
		for j := range p.Lines {
			p.Lines[j] = m(p.Lines[j])
		}
		fields(p.Fields)
		p.mask = m
	}
	fields(d.Pack)
}

// Diff is the semantic difference of two packs.
type Diff struct {
	// Prompts are ordered by importance: edits to deployed prompts first
	// (the biggest first), then removals, additions and renames; by name
	// within a kind.
	Prompts []Prompt
	// Pack lists changes outside the prompts (tools, fragments, metadata,
	// ...). The compilation block is left out: it changes on every build.
	Pack []Field
	// Unchanged counts the prompts that are the same on both sides.
	Unchanged int
}

// Empty reports whether the packs are the same, compilation aside.
func (d *Diff) Empty() bool { return len(d.Prompts) == 0 && len(d.Pack) == 0 }

// Totals sums the template lines added and removed over all prompts.
func (d *Diff) Totals() (added, removed int) {
	for _, p := range d.Prompts {
		added += p.Added
		removed += p.Removed
	}
	return added, removed
}

// ErrNotAPack marks input that is not a JSON object with a prompts map.
var ErrNotAPack = errors.New("not a compiled pack")

// pack is a pack decoded only as far as the diff needs: each prompt stays
// raw until it is known to differ.
type pack struct {
	prompts map[string]json.RawMessage
	rest    map[string]json.RawMessage
}

func parse(data []byte) (*pack, error) {
	p := &pack{}
	if len(bytes.TrimSpace(data)) == 0 {
		return p, nil
	}
	var err error
	if p.rest, err = splitObject(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotAPack, err)
	}
	if raw, ok := p.rest["prompts"]; ok {
		if p.prompts, err = splitObject(raw); err != nil {
			return nil, fmt.Errorf("%w: prompts: %w", ErrNotAPack, err)
		}
		delete(p.rest, "prompts")
	}
	delete(p.rest, "compilation")
	return p, nil
}

// Compare diffs the deployed pack (nil or empty: nothing deployed, so
// everything is added) with the pull request's pack.
func Compare(deployed, proposed []byte) (*Diff, error) {
	return compare(deployed, proposed, false)
}

// CompareValidated is Compare for a pull request's pack known to be valid
// JSON (the action's pack.Parse validated it): what is counted of its new
// prompts is read from their bytes without decoding them.
func CompareValidated(deployed, proposed []byte) (*Diff, error) {
	return compare(deployed, proposed, true)
}

func compare(deployed, proposed []byte, proposedValid bool) (*Diff, error) {
	var oldP, newP *pack
	var oldErr, newErr error
	// The two packs decode in parallel: on a 10 MB pack decoding is most of
	// the time.
	done := make(chan struct{})
	go func() {
		defer close(done)
		oldP, oldErr = parse(deployed)
	}()
	newP, newErr = parse(proposed)
	<-done
	if newErr != nil {
		return nil, fmt.Errorf("the pull request's pack: %w", newErr)
	}
	if oldErr != nil {
		return nil, fmt.Errorf("the deployed pack: %w", oldErr)
	}
	d := &Diff{}
	d.Prompts = fragments(oldP.rest, newP.rest)
	// With nothing deployed every pack field is new: listing them all
	// would bury the prompts, which are what is reviewed.
	if len(oldP.rest) > 0 || len(oldP.prompts) > 0 {
		d.Pack = fieldDiff(decodeMap(oldP.rest), decodeMap(newP.rest))
	}
	var added, removed []string
	for name, raw := range newP.prompts {
		old, ok := oldP.prompts[name]
		switch {
		case !ok:
			added = append(added, name)
		case bytes.Equal(old, raw):
			d.Unchanged++
		default:
			if p, ok := comparePrompt(name, old, raw); ok {
				d.Prompts = append(d.Prompts, p)
			} else {
				d.Unchanged++
			}
		}
	}
	for name := range oldP.prompts {
		if _, ok := newP.prompts[name]; !ok {
			removed = append(removed, name)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	d.Prompts = append(d.Prompts, renames(oldP, newP, &added, &removed)...)
	// One allocation for every prompt a first deploy adds, not a doubling
	// per thousand of them.
	d.Prompts = slices.Grow(d.Prompts, len(removed)+len(added))
	for _, name := range removed {
		raw := oldP.prompts[name]
		d.Prompts = append(d.Prompts, Prompt{Kind: Removed, Name: name, Removed: lineCount(raw, false), raw: raw})
	}
	for _, name := range added {
		raw := newP.prompts[name]
		d.Prompts = append(d.Prompts, Prompt{Kind: Added, Name: name, Added: lineCount(raw, proposedValid), raw: raw, valid: proposedValid})
	}
	sortPrompts(d.Prompts)
	return d, nil
}

// fragments diffs the pack's shared template fragments as text, and takes
// them out of rest (so they are not listed again as pack fields). Values
// that are not strings stay in rest and are compared as fields.
func fragments(oldRest, newRest map[string]json.RawMessage) []Prompt {
	texts := func(rest map[string]json.RawMessage) map[string]string {
		raw, ok := rest["fragments"]
		if !ok {
			return map[string]string{}
		}
		var m map[string]string
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		return m
	}
	a, b := texts(oldRest), texts(newRest)
	if a == nil || b == nil {
		return nil
	}
	delete(oldRest, "fragments")
	delete(newRest, "fragments")
	var out []Prompt
	for name, nt := range b {
		ot, ok := a[name]
		kind := Changed
		if !ok {
			kind = Added
		} else if ot == nt {
			continue
		}
		lines, add, rm := unified(ot, nt)
		out = append(out, Prompt{Kind: kind, Fragment: true, Name: name, Lines: lines, Added: add, Removed: rm})
	}
	for name, ot := range a {
		if _, ok := b[name]; !ok {
			lines, add, rm := unified(ot, "")
			out = append(out, Prompt{Kind: Removed, Fragment: true, Name: name, Lines: lines, Added: add, Removed: rm})
		}
	}
	return out
}

// comparePrompt diffs one prompt present on both sides; ok is false when
// the two differ only in formatting.
func comparePrompt(name string, oldRaw, newRaw json.RawMessage) (Prompt, bool) {
	old, cur := decode(oldRaw), decode(newRaw)
	lines, a, r := unified(templateOf(old), templateOf(cur))
	fields := fieldDiff(withoutTemplate(old), withoutTemplate(cur))
	if len(lines) == 0 && len(fields) == 0 {
		return Prompt{}, false
	}
	return Prompt{Kind: Changed, Name: name, Lines: lines, Added: a, Removed: r, Fields: fields}, true
}

// renames pairs removed and added prompts whose content is the same apart
// from their id and name, and takes them out of both lists.
func renames(oldP, newP *pack, added, removed *[]string) []Prompt {
	if len(*added) == 0 || len(*removed) == 0 {
		return nil
	}
	byContent := map[string][]string{}
	for _, name := range *removed {
		k := contentKey(decode(oldP.prompts[name]))
		byContent[k] = append(byContent[k], name)
	}
	var out []Prompt
	var stillAdded []string
	gone := map[string]bool{}
	for _, name := range *added {
		cur := decode(newP.prompts[name])
		k := contentKey(cur)
		if from := byContent[k]; len(from) > 0 {
			byContent[k] = from[1:]
			gone[from[0]] = true
			old := decode(oldP.prompts[from[0]])
			out = append(out, Prompt{Kind: Renamed, Name: name, From: from[0], Fields: fieldDiff(withoutTemplate(old), withoutTemplate(cur))})
			continue
		}
		stillAdded = append(stillAdded, name)
	}
	var stillRemoved []string
	for _, name := range *removed {
		if !gone[name] {
			stillRemoved = append(stillRemoved, name)
		}
	}
	*added, *removed = stillAdded, stillRemoved
	return out
}

// contentKey is a prompt's canonical JSON without its identity fields.
func contentKey(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return compact(v)
	}
	c := make(map[string]any, len(m))
	for k, x := range m {
		if k != "id" && k != "name" {
			c[k] = x
		}
	}
	return compact(c)
}

func kindRank(k Kind) int {
	switch k {
	case Changed:
		return 0
	case Removed:
		return 1
	case Added:
		return 2
	}
	return 3
}

func sortPrompts(ps []Prompt) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if kindRank(a.Kind) != kindRank(b.Kind) {
			return kindRank(a.Kind) < kindRank(b.Kind)
		}
		if a.Fragment != b.Fragment {
			return a.Fragment // a fragment changes every prompt that uses it
		}
		if a.Kind == Changed {
			sa, sb := a.Added+a.Removed+len(a.Fields), b.Added+b.Removed+len(b.Fields)
			if sa != sb {
				return sa > sb
			}
		}
		return a.Name < b.Name
	})
}

// decode reads JSON keeping numbers as written.
func decode(raw json.RawMessage) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return string(raw) // unreachable for validated input; shown as is
	}
	return v
}

func decodeMap(m map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(m))
	for k, raw := range m {
		out[k] = decode(raw)
	}
	return out
}

func templateOf(v any) string {
	if m, ok := v.(map[string]any); ok {
		if s, ok := m[TemplateField].(string); ok {
			return s
		}
	}
	return ""
}

// withoutTemplate is the prompt without its template text (diffed apart);
// a template that is not a string stays, so it is still compared.
func withoutTemplate(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return map[string]any{"(prompt)": v}
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if _, isText := x.(string); k == TemplateField && isText {
			continue
		}
		out[k] = x
	}
	return out
}

// compact is JSON without HTML escaping, keys sorted.
func compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimRight(b.String(), "\n")
}

// --- fields

// groups order a prompt's fields as a reviewer reads them; keys not listed
// come last, by name.
var groups = [][]string{
	{"variables"},
	{"model", "parameters", "model_overrides", "tested_models"},
	{"tools", "tool_policy"},
	{"validators"},
	{"pipeline"},
	{"media"},
}

func groupRank(path string) int {
	top := path
	if i := strings.IndexAny(path, ".["); i >= 0 {
		top = path[:i]
	}
	for i, g := range groups {
		for _, k := range g {
			if k == top {
				return i
			}
		}
	}
	return len(groups)
}

// fieldDiff lists the leaves that differ between two objects. A named
// element (a variable) present on one side only is one field, not one per
// leaf.
func fieldDiff(old, cur map[string]any) []Field {
	a, b := map[string]string{}, map[string]string{}
	ea, eb := map[string]string{}, map[string]string{}
	for k, v := range old {
		flatten(k, v, a, ea)
	}
	for k, v := range cur {
		flatten(k, v, b, eb)
	}
	onlyA, onlyB := only(ea, eb), only(eb, ea)
	var out []Field
	for _, e := range topmost(onlyA) {
		out = append(out, Field{Path: e, Old: ea[e]})
	}
	for _, e := range topmost(onlyB) {
		out = append(out, Field{Path: e, New: eb[e]})
	}
	for p, v := range a {
		if under(p, onlyA) {
			continue
		}
		if w, ok := b[p]; !ok || w != v {
			out = append(out, Field{Path: p, Old: v, New: w})
		}
	}
	for p, w := range b {
		if under(p, onlyB) {
			continue
		}
		if _, ok := a[p]; !ok {
			out = append(out, Field{Path: p, New: w})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := groupRank(out[i].Path), groupRank(out[j].Path)
		if ri != rj {
			return ri < rj
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// only is the keys of x missing from y.
func only(x, y map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range x {
		if _, ok := y[k]; !ok {
			out[k] = true
		}
	}
	return out
}

// under reports whether path lies inside one of the elements.
func under(path string, elems map[string]bool) bool {
	for i := range len(path) {
		if (path[i] == '.' || path[i] == '[') && elems[path[:i]] {
			return true
		}
	}
	return elems[path]
}

// topmost is the elements not inside another of them.
func topmost(elems map[string]bool) []string {
	var out []string
	for e := range elems {
		if !under(e[:strings.LastIndexByte(e, '[')], elems) {
			out = append(out, e)
		}
	}
	return out
}

// flatten maps a value to path → compact JSON leaves. Objects recurse by
// key; arrays of objects that each carry a distinct "name" (variables,
// middleware) recurse by that name, so one variable's change is one line;
// other arrays are one leaf.
func flatten(path string, v any, out, elems map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			out[path] = "{}"
			return
		}
		for k, y := range x {
			flatten(path+"."+k, y, out, elems)
		}
	case []any:
		if names, ok := namedElements(x); ok {
			for i, y := range x {
				p := path + "[" + names[i] + "]"
				elems[p] = compact(y)
				flatten(p, y, out, elems)
			}
			return
		}
		out[path] = compact(x)
	default:
		out[path] = compact(x)
	}
}

func namedElements(xs []any) ([]string, bool) {
	if len(xs) == 0 {
		return nil, false
	}
	names := make([]string, len(xs))
	seen := map[string]bool{}
	for i, x := range xs {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		n, ok := m["name"].(string)
		if !ok || n == "" || seen[n] {
			return nil, false
		}
		seen[n], names[i] = true, n
	}
	return names, true
}
