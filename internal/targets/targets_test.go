package targets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// arena is an arena file deploying with the reference adapter; extra goes
// under spec.
func arena(envs []string, extra string) string {
	var b strings.Builder
	b.WriteString("apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Arena\nmetadata:\n  name: bot\nspec:\n")
	b.WriteString(extra)
	b.WriteString("  deploy:\n    provider: local\n    config:\n      target_dir: .deployed\n")
	if len(envs) > 0 {
		b.WriteString("    environments:\n")
		for _, e := range envs {
			fmt.Fprintf(&b, "      %s:\n        config:\n          target_dir: .deployed/%s\n", e, e)
		}
	}
	return b.String()
}

const promptFile = "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: PromptConfig\nmetadata:\n  name: %s\nspec:\n  task_type: %s\n  system_template: Hello\n"

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func open(t *testing.T, dir string) *workspace.Root {
	t.Helper()
	ws, err := workspace.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// repo is a monorepo: two services sharing a prompt, one arena for tests
// only, one project without environments.
func repo(t *testing.T) string {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"services/billing/arena.yaml": arena([]string{"staging", "production"},
			"  prompt_configs:\n    - id: refund\n      file: prompts/refund.yaml\n    - id: tone\n      file: ../../shared/tone.yaml\n"),
		"services/billing/prompts/refund.yaml": fmt.Sprintf(promptFile, "refund", "refund"),
		"services/billing/billing.pack.json":   `{"id":"billing"}`,
		"services/support/arena.yaml": strings.Replace(arena([]string{"staging", "production"},
			"  prompt_configs:\n    - id: tone\n      file: ../../shared/tone.yaml\n"),
			"metadata:\n  name: bot\n", "metadata:\n  name: bot\n  annotations:\n    arena-deploy/follows: \"production: staging\"\n", 1),
		"services/support/support.pack.json": `{"id":"support"}`,
		"shared/tone.yaml":                   fmt.Sprintf(promptFile, "tone", "tone"),
		"evals/arena.yaml":                   "apiVersion: promptkit.altairalabs.ai/v1alpha1\nkind: Arena\nspec:\n  prompt_configs: []\n",
		"arena.yaml":                         arena(nil, ""),
		"node_modules/x/arena.yaml":          arena(nil, ""),
	})
	return dir
}

