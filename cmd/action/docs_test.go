package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

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

// TestDocsReadmeLinksResolve keeps the README's own links true: every
// in-page anchor names a heading (as GitHub derives anchors), and every
// relative link names a file or folder of the repository. A renamed
// section once left "[below](#faster-starts-pin-the-prebuilt-image)"
// pointing at nothing.
func TestDocsReadmeLinksResolve(t *testing.T) {
	root := deploytest.RepoRoot()
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Text outside fenced blocks and inline code: a "# comment" in a
	// block is no heading, and `[label](url)` in code is no link.
	var prose strings.Builder
	fenced := false
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			prose.WriteString(regexp.MustCompile("`[^`]*`").ReplaceAllString(line, "") + "\n")
		}
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6} (.+)$`).FindAllStringSubmatch(prose.String(), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	links := regexp.MustCompile(`\]\(([^)\s]+)\)`).FindAllStringSubmatch(prose.String(), -1)
	if len(links) < 20 {
		t.Fatalf("found only %d links: the scan is broken", len(links))
	}
	for _, m := range links {
		target := m[1]
		switch {
		case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
		case strings.HasPrefix(target, "#"):
			if !anchors[target[1:]] {
				t.Errorf("README links to %s, but no heading has that anchor", target)
			}
		default:
			file, _, _ := strings.Cut(target, "#")
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
				t.Errorf("README links to %s: %v", target, err)
			}
		}
	}
}

// githubAnchor is the anchor GitHub gives a heading: lower case, spaces to
// hyphens, and every character but letters, digits, hyphens and
// underscores dropped (Markdown emphasis included).
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsDevelopmentMapListsEveryPackage keeps the README's map of the
// code complete: a newcomer looking for where a thing lives should find
// every package of cmd/ and internal/ there (test helpers named *test
// excepted, unless they hold tests of their own).
func TestDocsDevelopmentMapListsEveryPackage(t *testing.T) {
	root := deploytest.RepoRoot()
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, dev, ok := strings.Cut(string(raw), "\n## Development\n")
	if !ok {
		t.Fatal("README has no Development section")
	}
	block := regexp.MustCompile("(?s)```\n(.*?)```").FindStringSubmatch(dev)
	if block == nil {
		t.Fatal("README's Development section has no map of the code")
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(block[1], "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			listed[strings.TrimSuffix(f[0], "/")] = true
		}
	}
	found := 0
	for _, top := range []string{"cmd", "internal"} {
		filepath.WalkDir(filepath.Join(root, top), func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() || d.Name() == "testdata" {
				if err == nil && d.IsDir() {
					return filepath.SkipDir
				}
				return err
			}
			src, _ := filepath.Glob(filepath.Join(p, "*.go"))
			tests, _ := filepath.Glob(filepath.Join(p, "*_test.go"))
			if len(src) == len(tests) || (strings.HasSuffix(d.Name(), "test") && len(tests) == 0) {
				return nil // no package, or a test helper
			}
			rel, _ := filepath.Rel(root, p)
			found++
			if !listed[filepath.ToSlash(rel)] {
				t.Errorf("README's Development map does not list %s/", filepath.ToSlash(rel))
			}
			return nil
		})
	}
	if found < 20 {
		t.Fatalf("found only %d packages: the walk is broken", found)
	}
}

// TestDocsCitedTestsExist keeps the README's evidence real: every test it
// cites as proof (the compatibility table, the image's private CA) exists.
func TestDocsCitedTestsExist(t *testing.T) {
	root := deploytest.RepoRoot()
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cited := map[string]bool{}
	for _, m := range regexp.MustCompile("`(Test[A-Z][A-Za-z0-9_]*)`").FindAllStringSubmatch(string(raw), -1) {
		cited[m[1]] = true
	}
	if len(cited) < 5 {
		t.Fatalf("found only %d cited tests: the scan is broken", len(cited))
	}
	defined := map[string]bool{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllStringSubmatch(string(b), -1) {
				defined[m[1]] = true
			}
		}
		return nil
	})
	for name := range cited {
		if !defined[name] {
			t.Errorf("README cites %s, which no test file defines", name)
		}
	}
}
