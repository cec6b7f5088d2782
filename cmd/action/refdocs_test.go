package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/run"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
)

// regenerate is the one command that rewrites every generated file: the
// CLI's flag help and the reference tables in docs/. Each freshness test
// names it when it fails.
const regenerate = "go test ./cmd/action -run TestGenerated -update"

// TestGeneratedReference keeps docs/reference.md's tables the contract
// itself: the inputs and outputs of action.yml (in its order, with its
// defaults and descriptions) and the failure reasons of
// internal/run/failure.go (in its order, with the hint the run prints when
// the error carries none of its own). Only the text between the markers is
// generated; the prose around it is written by hand.
func TestGeneratedReference(t *testing.T) {
	root := deploytest.RepoRoot()
	inputs, outputs := actionYMLTables(t, root)
	reasons := failureReasons(t, root)
	checkGenerated(t, filepath.Join(root, "docs", "reference.md"), map[string]string{
		"inputs":          inputs,
		"outputs":         outputs,
		"failure-reasons": renderReasons(reasons),
	})
}

// generatedBlock matches one generated part of a Markdown file: the begin
// marker names the part, the end marker closes it.
var generatedBlock = regexp.MustCompile(`(?s)(<!-- BEGIN GENERATED ([a-z-]+):[^\n]*-->\n)(.*?)(<!-- END GENERATED [a-z-]+ -->)`)

// checkGenerated replaces each marked part of path with parts[name] and
// fails (or, with -update, writes) when the file changes. Every part must be
// in the file once.
func checkGenerated(t *testing.T, path string, parts map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	got := generatedBlock.ReplaceAllStringFunc(string(raw), func(block string) string {
		m := generatedBlock.FindStringSubmatch(block)
		name := m[2]
		seen[name]++
		body, ok := parts[name]
		if !ok {
			t.Errorf("%s: unknown generated part %q", path, name)
			return block
		}
		return m[1] + body + m[4]
	})
	for name := range parts {
		if seen[name] != 1 {
			t.Errorf("%s holds the generated part %q %d times, want once (<!-- BEGIN GENERATED %s: ... --> ... <!-- END GENERATED %s -->)", path, name, seen[name], name, name)
		}
	}
	if got == string(raw) {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	rel, _ := filepath.Rel(deploytest.RepoRoot(), path)
	t.Errorf("%s is not what action.yml and the code say: run %s", filepath.ToSlash(rel), regenerate)
}

// cell makes plain text one Markdown table cell that shows as written:
// one line, and outside `code` spans no character GitHub would read as
// Markdown or HTML (*.pack.json is no emphasis, <provider> no tag).
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	code := false
	for _, r := range s {
		switch {
		case r == '`':
			code = !code
		case r == '|':
			b.WriteByte('\\') // a pipe ends the cell even in code
		case !code && strings.ContainsRune(`\*_<>[]`, r):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// actionYMLTables renders action.yml's inputs and outputs, in its order.
func actionYMLTables(t *testing.T, root string) (inputs, outputs string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	section := func(name string) [][2]string { // name -> its mapping, in order
		top := doc.Content[0]
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == name {
				var out [][2]string
				m := top.Content[i+1]
				for j := 0; j+1 < len(m.Content); j += 2 {
					var b bytes.Buffer
					enc := yaml.NewEncoder(&b)
					_ = enc.Encode(m.Content[j+1])
					out = append(out, [2]string{m.Content[j].Value, b.String()})
				}
				return out
			}
		}
		t.Fatalf("action.yml has no %s", name)
		return nil
	}
	var in strings.Builder
	in.WriteString("| Input | Default | What it does |\n|---|---|---|\n")
	for _, kv := range section("inputs") {
		var v struct {
			Description string `yaml:"description"`
			Default     string `yaml:"default"`
		}
		if err := yaml.Unmarshal([]byte(kv[1]), &v); err != nil {
			t.Fatal(err)
		}
		def := ""
		if v.Default != "" {
			def = "`" + cell(v.Default) + "`"
		}
		fmt.Fprintf(&in, "| `%s` | %s | %s |\n", kv[0], def, cell(v.Description))
	}
	var out strings.Builder
	out.WriteString("| Output | Meaning |\n|---|---|\n")
	for _, kv := range section("outputs") {
		var v struct {
			Description string `yaml:"description"`
		}
		if err := yaml.Unmarshal([]byte(kv[1]), &v); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "| `%s` | %s |\n", kv[0], cell(v.Description))
	}
	return in.String(), out.String()
}

// reason is one failure reason as internal/run declares it.
type reason struct {
	Const, Name string
	Doc         string   // the constant's comment
	Hints       []string // what the run prints when the error carries no hint of its own
}

// failureReasons reads internal/run's Reason constants (in failure.go's
// order: the source is parsed, since the constants are not listed in the
// code) and the hints the run gives each one when the error carries none.
func failureReasons(t *testing.T, root string) []reason {
	t.Helper()
	dir := filepath.Join(root, "internal", "run")
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = f
	}
	// Every string constant of the package, for hints named by constant.
	consts := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if v, ok := stringValue(vs.Values[i], consts); ok {
								consts[n.Name] = v
							}
						}
					}
				}
			}
		}
	}
	failure := files["failure.go"]
	if failure == nil {
		t.Fatal("internal/run/failure.go not found")
	}
	var reasons []reason
	byConst := map[string]*reason{}
	for _, d := range failure.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for _, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Reason") {
					continue
				}
				doc := ""
				if vs.Doc != nil {
					doc = vs.Doc.Text()
				} else if vs.Comment != nil {
					doc = vs.Comment.Text()
				}
				reasons = append(reasons, reason{Const: n.Name, Name: consts[n.Name], Doc: strings.TrimSpace(doc)})
			}
		}
	}
	for i := range reasons {
		byConst[reasons[i].Const] = &reasons[i]
	}
	// The hint the run gives a failure of each reason that carries none
	// (run.ClassifyOn, as a workflow reads it), then the ones classify
	// gives errors of other packages, where it names them as text.
	for i := range reasons {
		if _, h := run.ClassifyOn(&run.Failure{Reason: reasons[i].Name, Err: errors.New("x")}, surface.Workflow); h != "" {
			reasons[i].Hints = append(reasons[i].Hints, h)
		}
	}
	ast.Inspect(failure, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl: // classify's "return ReasonX, hint"
			if n.Name.Name != "classify" {
				return false
			}
			ast.Inspect(n.Body, func(m ast.Node) bool {
				if ret, ok := m.(*ast.ReturnStmt); ok && len(ret.Results) == 2 {
					if r, ok := byConst[identName(ret.Results[0])]; ok {
						if h, _ := stringValue(ret.Results[1], consts); h != "" && !slices.Contains(r.Hints, h) {
							r.Hints = append(r.Hints, h)
						}
					}
				}
				return true
			})
			return false
		}
		return true
	})
	if len(reasons) < 30 {
		t.Fatalf("found only %d failure reasons in internal/run/failure.go: the parse is broken", len(reasons))
	}
	for _, r := range reasons {
		if r.Name == "" {
			t.Fatalf("failure reason %s has no string value", r.Const)
		}
	}
	return reasons
}

