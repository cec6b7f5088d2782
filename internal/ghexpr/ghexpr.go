// Package ghexpr evaluates GitHub Actions expressions (`${{ … }}`) the way
// the Actions service does: loose equality with coercion to numbers,
// case-insensitive string comparison and property access, `&&` and `||`
// that yield an operand, object filters (`a.*.b`), the built-in functions,
// and the `if:` rules (an implicit `success() &&`, and a condition that is
// not one whole expression being a string). Expressions are parsed by
// actionlint's parser, the one .ci/run lints workflows with, so the harness
// accepts exactly what the linter accepted.
//
// Values are nil, bool, float64, string, []any and map[string]any (what
// encoding/json decodes to).
package ghexpr

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/rhysd/actionlint"
)

// Env is what an expression can see.
type Env struct {
	// Contexts are the named values by lower-case name (github, env,
	// matrix, needs, steps, inputs, secrets, vars, job, runner, strategy).
	// A name that is missing is an error, as a context that is not
	// available where the expression is.
	Contexts map[string]any
	// Status answers success(), failure(), always() and cancelled(); nil
	// where status functions are not allowed.
	Status func(name string) bool
	// HashFiles answers hashFiles(); nil where it is not allowed.
	HashFiles func(patterns []string) (string, error)
}

// Parse parses one expression (the text between `${{` and `}}`).
func Parse(src string) (actionlint.ExprNode, error) {
	node, _, err := parse(src + "}}")
	return node, err
}

// parse parses an expression that ends at the first `}}` outside a
// string, and says where that `}}` ends.
func parse(src string) (actionlint.ExprNode, int, error) {
	lex := actionlint.NewExprLexer(src)
	node, perr := actionlint.NewExprParser().Parse(lex)
	if perr != nil {
		return nil, 0, fmt.Errorf("expression %q: %s", strings.TrimSuffix(src, "}}"), perr.Message)
	}
	return node, lex.Offset(), nil
}

// Eval evaluates one expression.
func Eval(src string, env *Env) (any, error) {
	node, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return evalNode(node, env, src)
}

func evalNode(node actionlint.ExprNode, env *Env, src string) (any, error) {
	v, err := (&evaluator{env: env}).eval(node)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", strings.TrimSpace(src), err)
	}
	return plain(v), nil
}

// segment is a piece of a template: literal text, or an expression.
type segment struct {
	text string
	expr actionlint.ExprNode
	src  string
}

func split(s string) ([]segment, error) {
	var out []segment
	for {
		i := strings.Index(s, "${{")
		if i < 0 {
			if s != "" {
				out = append(out, segment{text: s})
			}
			return out, nil
		}
		if i > 0 {
			out = append(out, segment{text: s[:i]})
		}
		node, end, err := parse(s[i+3:])
		if err != nil {
			return nil, err
		}
		out = append(out, segment{expr: node, src: strings.TrimSuffix(s[i+3:i+3+end], "}}")})
		s = s[i+3+end:]
	}
}

