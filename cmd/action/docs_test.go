package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/run"
)

// docFiles are the documentation the docs tests keep honest: README.md and
// every Markdown file under docs/ and examples/, as paths relative to the
// repository root (slash-separated).
func docFiles(t *testing.T) []string {
	t.Helper()
	root := deploytest.RepoRoot()
	files := []string{"README.md"}
	for _, dir := range []string{"docs", "examples"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
				rel, _ := filepath.Rel(root, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
	}
	if len(files) < 10 {
		t.Fatalf("found only %d documentation files: the walk is broken", len(files))
	}
	return files
}

// TestDocsMatchTheContract keeps action.yml, the CLI flags, the code's
// outputs and the troubleshooting table in step: names are a public
// contract. (docs/reference.md's tables are generated: TestGeneratedReference.)
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
	var yamlInputs []string
	for name, in := range action.Inputs {
		yamlInputs = append(yamlInputs, name)
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

// TestDocsTroubleshootingHasEveryReason keeps docs/troubleshooting.md one
// row per failure reason of internal/run/failure.go: none missing, none
// that the code no longer knows, none twice.
func TestDocsTroubleshootingHasEveryReason(t *testing.T) {
	doc := mustRead(t, filepath.Join(deploytest.RepoRoot(), "docs", "troubleshooting.md"))
	rows := map[string]int{}
	lines := strings.Split(doc, "\n")
	for i, line := range lines {
		header := i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|---")
		if m := regexp.MustCompile("^\\| `([a-z-]+)` \\|").FindStringSubmatch(line); m != nil && !header {
			rows[m[1]]++
		}
	}
	known := map[string]bool{}
	for _, name := range reasonNames(t) {
		known[name] = true
		if rows[name] != 1 {
			t.Errorf("docs/troubleshooting.md has %d rows for failure reason %s, want 1 (| `%s` | what happened | what to do |)", rows[name], name, name)
		}
	}
	for name := range rows {
		if !known[name] {
			t.Errorf("docs/troubleshooting.md has a row for %s, which internal/run/failure.go does not declare", name)
		}
	}
}

// mdProse is a Markdown file's text outside fenced blocks and inline code:
// a "# comment" in a block is no heading, and `[label](url)` in code is no
// link.
func mdProse(raw string) string {
	var prose strings.Builder
	fenced := false
	for _, line := range strings.Split(raw, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			prose.WriteString(regexp.MustCompile("`[^`]*`").ReplaceAllString(line, "") + "\n")
		}
	}
	return prose.String()
}

// mdAnchors are the anchors of a Markdown file's headings, as GitHub
// derives them (a repeated heading gets -1, -2, ...).
func mdAnchors(raw string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6} (.+)$`).FindAllStringSubmatch(mdProse(raw), -1) {
		a := githubAnchor(m[1])
		if n := seen[a]; n > 0 {
			anchors[a+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	return anchors
}

// mdLinks are the link targets of a Markdown file's prose.
func mdLinks(raw string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\]\(([^)\s]+)\)`).FindAllStringSubmatch(mdProse(raw), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDocsLinksResolve keeps every link of the README and docs/ true: an
// in-page anchor names a heading (as GitHub derives anchors), a relative
// link names a file or folder of the repository, and an anchor into another
// Markdown file names one of its headings. A renamed section once left
// "[below](#faster-starts-pin-the-prebuilt-image)" pointing at nothing.
func TestDocsLinksResolve(t *testing.T) {
	root := deploytest.RepoRoot()
	anchorsOf := map[string]map[string]bool{}
	anchors := func(rel string) map[string]bool {
		if a, ok := anchorsOf[rel]; ok {
			return a
		}
		raw, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		anchorsOf[rel] = mdAnchors(string(raw))
		return anchorsOf[rel]
	}
	total := 0
	for _, doc := range docFiles(t) {
		raw := mustRead(t, filepath.Join(root, filepath.FromSlash(doc)))
		for _, target := range mdLinks(raw) {
			total++
			if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			rel := doc
			if file != "" {
				rel = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(doc), file)))
				if strings.HasPrefix(rel, "../") {
					t.Errorf("%s links to %s, outside the repository", doc, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
					t.Errorf("%s links to %s: no such file or folder %s", doc, target, rel)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(rel, ".md") && !anchors(rel)[anchor] {
				t.Errorf("%s links to %s, but %s has no heading with the anchor #%s", doc, target, rel, anchor)
			}
		}
	}
	if total < 60 {
		t.Fatalf("found only %d links: the scan is broken", total)
	}
}

// TestDocsReachableFromReadme keeps every page of docs/ findable: each is
// linked from the README or from a page the README leads to.
func TestDocsReachableFromReadme(t *testing.T) {
	root := deploytest.RepoRoot()
	reached := map[string]bool{"README.md": true}
	queue := []string{"README.md"}
	for len(queue) > 0 {
		doc := queue[0]
		queue = queue[1:]
		raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(doc)))
		if err != nil {
			continue
		}
		for _, target := range mdLinks(string(raw)) {
			file, _, _ := strings.Cut(target, "#")
			if file == "" || strings.Contains(file, "://") || !strings.HasSuffix(file, ".md") {
				continue
			}
			rel := filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(doc), file)))
			if !reached[rel] {
				reached[rel] = true
				queue = append(queue, rel)
			}
		}
	}
	for _, doc := range docFiles(t) {
		if strings.HasPrefix(doc, "docs/") && !reached[doc] {
			t.Errorf("%s is linked from nowhere the README leads to: add it to the README's Documentation table (one line) or link it from a page on its topic", doc)
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

// TestDocsDevelopmentMapListsEveryPackage keeps docs/development.md's map
// of the code complete: a newcomer looking for where a thing lives should
// find every package of cmd/ and internal/ there (test helpers named *test
// excepted, unless they hold tests of their own), and nothing that is gone.
func TestDocsDevelopmentMapListsEveryPackage(t *testing.T) {
	root := deploytest.RepoRoot()
	dev := mustRead(t, filepath.Join(root, "docs", "development.md"))
	block := regexp.MustCompile("(?s)```\n(.*?)```").FindStringSubmatch(dev)
	if block == nil {
		t.Fatal("docs/development.md has no map of the code")
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
				t.Errorf("docs/development.md's map does not list %s/", filepath.ToSlash(rel))
			}
			delete(listed, filepath.ToSlash(rel))
			return nil
		})
	}
	if found < 20 {
		t.Fatalf("found only %d packages: the walk is broken", found)
	}
	for p := range listed {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
			t.Errorf("docs/development.md's map lists %s/, which does not exist", p)
		}
	}
}

