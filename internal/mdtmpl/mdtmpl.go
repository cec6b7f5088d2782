// Package mdtmpl renders the report templates: a subset of text/template's
// syntax (fields, if / else if / else, with, range, and the {{- -}} trim
// markers), over structs, pointers and slices, with no functions and no
// method calls.
//
// Why not text/template: it can call any method by name, so a program that
// links it keeps every exported method of every type it can reach. Here
// that was 988 go-github service methods and 3,319 accessors: 3.66 MB of
// the 12.6 MB action binary (measured: 12,636,322 → 8,974,498 bytes). The
// templates never call a method, so this renderer keeps them as they are
// and gives the bytes back. Its output is text/template's for the same
// template and data (tested on every template with the goldens' data).
package mdtmpl

import (
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"unicode"
)

// Set is a set of parsed templates by file name.
type Set map[string]*node

// ParseFS parses every file matching pattern in fsys; it panics on an
// error, as template.Must does: templates are part of the program.
func ParseFS(fsys fs.FS, pattern string) Set {
	names, err := fs.Glob(fsys, pattern)
	if err != nil || len(names) == 0 {
		panic(fmt.Sprintf("mdtmpl: no templates match %s: %v", pattern, err))
	}
	set := Set{}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		base := name[strings.LastIndex(name, "/")+1:]
		t, err := Parse(string(raw))
		if err != nil {
			panic(fmt.Sprintf("mdtmpl: %s: %v", base, err))
		}
		set[base] = t
	}
	return set
}

// ExecuteTemplate renders the template name with data into w.
func (s Set) ExecuteTemplate(w io.Writer, name string, data any) error {
	t, ok := s[name]
	if !ok {
		return fmt.Errorf("mdtmpl: no template %q", name)
	}
	var sb strings.Builder
	if err := t.exec(&sb, reflect.ValueOf(data)); err != nil {
		return fmt.Errorf("mdtmpl: %s: %w", name, err)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

type kind int

const (
	kList  kind = iota // children in order
	kText              // text
	kField             // {{.A.B}}
	kIf                // {{if}} / {{with}} / {{range}}: cond path, body, alt
	kWith
	kRange
)

type node struct {
	kind  kind
	text  string
	path  []string // field names; empty is dot
	body  *node
	alt   *node // else branch (a list, or a nested if for else if)
	nodes []*node
}

// token is text or an action, with its trim markers.
type token struct {
	text      string
	action    bool
	trimLeft  bool // {{-
	trimRight bool // -}}
}

func lex(src string) ([]token, error) {
	var toks []token
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			toks = append(toks, token{text: src})
			return toks, nil
		}
		toks = append(toks, token{text: src[:i]})
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed action at %q", preview(src[i:]))
		}
		a := src[i+2 : i+j]
		t := token{action: true}
		if strings.HasPrefix(a, "- ") {
			t.trimLeft, a = true, a[2:]
		}
		if strings.HasSuffix(a, " -") {
			t.trimRight, a = true, a[:len(a)-2]
		}
		t.text = strings.TrimSpace(a)
		toks = append(toks, t)
		src = src[i+j+2:]
	}
}

// Parse parses one template.
func Parse(src string) (*node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	// Apply trim markers to the neighbouring text, as text/template does.
	for i := range toks {
		if !toks[i].action {
			continue
		}
		if toks[i].trimLeft && i > 0 {
			toks[i-1].text = strings.TrimRightFunc(toks[i-1].text, unicode.IsSpace)
		}
		if toks[i].trimRight && i+1 < len(toks) {
			toks[i+1].text = strings.TrimLeftFunc(toks[i+1].text, unicode.IsSpace)
		}
	}
	p := &parser{toks: toks}
	root, end, err := p.list()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, fmt.Errorf("unexpected {{%s}}", end)
	}
	return root, nil
}

type parser struct {
	toks []token
	pos  int
}

// list parses until {{end}}, {{else…}} or the end; it returns what stopped it.
func (p *parser) list() (*node, string, error) {
	n := &node{kind: kList}
	for p.pos < len(p.toks) {
		t := p.toks[p.pos]
		p.pos++
		if !t.action {
			if t.text != "" {
				n.nodes = append(n.nodes, &node{kind: kText, text: t.text})
			}
			continue
		}
		word, rest, _ := strings.Cut(t.text, " ")
		switch word {
		case "end", "else":
			return n, t.text, nil
		case "if", "with", "range":
			c, err := p.control(word, rest)
			if err != nil {
				return nil, "", err
			}
			n.nodes = append(n.nodes, c)
		default:
			path, err := parsePath(t.text)
			if err != nil {
				return nil, "", err
			}
			n.nodes = append(n.nodes, &node{kind: kField, path: path})
		}
	}
	return n, "", nil
}

