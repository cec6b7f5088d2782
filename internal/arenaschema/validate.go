package arenaschema

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one place where a file breaks its schema.
type Problem struct {
	File         string // as the user names it (relative to the repository)
	Line, Column int    // 1-based; 0 when the file has no such place
	Path         string // where in the document: spec.providers[0].file
	Message      string
}

// String is "file:line:col: path: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Validate checks one file's YAML against kind's schema and returns every
// problem, as promptarena would refuse the file ("schema validation
// failed"). Like promptarena, it reads the first YAML document only.
func Validate(kind Kind, file string, data []byte) ([]Problem, error) {
	l, err := load()
	if err != nil {
		return nil, err
	}
	return l.validate(kind, file, data)
}

func (l *loaded) validate(kind Kind, file string, data []byte) ([]Problem, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.roots[kind]
	if !ok {
		return nil, fmt.Errorf("arenaschema: no schema for %q", kind)
	}
	s, err := r.compile("")
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return []Problem{{File: file, Message: "not valid YAML: " + err.Error()}}, nil
	}
	v := &validator{file: file}
	var top *yaml.Node
	if len(doc.Content) > 0 {
		top = doc.Content[0]
	}
	// First what promptarena's conversion to JSON refuses, anywhere in
	// the document (even where the schema allows anything); then the
	// schema, on a document that converts.
	v.convertible(top, "", map[*yaml.Node]bool{})
	if len(v.problems) > 0 {
		return v.problems, nil
	}
	v.quiet = true // conversion problems are reported above, once
	v.check(s, top, "")
	sort.SliceStable(v.problems, func(i, j int) bool {
		a, b := v.problems[i], v.problems[j]
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	return v.problems, nil
}

type validator struct {
	file     string
	problems []Problem
	quiet    bool // do not report conversion problems
}

// convertible reports what makes the document impossible to convert to
// JSON the way promptarena does (yaml.v3 into interface{}, then
// encoding/json): a key that is not a string, a key given twice, a merge
// of something not a mapping, an infinite or NaN number.
func (v *validator) convertible(n *yaml.Node, path string, seen map[*yaml.Node]bool) {
	n = deref(n)
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.MappingNode:
		entries, _ := v.entries(n, path)
		for _, e := range entries {
			v.convertible(e[1], join(path, e[0].Value), seen)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			v.convertible(c, fmt.Sprintf("%s[%d]", path, i), seen)
		}
	case yaml.ScalarNode:
		v.jsonType(n, path)
	}
}

// unconvertible adds a problem of the conversion to JSON, unless those
// were reported already.
func (v *validator) unconvertible(n *yaml.Node, path, format string, args ...any) {
	if !v.quiet {
		v.add(n, path, format, args...)
	}
}

func (v *validator) add(n *yaml.Node, path, format string, args ...any) {
	p := Problem{File: v.file, Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	v.problems = append(v.problems, p)
}

// jsonType is the JSON type the node becomes when promptarena converts
// the YAML to JSON (yaml.v3 into interface{}, then encoding/json): "" and a
// problem when it cannot be converted, which promptarena refuses too.
func (v *validator) jsonType(n *yaml.Node, path string) (string, bool) {
	switch {
	case n == nil:
		return "null", true
	case n.Kind == yaml.MappingNode:
		return "object", true
	case n.Kind == yaml.SequenceNode:
		return "array", true
	}
	switch n.ShortTag() {
	case "!!null":
		return "null", true
	case "!!bool":
		return "boolean", true
	case "!!int":
		return "integer", true
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			switch strings.ToLower(strings.TrimLeft(n.Value, "+-")) {
			case ".inf", ".nan":
				v.unconvertible(n, path, "%s cannot be written in JSON, so promptarena cannot read it", n.Value)
				return "", false
			}
			return "number", true
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			v.unconvertible(n, path, "%s cannot be written in JSON, so promptarena cannot read it", n.Value)
			return "", false
		}
		if f == math.Trunc(f) {
			return "integer", true // 1.0 is 1 in JSON, an integer to gojsonschema
		}
		return "number", true
	}
	// !!str, !!timestamp and !!binary all become JSON strings.
	return "string", true
}