// TestDocsCitedTestsExist keeps the docs' evidence real: every test the
// README or docs/ cite as proof (the compatibility table, the image's
// private CA) exists.
func TestDocsCitedTestsExist(t *testing.T) {
	root := deploytest.RepoRoot()
	cited := map[string][]string{}
	for _, doc := range docFiles(t) {
		raw := mustRead(t, filepath.Join(root, filepath.FromSlash(doc)))
		for _, m := range regexp.MustCompile("`(Test[A-Z][A-Za-z0-9_]*|Benchmark[A-Z][A-Za-z0-9_]*)`").FindAllStringSubmatch(raw, -1) {
			cited[m[1]] = append(cited[m[1]], doc)
		}
	}
	if len(cited) < 5 {
		t.Fatalf("found only %d cited tests: the scan is broken", len(cited))
	}
	defined := map[string]bool{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			for _, m := range regexp.MustCompile(`(?m)^func ((?:Test|Benchmark)\w+)\(`).FindAllStringSubmatch(string(b), -1) {
				defined[m[1]] = true
			}
		}
		return nil
	})
	for name, docs := range cited {
		if !defined[name] {
			t.Errorf("%s cites %s, which no test file defines", strings.Join(docs, ", "), name)
		}
	}
}

// TestDocsBoolInputsAreCLISwitches keeps the CLI's help honest about
// true/false inputs ("true/false flags take no value"): every input whose
// action.yml default is true or false is a switch of the CLI.
func TestDocsBoolInputsAreCLISwitches(t *testing.T) {
	raw := mustRead(t, filepath.Join(deploytest.RepoRoot(), "action.yml"))
	var action struct {
		Inputs map[string]struct{ Default string } `yaml:"inputs"`
	}
	if err := yaml.Unmarshal([]byte(raw), &action); err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, in := range action.Inputs {
		if in.Default == "true" || in.Default == "false" {
			n++
			if !boolInputs[name] {
				t.Errorf("input %s defaults to %s but is not in boolInputs: the CLI's help shows it as --%s <value>", name, in.Default, name)
			}
		}
	}
	if n < 5 {
		t.Fatalf("found only %d true/false inputs: the scan is broken", n)
	}
}

// firstRelease are the names the first release had: every input, output
// and failure reason added since must be listed in docs/upgrading.md's
// "New names", so an existing user learns of it.
var firstRelease = map[string]string{
	"inputs": "command environment config pack working-directory github-token adapter comment fail-on retention-days state-backend " +
		"state-path on-missing-plan on-stale-plan confirm-destroy drift-issue fail-on-drift allow-adapter-change lock-timeout " +
		"adapter-install adapter-repo adapter-sha256 adapter-allow-unverified",
	"outputs": "failure-reason pack-checksum plan-id has-changes to-create to-update to-delete drift unchanged comment-id artifact-name " +
		"artifact-id applied created updated deleted failed state-sha state-artifact status drift-issue destroyed adapter-version adapter-sha256",
	"reasons": "config-not-found no-deploy-section unknown-environment pack-not-found adapter-not-found adapter-failed invalid-config " +
		"plan-failed apply-failed state-corrupt lock-held github-api-error artifact-upload-failed fail-on invalid-input plan-not-found " +
		"plan-expired pack-mismatch environment-mismatch config-changed adapter-changed state-changed state-conflict drift-detected " +
		"destroy-not-confirmed internal-error adapter-install-failed adapter-checksum-mismatch adapter-unverified state-other-environment state-expired",
}

