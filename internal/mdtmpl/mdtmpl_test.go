package mdtmpl

import (
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
)

// randomData fills every field a template names with a random value of a
// kind the report templates use: strings (often empty), string lists,
// numbers, booleans, nested objects, pointers.
func randomData(r *rand.Rand, fields []string, depth int) map[string]any {
	m := map[string]any{}
	for _, f := range fields {
		switch r.Intn(9) {
		case 0:
			// missing
		case 1:
			m[f] = ""
		case 2:
			m[f] = []string{}
		case 3:
			m[f] = []string{"row | one", "row\ttwo"}[:1+r.Intn(2)]
		case 4:
			m[f] = r.Intn(3)
		case 5:
			m[f] = r.Intn(2) == 1
		case 6:
			if depth < 2 {
				m[f] = randomData(r, fields, depth+1)
			}
		case 7:
			s := "value of " + f
			m[f] = &s
		default:
			m[f] = "  text " + f + " \n"
		}
	}
	return m
}

var fieldRE = regexp.MustCompile(`\.([A-Z][A-Za-z]*)`)

func same(t *testing.T, name, src string, runs int) {
	t.Helper()
	std := template.Must(template.New(name).Parse(src))
	ours, err := Parse(src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	set := map[string]bool{}
	for _, m := range fieldRE.FindAllStringSubmatch(src, -1) {
		set[m[1]] = true
	}
	var fields []string
	for f := range set {
		fields = append(fields, f)
	}
	r := rand.New(rand.NewSource(int64(len(src))))
	for i := 0; i < runs; i++ {
		data := randomData(r, fields, 0)
		var want strings.Builder
		werr := std.Execute(&want, data)
		var got strings.Builder
		gerr := ours.exec(&got, valueOf(data))
		if (werr == nil) != (gerr == nil) {
			// text/template stops half-way on an error; both must fail.
			t.Fatalf("%s: text/template %v, mdtmpl %v", name, werr, gerr)
		}
		if werr == nil && got.String() != want.String() {
			t.Fatalf("%s with %v:\n--- mdtmpl\n%s\n--- text/template\n%s", name, data, got.String(), want.String())
		}
	}
}

// TestReportTemplatesMatchTextTemplate renders the report templates with
// thousands of random data sets by both engines.
func TestReportTemplatesMatchTextTemplate(t *testing.T) {
	files, _ := filepath.Glob("../comment/templates/*.tmpl")
	if len(files) == 0 {
		t.Fatal("no report templates found")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		same(t, filepath.Base(f), string(src), 3000)
	}
}

func TestSyntax(t *testing.T) {
	for i, src := range []string{
		"a {{- .X -}} b",
		"{{if .X}}x{{else if .Y}}y{{else if .Z}}z{{else}}none{{end}}",
		"{{with .X}}[{{.}}]{{else}}-{{end}}",
		"{{range .X}}<{{.}}>{{end}}",
		"{{with .X}}{{with .Y}}{{.Z}}{{end}}{{end}}",
		"  {{- if .X -}}  \n yes \n {{- end -}}  ",
		"{{.X.Y}}",
	} {
		same(t, "t"+string(rune('0'+i)), src, 500)
	}
	for _, bad := range []string{"{{len .X}}", "{{.X | printf}}", "{{if .X}}", "{{end}}", "{{template \"x\"}}", "{{$x := .X}}"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted an action it cannot render", bad)
		}
	}
}