// Value evaluates a workflow value: one whole `${{ … }}` keeps its type;
// anything else is a string with each expression's string form in place.
func Value(s string, env *Env) (any, error) {
	segs, err := split(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	if len(segs) == 1 && segs[0].expr != nil {
		return evalNode(segs[0].expr, env, segs[0].src)
	}
	return Interpolate(s, env)
}

// Interpolate evaluates a string with `${{ … }}` in it.
func Interpolate(s string, env *Env) (string, error) {
	segs, err := split(s)
	if err != nil {
		return "", err
	}
	return interpolate(segs, env)
}

func interpolate(segs []segment, env *Env) (string, error) {
	var b strings.Builder
	for _, sg := range segs {
		if sg.expr == nil {
			b.WriteString(sg.text)
			continue
		}
		v, err := evalNode(sg.expr, env, sg.src)
		if err != nil {
			return "", err
		}
		str, err := ToString(v)
		if err != nil {
			return "", fmt.Errorf("expression %q: %w", strings.TrimSpace(sg.src), err)
		}
		b.WriteString(str)
	}
	return b.String(), nil
}

// statusFuncs are the functions whose presence turns off the implicit
// success() of a condition.
var statusFuncs = map[string]bool{"success": true, "failure": true, "always": true, "cancelled": true}

// Condition evaluates an `if:` the way the runner does: empty is
// success(); `${{ … }}` around the whole condition is optional; without a
// status function the condition is `success() && (…)`; and a condition
// with text around its `${{ … }}` is a string, true when not empty.
func Condition(s string, env *Env) (bool, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		t = "success()"
	}
	if strings.Contains(t, "${{") {
		segs, err := split(t)
		if err != nil {
			return false, err
		}
		if len(segs) != 1 || segs[0].expr == nil {
			str, err := interpolate(segs, env)
			return str != "", err
		}
		t = segs[0].src
	}
	node, err := Parse(t)
	if err != nil {
		return false, err
	}
	hasStatus := false
	actionlint.VisitExprNode(node, func(n, _ actionlint.ExprNode, entering bool) {
		if f, ok := n.(*actionlint.FuncCallNode); ok && entering && statusFuncs[strings.ToLower(f.Callee)] {
			hasStatus = true
		}
	})
	if !hasStatus {
		if env.Status == nil || !env.Status("success") {
			return false, nil
		}
	}
	v, err := evalNode(node, env, t)
	if err != nil {
		return false, err
	}
	return Truthy(v), nil
}

// filtered is the result of an object filter (`*`): property access and
// indexing apply to each element.
type filtered []any

type evaluator struct{ env *Env }

func (e *evaluator) eval(n actionlint.ExprNode) (any, error) {
	switch n := n.(type) {
	case *actionlint.NullNode:
		return nil, nil
	case *actionlint.BoolNode:
		return n.Value, nil
	case *actionlint.IntNode:
		return float64(n.Value), nil
	case *actionlint.FloatNode:
		return n.Value, nil
	case *actionlint.StringNode:
		return n.Value, nil
	case *actionlint.VariableNode:
		if v, ok := lookup(e.env.Contexts, n.Name); ok {
			return v, nil
		}
		names := make([]string, 0, len(e.env.Contexts))
		for k := range e.env.Contexts {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unrecognized named-value %q (available here: %s)", n.Name, strings.Join(names, ", "))
	case *actionlint.ObjectDerefNode:
		recv, err := e.eval(n.Receiver)
		if err != nil {
			return nil, err
		}
		return index(recv, n.Property), nil
	case *actionlint.ArrayDerefNode:
		recv, err := e.eval(n.Receiver)
		if err != nil {
			return nil, err
		}
		return filter(recv), nil
	case *actionlint.IndexAccessNode:
		recv, err := e.eval(n.Operand)
		if err != nil {
			return nil, err
		}
		idx, err := e.eval(n.Index)
		if err != nil {
			return nil, err
		}
		return index(recv, plain(idx)), nil
	case *actionlint.NotOpNode:
		v, err := e.eval(n.Operand)
		if err != nil {
			return nil, err
		}
		return !Truthy(plain(v)), nil
	case *actionlint.LogicalOpNode:
		l, err := e.eval(n.Left)
		if err != nil {
			return nil, err
		}
		if Truthy(plain(l)) == (n.Kind == actionlint.LogicalOpNodeKindOr) {
			return l, nil
		}
		return e.eval(n.Right)
	case *actionlint.CompareOpNode:
		l, err := e.eval(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := e.eval(n.Right)
		if err != nil {
			return nil, err
		}
		return compare(n.Kind, plain(l), plain(r)), nil
	case *actionlint.FuncCallNode:
		args := make([]any, len(n.Args))
		for i, a := range n.Args {
			v, err := e.eval(a)
			if err != nil {
				return nil, err
			}
			args[i] = plain(v)
		}
		return e.call(strings.ToLower(n.Callee), args)
	}
	return nil, fmt.Errorf("unsupported expression node %T", n)
}

// lookup is a case-insensitive map access.
func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// index is `recv.key` and `recv[key]`: objects by name (any case), arrays
// by number; anything else is null.
func index(recv, key any) any {
	switch r := recv.(type) {
	case filtered:
		var out filtered
		for _, el := range r {
			if v := index(el, key); v != nil {
				out = append(out, v)
			}
		}
		return out
	case map[string]any:
		k, ok := key.(string)
		if !ok {
			return nil
		}
		v, _ := lookup(r, k)
		return v
	case map[string]string:
		k, ok := key.(string)
		if !ok {
			return nil
		}
		for kk, v := range r {
			if strings.EqualFold(kk, k) {
				return v
			}
		}
		return nil
	case []any:
		f, ok := key.(float64)
		if !ok || math.IsNaN(f) || f < 0 || int(f) >= len(r) {
			return nil
		}
		return r[int(f)]
	}
	return nil
}

// filter is `recv.*`: an array's elements or an object's values.
func filter(recv any) any {
	switch r := recv.(type) {
	case filtered:
		var out filtered
		for _, el := range r {
			out = append(out, filter(el).(filtered)...)
		}
		return out
	case []any:
		return filtered(append([]any(nil), r...))
	case map[string]any:
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := filtered{}
		for _, k := range keys {
			out = append(out, r[k])
		}
		return out
	}
	return filtered{}
}

// plain turns harness-side types into expression values.
func plain(v any) any {
	switch t := v.(type) {
	case filtered:
		return []any(t)
	case map[string]string:
		m := make(map[string]any, len(t))
		for k, s := range t {
			m[k] = s
		}
		return m
	case []string:
		a := make([]any, len(t))
		for i, s := range t {
			a[i] = s
		}
		return a
	case int:
		return float64(t)
	case int64:
		return float64(t)
	}
	return v
}

// Truthy is the expression language's truthiness: false, 0, NaN, the empty string and
// null are false; everything else, arrays and objects included, is true.
func Truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && !math.IsNaN(t)
	case string:
		return t != ""
	}
	return true
}

