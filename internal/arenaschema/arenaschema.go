// Package arenaschema checks arena files against promptarena's published
// JSON schemas (v1alpha1, vendored under schemas/ with their licence and
// commit), as promptarena does before it deploys: arena.yaml, and the
// prompt configs, scenarios, evals, providers and YAML tools it references.
// A pack the action plans is then one the user's own CLI accepts.
//
// promptarena validates with gojsonschema, the YAML converted to JSON. The
// schemas use a handful of keywords (type, properties, required,
// additionalProperties, items, enum, anyOf, oneOf, $ref into $defs, and
// format uri); this package implements exactly those, with gojsonschema's
// semantics, over the YAML's nodes, so every problem has its file, line and
// column. A JSON-schema library would cost the image 0.7 MB (santhosh-tekuri
// /jsonschema) to 4 MB (gojsonschema) of its 9 MB; TestAgreesWithGojsonschema
// checks the verdicts against gojsonschema itself.
package arenaschema

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"weak"
)

// SchemaCommit is the promptarena commit the schemas come from.
const SchemaCommit = "e90d58d66e3ec16700cb8d025ced9eb50f760046"

// Kind is a kind of arena file, named as promptarena's schema files are.
type Kind string

// The kinds promptarena validates when it loads an arena for deploy
// (arenaconfig.LoadConfig). Personas are checked by code, not a schema.
const (
	Arena        Kind = "arena"
	PromptConfig Kind = "promptconfig"
	Scenario     Kind = "scenario"
	Eval         Kind = "eval"
	Provider     Kind = "provider"
	Tool         Kind = "tool"
)

// Kinds are the kinds bundled, in the bundle's order.
var Kinds = []Kind{Arena, PromptConfig, Scenario, Eval, Provider, Tool}

// bundle is the gzip of one JSON object holding each kind's schema
// (schemas/v1alpha1/<kind>.json): 22 KB instead of 186 KB in the binary.
//
//go:embed bundle.json.gz
var bundle []byte

// loaded is the bundle parsed, with the subschemas compiled so far. It is
// kept while something uses it (Check holds it for its files) and then
// only weakly: a run checks its project once, and the parsed bundle and
// compiled schemas (1.5 MB) stayed live under the pack diff and the
// artifact, which set the run's peak memory. A later check parses again
// (8 ms) if it was collected.
type loaded struct {
	mu    sync.Mutex // held while validating: subschemas compile on first use
	roots map[Kind]*root
}

var (
	loadMu sync.Mutex
	cache  weak.Pointer[loaded]
)

// root is one schema document: its raw JSON and the subschemas compiled
// from it, by JSON pointer (a $ref's target is compiled once, and cycles
// through $defs end at the placeholder).
type root struct {
	doc      any
	compiled map[string]*schema
}

// load returns the parsed bundle: the one in use, or parsed again.
func load() (*loaded, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	if l := cache.Value(); l != nil {
		return l, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(bundle))
	if err != nil {
		return nil, fmt.Errorf("arenaschema: bundle: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("arenaschema: bundle: %w", err)
	}
	var docs map[Kind]any
	if err := json.Unmarshal(raw, &docs); err != nil {
		return nil, fmt.Errorf("arenaschema: bundle: %w", err)
	}
	l := &loaded{roots: map[Kind]*root{}}
	for k, d := range docs {
		l.roots[k] = &root{doc: d, compiled: map[string]*schema{}}
	}
	cache = weak.Make(l)
	return l, nil
}

// schema is a compiled (sub)schema: only the keywords the v1alpha1
// schemas use. Annotations (title, description, examples, default) do not
// take part in validation.
type schema struct {
	typ         string // "" accepts any type
	props       map[string]*schema
	propOrder   []string // the schema's order, for messages
	required    []string
	addl        *schema // schema of properties not in props
	addlFalse   bool    // additionalProperties: false
	items       *schema
	enum        []string // every enum of v1alpha1 lists strings
	hasEnum     bool
	anyOf       []*schema
	oneOf       []*schema
	format      string
	description string
	ref         *schema // $ref's target (draft 7: its siblings are ignored)
}

// compile returns the subschema at pointer (a JSON pointer into the
// root's document, "" for the root).
func (r *root) compile(pointer string) (*schema, error) {
	if s, ok := r.compiled[pointer]; ok {
		return s, nil
	}
	node, err := resolvePointer(r.doc, pointer)
	if err != nil {
		return nil, err
	}
	s := &schema{}
	r.compiled[pointer] = s // before the children: $defs may recurse
	m, ok := node.(map[string]any)
	if !ok {
		if b, isBool := node.(bool); isBool && !b {
			s.addlFalse, s.typ = true, "never"
			return s, nil
		}
		return s, nil // true, or anything else: accepts all
	}
	if ref, ok := m["$ref"].(string); ok {
		target, found := strings.CutPrefix(ref, "#")
		if !found {
			return nil, fmt.Errorf("arenaschema: only local $ref is supported, not %q", ref)
		}
		if s.ref, err = r.compile(target); err != nil {
			return nil, err
		}
		return s, nil
	}
	s.typ, _ = m["type"].(string)
	s.format, _ = m["format"].(string)
	s.description, _ = m["description"].(string)
	if props, ok := m["properties"].(map[string]any); ok {
		s.props = map[string]*schema{}
		for name := range props {
			if s.props[name], err = r.compile(pointer + "/properties/" + escapePointer(name)); err != nil {
				return nil, err
			}
		}
		s.propOrder = sortedKeys(props)
	}
	for _, v := range asList(m["required"]) {
		if name, ok := v.(string); ok {
			s.required = append(s.required, name)
		}
	}
	switch a := m["additionalProperties"].(type) {
	case bool:
		s.addlFalse = !a
	case map[string]any:
		if s.addl, err = r.compile(pointer + "/additionalProperties"); err != nil {
			return nil, err
		}
	}
	if _, ok := m["items"].(map[string]any); ok {
		if s.items, err = r.compile(pointer + "/items"); err != nil {
			return nil, err
		}
	}
	if e, ok := m["enum"].([]any); ok {
		s.hasEnum = true
		for _, v := range e {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("arenaschema: %s: enum value %v is not a string", pointer, v)
			}
			s.enum = append(s.enum, str)
		}
	}
	for kw, dst := range map[string]*[]*schema{"anyOf": &s.anyOf, "oneOf": &s.oneOf} {
		for i := range asList(m[kw]) {
			sub, err := r.compile(fmt.Sprintf("%s/%s/%d", pointer, kw, i))
			if err != nil {
				return nil, err
			}
			*dst = append(*dst, sub)
		}
	}
	return s, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// resolvePointer finds the value at a JSON pointer ("/$defs/Config").
func resolvePointer(doc any, pointer string) (any, error) {
	if pointer == "" {
		return doc, nil
	}
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("arenaschema: no %q in the schema", pointer)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("arenaschema: no %q in the schema", pointer)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("arenaschema: no %q in the schema", pointer)
		}
	}
	return cur, nil
}