func (p *parser) control(word, arg string) (*node, error) {
	path, err := parsePath(strings.TrimSpace(arg))
	if err != nil {
		return nil, fmt.Errorf("{{%s %s}}: %w", word, arg, err)
	}
	n := &node{kind: map[string]kind{"if": kIf, "with": kWith, "range": kRange}[word], path: path}
	body, stop, err := p.list()
	if err != nil {
		return nil, err
	}
	n.body = body
	switch {
	case stop == "end":
		return n, nil
	case stop == "else":
		alt, stop, err := p.list()
		if err != nil {
			return nil, err
		}
		if stop != "end" {
			return nil, fmt.Errorf("{{%s}} without {{end}}", word)
		}
		n.alt = alt
		return n, nil
	case strings.HasPrefix(stop, "else if ") && word == "if":
		// {{else if .X}} is an if nested in the else branch, sharing the end.
		nested, err := p.control("if", strings.TrimPrefix(stop, "else if "))
		if err != nil {
			return nil, err
		}
		n.alt = &node{kind: kList, nodes: []*node{nested}}
		return n, nil
	}
	return nil, fmt.Errorf("{{%s %s}} without {{end}}", word, arg)
}

// parsePath accepts "." and ".A.B": no functions, pipelines or variables.
func parsePath(s string) ([]string, error) {
	if s == "." {
		return nil, nil
	}
	if !strings.HasPrefix(s, ".") || strings.ContainsAny(s, " |$()\"") {
		return nil, fmt.Errorf("unsupported action {{%s}}: only fields, if, with and range", s)
	}
	return strings.Split(s[1:], "."), nil
}

func (n *node) exec(w *strings.Builder, dot reflect.Value) error {
	switch n.kind {
	case kList:
		for _, c := range n.nodes {
			if err := c.exec(w, dot); err != nil {
				return err
			}
		}
	case kText:
		w.WriteString(n.text)
	case kField:
		v, err := field(dot, n.path)
		if err != nil {
			return err
		}
		if v.IsValid() {
			v = indirect(v)
			if v.IsValid() {
				fmt.Fprint(w, v.Interface())
			} else {
				w.WriteString("<nil>")
			}
		} else {
			w.WriteString("<no value>")
		}
	case kIf, kWith, kRange:
		v, err := field(dot, n.path)
		if err != nil {
			return err
		}
		if n.kind == kRange {
			// As text/template: anything that cannot be iterated is an
			// error, even when empty; nothing at all runs the else.
			var items []reflect.Value
			if v = indirect(v); v.IsValid() {
				if items, err = elements(v); err != nil {
					return err
				}
			}
			for _, item := range items {
				if err := n.body.exec(w, item); err != nil {
					return err
				}
			}
			if len(items) == 0 && n.alt != nil {
				return n.alt.exec(w, dot)
			}
			return nil
		}
		switch {
		case n.kind == kWith && truth(v):
			return n.body.exec(w, v)
		case n.kind == kIf && truth(v):
			return n.body.exec(w, dot)
		case n.alt != nil:
			return n.alt.exec(w, dot)
		}
	}
	return nil
}

// field follows path from dot, through pointers, interfaces and struct
// fields (never methods).
func field(dot reflect.Value, path []string) (reflect.Value, error) {
	v := dot
	for _, name := range path {
		if !v.IsValid() {
			return v, nil // a missing map key: "<no value>", as text/template
		}
		v = indirect(v)
		if !v.IsValid() {
			return reflect.Value{}, fmt.Errorf("nil pointer evaluating .%s", name)
		}
		switch v.Kind() {
		case reflect.Struct:
			f := v.FieldByName(name)
			if !f.IsValid() {
				return reflect.Value{}, fmt.Errorf("can't evaluate field %s in type %s", name, v.Type())
			}
			v = f
		case reflect.Map:
			v = v.MapIndex(reflect.ValueOf(name))
		default:
			return reflect.Value{}, fmt.Errorf("can't evaluate field %s in type %s", name, v.Type())
		}
	}
	return v, nil
}

// elements are what range visits: a slice's or array's items, a map's
// values in key order, 0..n-1 for an integer.
func elements(v reflect.Value) ([]reflect.Value, error) {
	var out []reflect.Value
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			out = append(out, v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			out = append(out, v.MapIndex(k))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		for i := int64(0); i < v.Int(); i++ {
			out = append(out, reflect.ValueOf(int(i)))
		}
	default:
		return nil, fmt.Errorf("range can't iterate over %v", v)
	}
	return out, nil
}

func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// truth is text/template's: the zero value, an empty collection and a nil
// pointer are false.
func truth(v reflect.Value) bool {
	for v.IsValid() && v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil()
	case reflect.Bool:
		return v.Bool()
	case reflect.Struct:
		return true
	default:
		return !v.IsZero()
	}
}

func preview(s string) string {
	if len(s) > 30 {
		return s[:30] + "…"
	}
	return s
}

// valueOf is reflect.ValueOf, for tests that run a node directly.
func valueOf(v any) reflect.Value { return reflect.ValueOf(v) }