// number coerces a value for a comparison of mixed kinds.
func number(v any) float64 {
	switch t := v.(type) {
	case nil:
		return 0
	case bool:
		if t {
			return 1
		}
		return 0
	case float64:
		return t
	case string:
		s := strings.TrimSpace(t)
		if s == "" {
			return 0
		}
		if strings.HasPrefix(s, "0x") {
			if n, err := strconv.ParseInt(s[2:], 16, 64); err == nil {
				return float64(n)
			}
			return math.NaN()
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return math.NaN()
	}
	return math.NaN()
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func same(a, b any) bool {
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	return ra.Kind() == rb.Kind() && ra.Pointer() == rb.Pointer() && ra.Len() == rb.Len()
}

// equal is `==`: same kinds compare as themselves (strings ignoring case,
// arrays and objects by identity); mixed kinds compare as numbers, and
// NaN equals nothing.
func equal(a, b any) bool {
	if kind(a) == kind(b) {
		switch a := a.(type) {
		case nil:
			return true
		case bool:
			return a == b.(bool)
		case float64:
			return a == b.(float64)
		case string:
			return strings.EqualFold(a, b.(string))
		default:
			return same(a, b)
		}
	}
	x, y := number(a), number(b)
	return !math.IsNaN(x) && !math.IsNaN(y) && x == y
}

func compare(k actionlint.CompareOpNodeKind, a, b any) bool {
	switch k {
	case actionlint.CompareOpNodeKindEq:
		return equal(a, b)
	case actionlint.CompareOpNodeKindNotEq:
		return !equal(a, b)
	}
	var c int
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			c = strings.Compare(strings.ToUpper(sa), strings.ToUpper(sb))
			return order(k, c)
		}
	}
	x, y := number(a), number(b)
	if math.IsNaN(x) || math.IsNaN(y) {
		return false
	}
	switch {
	case x < y:
		c = -1
	case x > y:
		c = 1
	}
	return order(k, c)
}

