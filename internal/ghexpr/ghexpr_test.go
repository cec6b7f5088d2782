package ghexpr

import (
	"strings"
	"testing"
)

func testEnv(status map[string]bool) *Env {
	return &Env{
		Contexts: map[string]any{
			"github": map[string]any{
				"event_name": "pull_request",
				"event":      map[string]any{"pull_request": map[string]any{"number": float64(7)}},
			},
			"matrix": map[string]any{"environment": "production"},
			"inputs": map[string]any{"environment": "", "confirm": "staging"},
			"needs": map[string]any{
				"targets": map[string]any{"result": "success", "outputs": map[string]any{"list": `["a","b"]`}},
			},
			"fruits": []any{
				map[string]any{"name": "apple", "n": float64(1)},
				map[string]any{"name": "pear"},
			},
		},
		Status: func(name string) bool { return status[name] },
	}
}

var ok = map[string]bool{"success": true, "always": true}
var failed = map[string]bool{"failure": true, "always": true}

// The cases follow GitHub's "Evaluate expressions in workflows and
// actions" reference: literals, operators, coercion, functions, filters.
func TestEval(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want any
	}{
		// Literals.
		{"null", nil}, {"true", true}, {"42", 42.0}, {"-9.2", -9.2}, {"0xff", 255.0}, {"-2.99e-2", -0.0299},
		{"'It''s open source!'", "It's open source!"},
		// Property access, any case; missing is null.
		{"github.event_name", "pull_request"}, {"GITHUB.EVENT_NAME", "pull_request"},
		{"github['event_name']", "pull_request"}, {"github.event.pull_request.number", 7.0},
		{"github.event.nope.deeper", nil},
		// && and || yield an operand.
		{"github.event_name == 'push' && 'apply' || 'plan'", "plan"},
		{"inputs.environment || 'default'", "default"},
		{"inputs.confirm && inputs.environment", ""},
		// Loose equality: strings ignore case, mixed kinds compare as numbers.
		{"'ABC' == 'abc'", true}, {"'1' == 1", true}, {"'' == 0", true}, {"null == 0", true},
		{"true == 1", true}, {"'x' == 0", false}, {"'x' != 0", true}, {"github == github", true},
		{"1 < 2", true}, {"'a' < 'B'", true}, {"'10' > 9", true},
		{"!''", true}, {"!'0'", false}, {"!0", true},
		// Functions.
		{"contains('Hello world', 'WORLD')", true},
		{"contains(fromJSON('[\"staging\",\"production\"]'), matrix.environment)", true},
		{"startsWith('refs/heads/main', 'REFS/')", true}, {"endsWith('a.yml', '.YML')", true},
		{"format('arena-plan-{0}-{1}', github.event.pull_request.number, matrix.environment)", "arena-plan-7-production"},
		{"format('{{0}} {0}', 'x')", "{0} x"},
		{"join(fromJSON(needs.targets.outputs.list), ', ')", "a, b"},
		{"fromJSON(needs.targets.outputs.list)[1]", "b"},
		{"toJSON(matrix)", "{\n  \"environment\": \"production\"\n}"},
		{"fromJSON('{\"a\":{\"b\":1}}').a.b", 1.0},
		// Object filters.
		{"join(fruits.*.name, ',')", "apple,pear"},
		{"contains(fruits.*.name, 'PEAR')", true},
		{"toJSON(fruits.*.n)", "[\n  1\n]"},
		// Status functions.
		{"success()", true}, {"failure()", false},
	} {
		got, err := Eval(tc.expr, testEnv(ok))
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if g, ok := got.([]any); ok {
			t.Errorf("%s: got array %v", tc.expr, g)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %#v, want %#v", tc.expr, got, tc.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"secrets.TOKEN", `unrecognized named-value "secrets"`},
		{"nosuch(1)", "unknown function nosuch()"},
		{"format('{1}', 'a')", "has no argument"},
		{"fromJSON('{')", "fromJSON"},
		{"github.event_name ==", "expression"},
		{"hashFiles('**/x')", "hashFiles() is not allowed here"},
	} {
		_, err := Eval(tc.expr, testEnv(ok))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.expr, err, tc.want)
		}
	}
}

func TestInterpolateAndValue(t *testing.T) {
	env := testEnv(ok)
	s, err := Interpolate("arena-${{ matrix.environment }}-${{ github.event.pull_request.number }}-${{ null }}.", env)
	if err != nil || s != "arena-production-7-." {
		t.Fatalf("Interpolate = %q, %v", s, err)
	}
	// '}}' inside a string literal does not end the expression.
	if s, err := Interpolate("${{ format('{0}}}', 'a') }}!", env); err != nil || s != "a}!" {
		t.Fatalf("brace in literal: %q, %v", s, err)
	}
	if _, err := Interpolate("x ${{ fruits }}", env); err == nil {
		t.Fatal("an array interpolated into a string must be an error")
	}
	// One whole expression keeps its type; anything else is a string.
	if v, err := Value(" ${{ github.event_name != 'push' }} ", env); err != nil || v != true {
		t.Fatalf("Value = %#v, %v", v, err)
	}
	if v, err := Value("${{ 1 }}${{ 2 }}", env); err != nil || v != "12" {
		t.Fatalf("Value of two = %#v, %v", v, err)
	}
	if v, err := Value("plain", env); err != nil || v != "plain" {
		t.Fatalf("Value of text = %#v, %v", v, err)
	}
}

func TestCondition(t *testing.T) {
	for _, tc := range []struct {
		cond   string
		status map[string]bool
		want   bool
	}{
		{"", ok, true},
		{"", failed, false},
		{"github.event_name == 'pull_request'", ok, true},
		{"${{ github.event_name == 'pull_request' }}", ok, true},
		// An implicit success(): a failed job's step does not run.
		{"github.event_name == 'pull_request'", failed, false},
		{"failure()", failed, true},
		{"always() && matrix.environment == 'production'", failed, true},
		{"!cancelled()", failed, true},
		// Text around the expression: a non-empty string, always true.
		{"${{ false }} && true", ok, true},
		{"${{ github.event_name == 'push' }}", ok, false},
	} {
		got, err := Condition(tc.cond, testEnv(tc.status))
		if err != nil {
			t.Errorf("%q: %v", tc.cond, err)
			continue
		}
		if got != tc.want {
			t.Errorf("if: %q with %v = %v, want %v", tc.cond, tc.status, got, tc.want)
		}
	}
}