// TestDocsUpgradingNamesEveryNewName: a name added to the contract after
// the first release is listed in docs/upgrading.md's "New names".
func TestDocsUpgradingNamesEveryNewName(t *testing.T) {
	root := deploytest.RepoRoot()
	doc := mustRead(t, filepath.Join(root, "docs", "upgrading.md"))
	_, section, ok := strings.Cut(doc, "New names")
	if !ok {
		t.Fatal(`docs/upgrading.md has no "New names"`)
	}
	section, _, _ = strings.Cut(section, "\n**") // up to the next numbered item
	var action struct {
		Inputs  map[string]any `yaml:"inputs"`
		Outputs map[string]any `yaml:"outputs"`
	}
	if err := yaml.Unmarshal([]byte(mustRead(t, filepath.Join(root, "action.yml"))), &action); err != nil {
		t.Fatal(err)
	}
	current := map[string][]string{"reasons": reasonNames(t)}
	for n := range action.Inputs {
		current["inputs"] = append(current["inputs"], n)
	}
	for n := range action.Outputs {
		current["outputs"] = append(current["outputs"], n)
	}
	for kind, names := range current {
		old := map[string]bool{}
		for _, n := range strings.Fields(firstRelease[kind]) {
			old[n] = true
		}
		for _, n := range names {
			if !old[n] && !strings.Contains(section, "`"+n+"`") {
				t.Errorf("%s %s is new since the first release: list it in docs/upgrading.md's New names", strings.TrimSuffix(kind, "s"), n)
			}
		}
	}
}

// TestDocsReferenceCoversEveryName: docs/reference.md says which command
// sets each output, and points each input to where it is explained.
func TestDocsReferenceCoversEveryName(t *testing.T) {
	root := deploytest.RepoRoot()
	doc := mustRead(t, filepath.Join(root, "docs", "reference.md"))
	var action struct {
		Inputs  map[string]any `yaml:"inputs"`
		Outputs map[string]any `yaml:"outputs"`
	}
	if err := yaml.Unmarshal([]byte(mustRead(t, filepath.Join(root, "action.yml"))), &action); err != nil {
		t.Fatal(err)
	}
	section := func(from, to string) string {
		_, s, ok := strings.Cut(doc, from)
		if !ok {
			t.Fatalf("docs/reference.md lacks %q", from)
		}
		s, _, _ = strings.Cut(s, to)
		return s
	}
	notes := section("More on some inputs", "\n## ")
	for n := range action.Inputs {
		if !strings.Contains(notes, "`"+n+"`") {
			t.Errorf("docs/reference.md's notes on inputs do not mention %s: say in a line where it is explained", n)
		}
	}
	setBy := section("Which command sets which output", "\n## ")
	for n := range action.Outputs {
		if !strings.Contains(setBy, "`"+n+"`") {
			t.Errorf("docs/reference.md's table of which command sets which output lacks %s", n)
		}
	}
}

// TestDocsConfirmationsAreTypedAgain: a confirm-destroy, confirm-rollback,
// confirm-unlock or confirm-adopt in a workflow the docs or examples/ show
// is a value typed again (a dispatch input of its own), never the
// environment input itself: `confirm-rollback: ${{ inputs.environment }}`
// confirms every dispatch, and a copied snippet would keep it.
func TestDocsConfirmationsAreTypedAgain(t *testing.T) {
	root := deploytest.RepoRoot()
	var sources []recommendedWorkflow
	for _, doc := range docFiles(t) {
		for i, b := range yamlBlocks(mustRead(t, filepath.Join(root, filepath.FromSlash(doc)))) {
			sources = append(sources, recommendedWorkflow{where: doc + " (yaml block " + strconv.Itoa(i+1) + ")", text: b})
		}
	}
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "*.yml"))
	for _, p := range examples {
		sources = append(sources, recommendedWorkflow{where: "examples/" + filepath.Base(p), text: mustRead(t, p)})
	}
	setting := regexp.MustCompile(`(?m)^\s*(environment|confirm-[a-z]+):\s*(\$\{\{[^}]*\}\})`)
	n := 0
	for _, src := range sources {
		envs := map[string]bool{}
		for _, m := range setting.FindAllStringSubmatch(src.text, -1) {
			if m[1] == "environment" {
				envs[strings.Join(strings.Fields(m[2]), " ")] = true
			}
		}
		for _, m := range setting.FindAllStringSubmatch(src.text, -1) {
			if m[1] == "environment" {
				continue
			}
			n++
			if envs[strings.Join(strings.Fields(m[2]), " ")] {
				t.Errorf("%s: %s: %s is the environment input itself: every run confirms itself (give the confirmation an input of its own, typed again)", src.where, m[1], m[2])
			}
		}
	}
	if n < 3 {
		t.Fatalf("found only %d confirmations: the scan is broken", n)
	}
}

