package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// TestDocsMatchTheContract keeps action.yml, the CLI flags, the README and
// the failure reasons in step: names are a public contract.
func TestDocsMatchTheContract(t *testing.T) {
	root := deploytest.RepoRoot()
	raw, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs  map[string]struct{ Default string } `yaml:"inputs"`
		Outputs map[string]any                      `yaml:"outputs"`
	}
	if err := yaml.Unmarshal(raw, &action); err != nil {
		t.Fatal(err)
	}
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	var yamlInputs []string
	for name, in := range action.Inputs {
		yamlInputs = append(yamlInputs, name)
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README does not document input %s", name)
		}
		if d, ok := inputDefaults[name]; ok && d != in.Default {
			t.Errorf("input %s: action.yml default %q, code default %q", name, in.Default, d)
		}
	}
	sort.Strings(yamlInputs)
	code := append([]string(nil), inputNames...)
	sort.Strings(code)
	if strings.Join(yamlInputs, ",") != strings.Join(code, ",") {
		t.Errorf("inputs differ:\naction.yml %v\ncode       %v", yamlInputs, code)
	}
	for name := range action.Outputs {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README does not document output %s", name)
		}
	}
	src, _ := os.ReadFile(filepath.Join(root, "internal", "run", "failure.go"))
	for _, m := range regexp.MustCompile(`Reason\w+\s*=\s*"([a-z-]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !strings.Contains(string(readme), "| `"+m[1]+"` |") {
			t.Errorf("README troubleshooting lacks %s", m[1])
		}
	}
	// Every output the code sets is declared in action.yml.
	var set []string
	filepath.WalkDir(filepath.Join(root, "internal"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			for _, m := range regexp.MustCompile(`(?:SetOutput|out)\("([a-z0-9-]+)"`).FindAllStringSubmatch(string(b), -1) {
				set = append(set, m[1])
			}
		}
		return nil
	})
	for _, name := range set {
		if _, ok := action.Outputs[name]; !ok {
			t.Errorf("the code sets output %s, which action.yml does not declare", name)
		}
	}
	if len(set) < 15 {
		t.Errorf("found only %d outputs set in code: the scan is broken", len(set))
	}
}