// entries are a mapping's key/value pairs as yaml.v3 decodes them: merge
// keys (<<) expanded, explicit keys first. A key that is not a string, or
// one given twice, makes the file unreadable to promptarena.
func (v *validator) entries(n *yaml.Node, path string) ([][2]*yaml.Node, bool) {
	var out [][2]*yaml.Node
	seen := map[string]*yaml.Node{}
	ok := true
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], deref(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, val)
			continue
		}
		key := deref(k)
		if key.Kind != yaml.ScalarNode || key.ShortTag() != "!!str" {
			v.unconvertible(k, path, "the key %s is not a string, so promptarena cannot read this mapping (quote it)", describeKey(key))
			ok = false
			continue
		}
		if first, dup := seen[key.Value]; dup {
			v.unconvertible(k, path, "mapping key %q already defined at line %d", key.Value, first.Line)
			ok = false
			continue
		}
		seen[key.Value] = k
		out = append(out, [2]*yaml.Node{key, val})
	}
	for _, m := range merges {
		var maps []*yaml.Node
		switch m.Kind {
		case yaml.MappingNode:
			maps = []*yaml.Node{m}
		case yaml.SequenceNode:
			for _, c := range m.Content {
				maps = append(maps, deref(c))
			}
		}
		for _, mm := range maps {
			if mm.Kind != yaml.MappingNode {
				v.unconvertible(mm, path, "a merge (<<) must name a mapping")
				ok = false
				continue
			}
			sub, subOK := v.entries(mm, path)
			ok = ok && subOK
			for _, e := range sub {
				if _, there := seen[e[0].Value]; !there {
					seen[e[0].Value] = e[0]
					out = append(out, e)
				}
			}
		}
	}
	return out, ok
}

func describeKey(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "here"
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// check validates node n (nil: null) against s, adding problems.
func (v *validator) check(s *schema, n *yaml.Node, path string) {
	n = deref(n)
	for s.ref != nil {
		s = s.ref
	}
	if s.typ == "never" {
		v.add(n, path, "nothing is allowed here")
		return
	}
	t, ok := v.jsonType(n, path)
	if !ok {
		return
	}
	if s.typ != "" && t != s.typ && !(s.typ == "number" && t == "integer") {
		v.add(n, path, "invalid type: expected %s, given %s", s.typ, t)
		return
	}
	if s.hasEnum && (t != "string" || !contains(s.enum, n.Value)) {
		v.add(n, path, "must be one of: %s", strings.Join(s.enum, ", "))
	}
	if s.format == "uri" && t == "string" && !isURI(n.Value) {
		v.add(n, path, "does not match format 'uri' (an absolute URI)")
	}
	if len(s.anyOf) > 0 && !v.matchesAny(s.anyOf, n, path) {
		v.add(n, path, "must validate at least one schema (anyOf)")
	}
	if len(s.oneOf) > 0 {
		if matched := v.countMatches(s.oneOf, n, path); matched != 1 {
			v.add(n, path, "must validate one and only one schema (oneOf): %s", alternatives(s.oneOf, matched))
		}
	}
	switch t {
	case "object":
		v.object(s, n, path)
	case "array":
		if s.items != nil {
			for i, c := range n.Content {
				v.check(s.items, c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
}

func (v *validator) object(s *schema, n *yaml.Node, path string) {
	entries, ok := v.entries(n, path)
	if !ok {
		return
	}
	present := map[string]bool{}
	for _, e := range entries {
		name := e[0].Value
		present[name] = true
		sub := join(path, name)
		switch ps, known := s.props[name]; {
		case known:
			v.check(ps, e[1], sub)
		case s.addlFalse:
			v.add(e[0], path, "additional property %s is not allowed%s", name, suggest(name, s.propOrder))
		case s.addl != nil:
			v.check(s.addl, e[1], sub)
		}
	}
	for _, r := range s.required {
		if !present[r] {
			v.add(n, path, "%s is required", r)
		}
	}
}

// matchesAny: some schema accepts n (problems of the tries are dropped).
func (v *validator) matchesAny(ss []*schema, n *yaml.Node, path string) bool {
	for _, s := range ss {
		if v.accepts(s, n, path) {
			return true
		}
	}
	return false
}

func (v *validator) countMatches(ss []*schema, n *yaml.Node, path string) int {
	c := 0
	for _, s := range ss {
		if v.accepts(s, n, path) {
			c++
		}
	}
	return c
}

func (v *validator) accepts(s *schema, n *yaml.Node, path string) bool {
	try := &validator{file: v.file}
	try.check(s, n, path)
	return len(try.problems) == 0
}

// alternatives says what a oneOf wants: "Regular conversation scenario
// (task_type, turns) or Workflow scenario (pack, steps)".
func alternatives(ss []*schema, matched int) string {
	var parts []string
	for _, s := range ss {
		for s.ref != nil {
			s = s.ref
		}
		p := s.description
		if len(s.required) > 0 {
			p = strings.TrimSpace(p + " (" + strings.Join(s.required, ", ") + ")")
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	what := "it matches none"
	if matched > 1 {
		what = fmt.Sprintf("it matches %d", matched)
	}
	if len(parts) == 0 {
		return what
	}
	return what + "; give exactly one of: " + strings.Join(parts, " or ")
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isURI is gojsonschema's URIFormatChecker: it parses, has a scheme, and
// holds no backslash.
func isURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && !strings.Contains(s, `\`)
}

// suggest names the allowed property closest to a misspelt one.
func suggest(name string, allowed []string) string {
	best, bestD := "", len(name)/2+1
	for _, a := range allowed {
		if d := distance(strings.ToLower(name), strings.ToLower(a)); d < bestD {
			best, bestD = a, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