// omniaConfigKeys are the top-level keys Omnia's adapter (v1.4.0, the
// version the docs install) accepts in its deploy config, and the ones it
// requires: its config schema has additionalProperties false, so any other
// key fails validate_config (invalid-config).
var omniaConfigKeys, omniaRequired = map[string]bool{
	"api_endpoint": true, "api_token": true, "dry_run": true, "evals": true, "externalAuth": true, "labels": true, "memory": true,
	"providers": true, "runtime": true, "skills": true, "skillsConfig": true, "tool_registry_ref": true, "tools": true, "workspace": true,
}, []string{"api_endpoint", "workspace", "providers"}

// TestDocsOmniaConfigsAreOmnias: an arena.yaml deploy section the README
// or docs/ show for provider omnia gives, for each environment (base config
// merged key by key, {pr} a pull request's number), a config Omnia's
// adapter accepts: its keys, the required ones, a workspace name it takes.
// Copied as it is, a snippet must not fail invalid-config.
func TestDocsOmniaConfigsAreOmnias(t *testing.T) {
	root := deploytest.RepoRoot()
	workspace := regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)
	n := 0
	for _, doc := range docFiles(t) {
		for i, b := range yamlBlocks(mustRead(t, filepath.Join(root, filepath.FromSlash(doc)))) {
			if !strings.Contains(b, "provider: omnia") {
				continue
			}
			where := doc + " (yaml block " + strconv.Itoa(i+1) + ")"
			var top struct {
				Spec   struct{ Deploy *deployBlock } `yaml:"spec"`
				Deploy *deployBlock                  `yaml:"deploy"`
			}
			if err := yaml.Unmarshal([]byte(b), &top); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			d := top.Spec.Deploy
			if top.Deploy != nil {
				d = top.Deploy
			}
			if d == nil || d.Provider != "omnia" {
				continue
			}
			envs := map[string]map[string]any{"(base)": nil}
			for name, e := range d.Environments {
				envs[name] = e.Config
			}
			for env, over := range envs {
				n++
				merged := map[string]any{}
				for k, v := range d.Config {
					merged[k] = v
				}
				for k, v := range over {
					merged[k] = v
				}
				for k := range merged {
					if !omniaConfigKeys[k] {
						t.Errorf("%s, environment %s: config key %s is not Omnia's: its adapter fails validate_config", where, env, k)
					}
				}
				for _, k := range omniaRequired {
					if merged[k] == nil {
						t.Errorf("%s, environment %s: Omnia's adapter requires %s", where, env, k)
					}
				}
				if w, _ := merged["workspace"].(string); merged["workspace"] != nil && !workspace.MatchString(strings.ReplaceAll(w, "{pr}", "42")) {
					t.Errorf("%s, environment %s: workspace %q is not a name Omnia takes (%s)", where, env, w, workspace)
				}
			}
		}
	}
	if n < 2 {
		t.Fatalf("found only %d Omnia configs in the docs: the scan is broken", n)
	}
}

// deployBlock is an arena file's deploy section as the docs show it.
type deployBlock struct {
	Provider     string         `yaml:"provider"`
	Config       map[string]any `yaml:"config"`
	Environments map[string]struct {
		Config map[string]any `yaml:"config"`
	} `yaml:"environments"`
}

// TestDocsPermissionsNameEveryCommand: docs/permissions.md's table has a
// row for every command the action runs (auto is plan or apply), so the
// permissions of rollback, unlock, targets and preview are looked up, not
// guessed from an example.
func TestDocsPermissionsNameEveryCommand(t *testing.T) {
	doc := mustRead(t, filepath.Join(deploytest.RepoRoot(), "docs", "permissions.md"))
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| ([a-z, ]+) \|`).FindAllStringSubmatch(doc, -1) {
		for _, c := range strings.Split(m[1], ",") {
			listed[strings.TrimSpace(c)] = true
		}
	}
	for _, c := range []string{run.CommandPlan, run.CommandApply, run.CommandStatus, run.CommandRefresh, run.CommandDestroy, run.CommandAdopt,
		run.CommandTargets, run.CommandPreview, run.CommandUnlock, run.CommandRollback} {
		if !listed[c] {
			t.Errorf("docs/permissions.md has no row for command %s", c)
		}
	}
}