func order(k actionlint.CompareOpNodeKind, c int) bool {
	switch k {
	case actionlint.CompareOpNodeKindLess:
		return c < 0
	case actionlint.CompareOpNodeKindLessEq:
		return c <= 0
	case actionlint.CompareOpNodeKindGreater:
		return c > 0
	case actionlint.CompareOpNodeKindGreaterEq:
		return c >= 0
	}
	return false
}

// ErrNotString is an array or object where a string is needed: GitHub
// would print "Array" or "Object"; a workflow meant toJSON(…).
var ErrNotString = errors.New("an array or object cannot be a string here: use toJSON(…) or pick a property")

// ToString is a value's string form in a template: null is empty,
// booleans are true and false, numbers as written (1, 1.5).
func ToString(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case bool:
		return strconv.FormatBool(t), nil
	case float64:
		return formatNumber(t), nil
	case string:
		return t, nil
	}
	return "", ErrNotString
}

func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', 15, 64)
}

func (e *evaluator) call(name string, args []any) (any, error) {
	argc := func(min, max int) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return fmt.Errorf("%s() takes %d to %d arguments, got %d", name, min, max, len(args))
		}
		return nil
	}
	str := func(v any) string {
		s, err := ToString(v)
		if err != nil {
			if _, ok := v.([]any); ok {
				return "Array"
			}
			return "Object"
		}
		return s
	}
	switch name {
	case "success", "failure", "always", "cancelled":
		if err := argc(0, 0); err != nil {
			return nil, err
		}
		if e.env.Status == nil {
			return nil, fmt.Errorf("%s() is not allowed here", name)
		}
		return e.env.Status(name), nil
	case "contains":
		if err := argc(2, 2); err != nil {
			return nil, err
		}
		if arr, ok := args[0].([]any); ok {
			for _, el := range arr {
				if equal(el, args[1]) {
					return true, nil
				}
			}
			return false, nil
		}
		return strings.Contains(strings.ToUpper(str(args[0])), strings.ToUpper(str(args[1]))), nil
	case "startswith", "endswith":
		if err := argc(2, 2); err != nil {
			return nil, err
		}
		s, p := strings.ToUpper(str(args[0])), strings.ToUpper(str(args[1]))
		if name == "startswith" {
			return strings.HasPrefix(s, p), nil
		}
		return strings.HasSuffix(s, p), nil
	case "format":
		if err := argc(1, -1); err != nil {
			return nil, err
		}
		return format(str(args[0]), args[1:], str)
	case "join":
		if err := argc(1, 2); err != nil {
			return nil, err
		}
		sep := ","
		if len(args) == 2 {
			sep = str(args[1])
		}
		arr, ok := args[0].([]any)
		if !ok {
			return str(args[0]), nil
		}
		parts := make([]string, len(arr))
		for i, el := range arr {
			parts[i] = str(el)
		}
		return strings.Join(parts, sep), nil
	case "tojson":
		if err := argc(1, 1); err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(args[0], "", "  ")
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case "fromjson":
		if err := argc(1, 1); err != nil {
			return nil, err
		}
		var v any
		if err := json.Unmarshal([]byte(str(args[0])), &v); err != nil {
			return nil, fmt.Errorf("fromJSON: %v", err)
		}
		return v, nil
	case "hashfiles":
		if err := argc(1, -1); err != nil {
			return nil, err
		}
		if e.env.HashFiles == nil {
			return nil, errors.New("hashFiles() is not allowed here")
		}
		pats := make([]string, len(args))
		for i, a := range args {
			pats[i] = str(a)
		}
		return e.env.HashFiles(pats)
	}
	return nil, fmt.Errorf("unknown function %s()", name)
}

// format is format(): {N} is argument N, {{ and }} are braces.
func format(f string, args []any, str func(any) string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case c == '{' && i+1 < len(f) && f[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(f[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("format(%q): unclosed {", f)
			}
			n, err := strconv.Atoi(f[i+1 : i+end])
			if err != nil || n < 0 || n >= len(args) {
				return "", fmt.Errorf("format(%q): {%s} has no argument", f, f[i+1:i+end])
			}
			b.WriteString(str(args[n]))
			i += end
		case c == '}':
			return "", fmt.Errorf("format(%q): lone }", f)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