func TestDiscover(t *testing.T) {
	dir := repo(t)
	found, err := Discover(open(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range found.Targets {
		got = append(got, fmt.Sprintf("%s/%s %s wave=%d follows=%s", tg.WorkingDirectory, tg.Config, tg.Environment, tg.Wave, tg.Follows))
	}
	want := []string{
		"./arena.yaml default wave=1 follows=",
		"services/billing/arena.yaml production wave=1 follows=",
		"services/billing/arena.yaml staging wave=1 follows=",
		"services/support/arena.yaml staging wave=1 follows=",
		"services/support/arena.yaml production wave=2 follows=staging",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets:\n got %q\nwant %q", got, want)
	}
	if len(found.Skipped) != 1 || found.Skipped[0].Path != "evals/arena.yaml" {
		t.Errorf("skipped = %+v, want evals/arena.yaml (no deploy section)", found.Skipped)
	}
	billing := found.Targets[1]
	wantInputs := []string{"services/billing/.promptarena/adapters/", "services/billing/arena.yaml", "services/billing/billing.pack.json",
		"services/billing/prompts/refund.yaml", "shared/tone.yaml"}
	gotInputs := append([]string(nil), billing.Inputs...)
	if !sameSet(gotInputs, wantInputs) {
		t.Errorf("billing inputs = %q, want %q", gotInputs, wantInputs)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

func TestDiscoverOptions(t *testing.T) {
	dir := repo(t)
	follows, err := ParseFollows("production: staging")
	if err != nil {
		t.Fatal(err)
	}
	// Written from the repository root with "./" (as a working-directory
	// is), a glob found nothing: the walk's paths have no "./".
	for _, pat := range []string{"services/**/arena.yaml", "./services/**/arena.yaml", "././services/*/arena.yaml"} {
		found, err := Discover(open(t, dir), Options{Patterns: []string{pat}, Environments: []string{"production"}, Follows: follows})
		if err != nil {
			t.Fatal(err)
		}
		if len(found.Targets) != 2 {
			t.Fatalf("%s: targets = %+v, want billing and support production", pat, found.Targets)
		}
		for _, tg := range found.Targets {
			if tg.Environment != "production" || tg.Wave != 2 || tg.Follows != "staging" {
				t.Errorf("%+v: want production, wave 2, following staging", tg)
			}
		}
	}
}

func TestDiscoverRefuses(t *testing.T) {
	dir := repo(t)
	for _, pat := range []string{"../**/arena.yaml", "/etc/arena.yaml", "[bad"} {
		if _, err := Discover(open(t, dir), Options{Patterns: []string{pat}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("pattern %q: err = %v, want ErrInvalid", pat, err)
		}
	}
	writeFiles(t, dir, map[string]string{"services/support/arena.yaml": strings.Replace(arena([]string{"a", "b"}, ""),
		"name: bot\n", "name: bot\n  annotations:\n    arena-deploy/follows: \"a: b, b: a\"\n", 1)})
	_, err := Discover(open(t, dir), Options{})
	if !errors.Is(err, ErrArenaFollows) || !strings.Contains(err.Error(), "services/support/arena.yaml") || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: err = %v, want ErrArenaFollows naming the file and the cycle", err)
	}
}

// TestBrokenArenaIsStillATarget: a project whose arena file does not load
// is kept, so its plan job says what is wrong instead of the project
// silently dropping out of the matrix.
func TestBrokenArenaIsStillATarget(t *testing.T) {
	dir := repo(t)
	writeFiles(t, dir, map[string]string{"services/billing/arena.yaml": arena([]string{"staging"},
		"  prompt_configs:\n    - id: gone\n      file: prompts/gone.yaml\n")})
	found, err := Discover(open(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range found.Targets {
		if tg.WorkingDirectory == "services/billing" {
			if tg.Problem == "" || !strings.Contains(tg.Problem, "gone.yaml") {
				t.Errorf("problem = %q, want the missing file named", tg.Problem)
			}
			return
		}
	}
	t.Fatal("billing dropped out")
}

func TestFollows(t *testing.T) {
	f, err := ParseFollows("production: staging\nstaging=dev, canary: staging")
	if err != nil {
		t.Fatal(err)
	}
	waves, err := f.Waves()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"dev": 1, "staging": 2, "production": 3, "canary": 3}
	if !reflect.DeepEqual(waves, want) {
		t.Errorf("waves = %v, want %v", waves, want)
	}
	for _, bad := range []string{"production", "a: a", "a: b, a: c", ": b"} {
		if _, err := ParseFollows(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: err = %v, want ErrInvalid", bad, err)
		}
	}
}

// TestChanged asks the emulator's compare API for what a pull request
// changed, below and above the 300 files it lists.
func TestChanged(t *testing.T) {
	gh := ghemu.New(t)
	client := gh.GitHubClient(ghemu.DefaultToken)
	seed := map[string][]byte{}
	for i := 0; i < 400; i++ {
		seed[fmt.Sprintf("docs/%03d.md", i)] = []byte("v1")
	}
	seed["services/billing/prompts/refund.yaml"] = []byte("v1")
	base := gh.CommitTree("main", seed, "seed")
	head := gh.CommitTree("pr-1", map[string][]byte{"services/billing/prompts/refund.yaml": []byte("v2"), "docs/000.md": nil}, "edit")
	c, err := Changed(context.Background(), client, ghemu.DefaultOwner, ghemu.DefaultRepo, base, head)
	if err != nil {
		t.Fatal(err)
	}
	if c.All != "" || !c.Files["services/billing/prompts/refund.yaml"] || !c.Files["docs/000.md"] || len(c.Files) != 2 || c.Calls != 1 {
		t.Errorf("change = %+v, want the two files in one call", c)
	}
	// 350 files: the compare lists 300; the trees find the rest.
	edits := map[string][]byte{}
	for i := 0; i < 350; i++ {
		edits[fmt.Sprintf("docs/%03d.md", i)] = []byte("v2")
	}
	edits["services/support/prompts/x.yaml"] = []byte("new")
	big := gh.CommitTree("pr-2", edits, "big")
	c, err = Changed(context.Background(), client, ghemu.DefaultOwner, ghemu.DefaultRepo, base, big)
	if err != nil {
		t.Fatal(err)
	}
	if c.All != "" || len(c.Files) != 351 || !c.Files["services/support/prompts/x.yaml"] || c.Calls != 3 {
		t.Errorf("big change: %d files, all=%q, calls=%d; want 351 in 3 calls, x.yaml among them", len(c.Files), c.All, c.Calls)
	}
	c, err = Changed(context.Background(), client, ghemu.DefaultOwner, ghemu.DefaultRepo, strings.Repeat("0", 40), head)
	if err != nil || c.All == "" || c.Calls != 0 {
		t.Errorf("no base: %+v, %v; want every target, no call", c, err)
	}
	if v := gh.Violations(); len(v) > 0 {
		t.Errorf("requests or answers outside GitHub's description: %v", v)
	}
}

func TestSelect(t *testing.T) {
	found, err := Discover(open(t, repo(t)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		change *Change
		shared []string
		want   []string // working-directory/environment
		reason string
	}{
		{"a service's prompt", &Change{Files: map[string]bool{"services/billing/prompts/refund.yaml": true}}, nil,
			[]string{"services/billing/production", "services/billing/staging"}, "services/billing/prompts/refund.yaml changed"},
		{"a shared prompt", &Change{Files: map[string]bool{"shared/tone.yaml": true}}, nil,
			[]string{"services/billing/production", "services/billing/staging", "services/support/staging", "services/support/production"}, "shared/tone.yaml changed"},
		{"the adapter pinned in the project", &Change{Files: map[string]bool{"services/support/.promptarena/adapters/promptarena-deploy-local": true}}, nil,
			[]string{"services/support/staging", "services/support/production"}, "services/support/.promptarena/adapters/promptarena-deploy-local changed"},
		// A pack the pull request deleted is no file of the checkout:
		// the project's plan, which finds its pack by *.pack.json beside
		// the arena file, now has none (or another one) to deploy.
		{"the project's pack deleted", &Change{Files: map[string]bool{"services/billing/old.pack.json": true}}, nil,
			[]string{"services/billing/production", "services/billing/staging"}, "services/billing/old.pack.json changed"},
		{"the root project's pack deleted", &Change{Files: map[string]bool{"root.pack.json": true}}, nil,
			[]string{"./default"}, "root.pack.json changed"},
		{"a pack in no project's folder", &Change{Files: map[string]bool{"services/billing/build/x.pack.json": true, "services/x.pack.json": true, "services/billing/pack.json.bak": true}}, nil, nil, ""},
		{"nothing of theirs", &Change{Files: map[string]bool{"README.md": true}}, nil, nil, ""},
		{"the workflow", &Change{Files: map[string]bool{".github/workflows/deploy.yml": true}}, []string{".github/workflows/**"},
			[]string{"./default", "services/billing/production", "services/billing/staging", "services/support/staging", "services/support/production"}, ".github/workflows/deploy.yml changed (shared by every target)"},
		{"the workflow, its glob written with ./", &Change{Files: map[string]bool{".github/workflows/deploy.yml": true}}, []string{"./.github/workflows/**"},
			[]string{"./default", "services/billing/production", "services/billing/staging", "services/support/staging", "services/support/production"}, ".github/workflows/deploy.yml changed (shared by every target)"},
		{"everything", &Change{All: "all-targets is true"}, nil,
			[]string{"./default", "services/billing/production", "services/billing/staging", "services/support/staging", "services/support/production"}, "every target: all-targets is true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Select(found.Targets, c.change, c.shared)
			var names []string
			for _, tg := range got {
				names = append(names, tg.WorkingDirectory+"/"+tg.Environment)
				if tg.Reason != c.reason {
					t.Errorf("%s: reason %q, want %q", tg.WorkingDirectory, tg.Reason, c.reason)
				}
			}
			if !reflect.DeepEqual(names, c.want) {
				t.Errorf("selected %q, want %q", names, c.want)
			}
		})
	}
}

func TestMatrix(t *testing.T) {
	ts := []Target{{WorkingDirectory: "a", Config: "arena.yaml", Environment: "staging", Wave: 1, Reason: "x changed"},
		{WorkingDirectory: "a", Config: "arena.yaml", Environment: "production", Wave: 2, Follows: "staging", Reason: "x changed"}}
	m, err := Matrix(ts)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"include":[{"working-directory":"a","config":"arena.yaml","environment":"staging","wave":1,"reason":"x changed"},` +
		`{"working-directory":"a","config":"arena.yaml","environment":"production","wave":2,"follows":"staging","reason":"x changed"}]}`
	if m != want {
		t.Errorf("matrix\n got %s\nwant %s", m, want)
	}
	waves, err := Waves(ts)
	if err != nil || len(waves) != 2 || waves[1][0].Environment != "production" {
		t.Errorf("waves = %+v, %v", waves, err)
	}
	if _, err := Matrix(make([]Target, MaxJobs+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("257 targets: err = %v, want ErrInvalid", err)
	}
	if _, err := Waves([]Target{{Wave: MaxWaves + 1}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("wave 4: err = %v, want ErrInvalid", err)
	}
}

// TestSymlinkedInputs: a file a target reads through a symlink (a prompt
// linked from a shared folder, or a linked prompts folder) is an input by
// the name its content changes under (the link's target), and the link
// itself is one too (retargeting it changes what is read).
func TestSymlinkedInputs(t *testing.T) {
	dir := repo(t)
	writeFiles(t, dir, map[string]string{
		"services/billing/arena.yaml": arena([]string{"staging"},
			"  prompt_configs:\n    - id: refund\n      file: prompts/refund.yaml\n    - id: tone\n      file: linked/tone.yaml\n"),
		"shared/common/tone.yaml": fmt.Sprintf(promptFile, "tone", "tone"),
		"shared/real-refund.yaml": fmt.Sprintf(promptFile, "refund", "refund"),
	})
	if err := os.Remove(filepath.Join(dir, "services/billing/prompts/refund.yaml")); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{
		"services/billing/prompts/refund.yaml": "../../../shared/real-refund.yaml",
		"services/billing/linked":              "../../shared/common",
	} {
		if err := os.Symlink(to, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	found, err := Discover(open(t, dir), Options{Patterns: []string{"services/billing/arena.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Targets) != 1 || found.Targets[0].Problem != "" {
		t.Fatalf("targets = %+v", found.Targets)
	}
	for _, changed := range []string{
		"shared/real-refund.yaml",              // the file a linked prompt reads
		"shared/common/tone.yaml",              // a file under a linked folder
		"services/billing/linked",              // the folder link retargeted
		"services/billing/prompts/refund.yaml", // the file link retargeted
	} {
		got := Select(found.Targets, &Change{Files: map[string]bool{changed: true}}, nil)
		if len(got) != 1 {
			t.Errorf("%s changed: billing not selected (inputs %q)", changed, found.Targets[0].Inputs)
		}
	}
}

// TestPreviewTemplateIsNotATarget: an environment whose config names the
// pull request ({pr}) is the template command preview deploys per pull
// request; as a target of its own, every merge would deploy it with
// "{pr}" in its names.
func TestPreviewTemplateIsNotATarget(t *testing.T) {
	dir := repo(t)
	a := strings.Replace(arena([]string{"staging", "production"}, ""), "    environments:\n",
		"    environments:\n      preview:\n        config:\n          target_dir: \".deployed/pr-{pr}\"\n", 1)
	writeFiles(t, dir, map[string]string{"services/billing/arena.yaml": a})
	for _, envs := range [][]string{nil, {"preview", "staging"}} {
		found, err := Discover(open(t, dir), Options{Patterns: []string{"services/billing/arena.yaml"}, Environments: envs})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tg := range found.Targets {
			got = append(got, tg.Environment)
		}
		want := []string{"production", "staging"}
		if envs != nil {
			want = []string{"staging"}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("environments %q: targets %q, want %q", envs, got, want)
		}
		if len(found.Skipped) != 1 || !strings.Contains(found.Skipped[0].Why, "preview") {
			t.Errorf("environments %q: skipped %+v, want the preview template said", envs, found.Skipped)
		}
	}
}

// TestUnsafeNamesAreNotTargets: the matrix's values come from the
// repository's files, a pull request's own: a folder or environment name
// with a line break or another control character, or white space at
// either end (which an action's input loses), is no target; the summary
// says why.
func TestUnsafeNamesAreNotTargets(t *testing.T) {
	dir := repo(t)
	writeFiles(t, dir, map[string]string{
		"services/evil\n::error::x/arena.yaml": arena(nil, ""),
		"services/billing /arena.yaml":         arena(nil, ""),
		"services/tabbed/arena.yaml":           strings.Replace(arena([]string{"staging"}, ""), "      staging:\n", "      \"staging\\t\":\n", 1),
		"services/fine one/arena.yaml":         arena(nil, ""),
	})
	found, err := Discover(open(t, dir), Options{Patterns: []string{"services/*/arena.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range found.Targets {
		got = append(got, tg.WorkingDirectory+"|"+tg.Environment)
	}
	want := []string{"services/billing|production", "services/billing|staging", "services/fine one|default",
		"services/support|staging", "services/support|production"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets %q, want %q", got, want)
	}
	if len(found.Skipped) != 3 {
		t.Errorf("skipped %+v, want the three unsafe names", found.Skipped)
	}
	for _, sk := range found.Skipped {
		if !strings.Contains(sk.Why, "control character") && !strings.Contains(sk.Why, "white space") {
			t.Errorf("%q: why %q", sk.Path, sk.Why)
		}
	}
}