func identName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// stringValue evaluates a string literal, a known constant, or a sum of them.
func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		}
	case *ast.Ident:
		s, ok := consts[e.Name]
		return s, ok
	case *ast.ParenExpr:
		return stringValue(e.X, consts)
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			a, ok1 := stringValue(e.X, consts)
			b, ok2 := stringValue(e.Y, consts)
			return a + b, ok1 && ok2
		}
	}
	return "", false
}

func renderReasons(reasons []reason) string {
	var b strings.Builder
	b.WriteString("| `failure-reason` | What the run says to do, unless its message says more |\n|---|---|\n")
	for _, r := range reasons {
		var hints []string
		for _, h := range r.Hints {
			hints = append(hints, cell(h))
		}
		hint := strings.Join(hints, "<br>")
		if doc := strings.TrimPrefix(r.Doc, r.Const+" is "); doc != r.Doc && strings.HasPrefix(doc, "no longer set") {
			hint = cell("N" + strings.TrimPrefix(doc, "n")) // a retired reason: why, and what happens instead
		}
		if hint == "" {
			hint = "The message says what failed and what to do; see [Troubleshooting](troubleshooting.md)."
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", r.Name, hint)
	}
	return b.String()
}

// reasonNames are the failure reasons' values, sorted.
func reasonNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, r := range failureReasons(t, deploytest.RepoRoot()) {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	return names
}
