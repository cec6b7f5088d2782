package workflowtest

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/ghexpr"
)

// combo is one matrix combination, its keys in the order GitHub shows
// them in the job's name.
type combo struct {
	keys []string
	vals map[string]any
}

func (c combo) set(k string, v any) combo {
	if _, ok := c.vals[k]; !ok {
		c.keys = append(c.keys, k)
	}
	c.vals[k] = v
	return c
}

func (c combo) clone() combo {
	out := combo{keys: append([]string(nil), c.keys...), vals: make(map[string]any, len(c.vals))}
	for k, v := range c.vals {
		out.vals[k] = v
	}
	return out
}

// name is what GitHub appends to a matrix job's name: its values.
func (c combo) name() string {
	parts := make([]string, len(c.keys))
	for i, k := range c.keys {
		parts[i] = scalarString(c.vals[k])
	}
	return strings.Join(parts, ", ")
}

// expandMatrix evaluates a matrix as GitHub documents it: the product of
// its vectors (the first key varies slowest), less every combination an
// `exclude` entry matches, then each `include` entry added to every
// original combination whose original values it does not change, or as a
// combination of its own when it fits none.
func expandMatrix(n *yaml.Node, env *ghexpr.Env) ([]combo, error) {
	if n.Kind == yaml.ScalarNode {
		v, err := ghexpr.Value(n.Value, env)
		if err != nil {
			return nil, fmt.Errorf("matrix: %w", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("matrix: %q is %T, not an object", n.Value, v)
		}
		return expand(sortedEntries(m), nil)
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("matrix: want a mapping or an expression")
	}
	var entries []entry
	var order [][]string // each YAML include entry's keys, as written
	for k, v := range pairs(n) {
		val, err := nodeValue(v, env)
		if err != nil {
			return nil, fmt.Errorf("matrix.%s: %w", k, err)
		}
		entries = append(entries, entry{k, val})
		if k == "include" && v.Kind == yaml.SequenceNode {
			for _, el := range v.Content {
				var keys []string
				for ik := range pairs(el) {
					keys = append(keys, ik)
				}
				order = append(order, keys)
			}
		}
	}
	return expand(entries, order)
}

type entry struct {
	key string
	val any
}

func sortedEntries(m map[string]any) []entry {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]entry, len(keys))
	for i, k := range keys {
		out[i] = entry{k, m[k]}
	}
	return out
}

func expand(entries []entry, order [][]string) ([]combo, error) {
	var include, exclude []any
	var vectors []entry
	for _, e := range entries {
		switch e.key {
		case "include", "exclude":
			list, ok := e.val.([]any)
			if !ok && e.val != nil {
				return nil, fmt.Errorf("matrix.%s is %T, not a list", e.key, e.val)
			}
			if e.key == "include" {
				include = list
			} else {
				exclude = list
			}
		default:
			list, ok := e.val.([]any)
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("matrix vector %q does not contain any values", e.key)
			}
			vectors = append(vectors, entry{e.key, list})
		}
	}
	var combos []combo
	if len(vectors) > 0 {
		combos = []combo{{vals: map[string]any{}}}
		for _, v := range vectors {
			var next []combo
			for _, c := range combos {
				for _, val := range v.val.([]any) {
					next = append(next, c.clone().set(v.key, val))
				}
			}
			combos = next
		}
	}
	original := map[string]bool{}
	for _, v := range vectors {
		original[v.key] = true
	}
	kept := combos[:0]
	for _, c := range combos {
		drop := false
		for _, ex := range exclude {
			m, ok := ex.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("matrix.exclude entries are objects")
			}
			if matches(c, m) {
				drop = true
				break
			}
		}
		if !drop {
			kept = append(kept, c)
		}
	}
	combos = kept
	base := len(combos)
	for i, in := range include {
		m, ok := in.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("matrix.include entries are objects")
		}
		keys := sortedKeys(m)
		if i < len(order) && len(order[i]) == len(m) {
			keys = order[i]
		}
		added := false
		for j := 0; j < base; j++ {
			fits := true
			for _, k := range keys {
				if original[k] && !reflect.DeepEqual(combos[j].vals[k], m[k]) {
					fits = false
				}
			}
			if fits {
				for _, k := range keys {
					if !original[k] {
						combos[j] = combos[j].set(k, m[k])
					}
				}
				added = true
			}
		}
		if !added {
			c := combo{vals: map[string]any{}}
			for _, k := range keys {
				c = c.set(k, m[k])
			}
			combos = append(combos, c)
		}
	}
	if len(combos) == 0 {
		return nil, fmt.Errorf("the matrix has no combinations")
	}
	if len(combos) > 256 {
		return nil, fmt.Errorf("the matrix has %d combinations; GitHub allows 256", len(combos))
	}
	return combos, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func matches(c combo, m map[string]any) bool {
	for k, v := range m {
		if !reflect.DeepEqual(c.vals[k], v) {
			return false
		}
	}
	return true
}

// nodeValue turns a YAML node into an expression value: scalars keep their
// YAML type (numbers are float64), strings are evaluated (`${{ … }}`).
func nodeValue(n *yaml.Node, env *ghexpr.Env) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int", "!!float":
			f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err != nil {
				return n.Value, nil
			}
			return f, nil
		case "!!bool":
			return n.Value == "true", nil
		case "!!null":
			return nil, nil
		}
		return ghexpr.Value(n.Value, env)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c, env)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		for k, c := range pairs(n) {
			v, err := nodeValue(c, env)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case yaml.AliasNode:
		return nodeValue(n.Alias, env)
	}
	return nil, fmt.Errorf("unsupported YAML node")
}
