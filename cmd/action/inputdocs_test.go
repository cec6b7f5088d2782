package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

var update = flag.Bool("update", false, "rewrite generated files (inputs_doc.go, docs/reference.md's tables)")

// TestGeneratedInputDocs keeps the CLI's flag help and action.yml's
// input descriptions one text: inputs_doc.go is generated from action.yml
// (regenerate names the command).
func TestGeneratedInputDocs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct{ Description string } `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(raw, &action); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(action.Inputs))
	for n := range action.Inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString("// Code generated from action.yml by " + regenerate + ". DO NOT EDIT.\n\npackage main\n\n")
	b.WriteString("// inputDocs are action.yml's input descriptions: the CLI's flag help.\nvar inputDocs = map[string]string{\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t%q: %q,\n", n, action.Inputs[n].Description)
	}
	b.WriteString("}\n")
	want, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(deploytest.RepoRoot(), "cmd", "action", "inputs_doc.go")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Fatal("cmd/action/inputs_doc.go is not action.yml's descriptions: run " + regenerate)
	}
}
