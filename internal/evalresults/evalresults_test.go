package evalresults

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// copyFixture copies testdata/promptarena/<name> into a fresh workspace
// and returns the workspace and the results folder in it.
func copyFixture(t *testing.T, name string) (*workspace.Root, string) {
	t.Helper()
	ws := t.TempDir()
	dir := filepath.Join(ws, "out")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "promptarena", name))); err != nil {
		t.Fatal(err)
	}
	root, err := workspace.Open(ws)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root, dir
}

func load(t *testing.T, name string) *Results {
	t.Helper()
	root, dir := copyFixture(t, name)
	res, err := Load(root, dir, root.Dir())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func byKey(res *Results) map[string]Case {
	m := map[string]Case{}
	for _, c := range res.Cases {
		m[c.Label()] = c
	}
	return m
}

const hostileID = "greet [click](https_evil.test) @octocat #1 _em_ ~~s~~ &amp; {{x}}"

// TestPromptArenaResults reads promptarena's own output: every run of
// every scenario, provider and region; pass and fail as promptarena
// decides them; trials, skipped runs and errors; cost, tokens, duration.
func TestPromptArenaResults(t *testing.T) {
	res := load(t, "pr")
	if res.Format != FormatPromptArena || res.Source != "out" || res.Files != 25 || !strings.HasPrefix(res.Digest, "sha256:") {
		t.Errorf("summary %s %s %d %s", res.Format, res.Source, res.Files, res.Digest)
	}
	tt := res.Totals
	if tt.Cases != 24 || tt.Passed != 4 || tt.Failed != 16 || tt.Skipped != 4 {
		t.Errorf("totals %+v", tt)
	}
	// Trials count in runs: 4 escalation groups of 3 trials, 2 passed each.
	if tt.Runs != 16+4*3 || tt.RunsPassed != 4+4*2 {
		t.Errorf("runs %d passed %d", tt.Runs, tt.RunsPassed)
	}
	if tt.CostUSD <= 0 || tt.InputTokens <= 0 || tt.OutputTokens <= 0 || tt.DurationMS < 0 {
		t.Errorf("cost %v tokens %d/%d", tt.CostUSD, tt.InputTokens, tt.OutputTokens)
	}
	cs := byKey(res)
	cases := []struct {
		label, status, why, msg string
		runs, passed            int
	}{
		{"greet · openai-mini · us", Passed, "", "", 1, 1},
		{"greet · openai-4o · eu", Passed, "", "", 1, 1},
		{"refund-limit · openai-4o · eu", Failed, WhyAssertions, "content_includes: missing patterns: 80 dollars", 1, 0},
		{"escalation-summary · openai-mini · us", Failed, WhyTrials, "2 of 3 trials passed", 3, 2},
		{"broken-request · openai-mini · eu", Failed, WhyError, "status 400", 1, 0},
		{"overloaded · openai-4o · us", Skipped, "", "provider transport error", 0, 0},
		{hostileID + " · openai-mini · us", Failed, WhyAssertions, "missing patterns: @octocat <script>", 1, 0},
	}
	for _, c := range cases {
		got, ok := cs[c.label]
		if !ok {
			t.Errorf("no case %q", c.label)
			continue
		}
		if got.Status != c.status || got.Why != c.why || !strings.Contains(got.Message, c.msg) || got.Runs != c.runs || got.RunsPassed != c.passed {
			t.Errorf("%s: %s/%s %q runs %d/%d; want %s/%s %q %d/%d", c.label, got.Status, got.Why, got.Message, got.RunsPassed, got.Runs, c.status, c.why, c.msg, c.passed, c.runs)
		}
	}
	// A trial group's file measures its first trial only.
	if c := cs["escalation-summary · openai-mini · us"]; c.Measured != 1 || c.Runs != 3 {
		t.Errorf("trial case measured %d of %d runs", c.Measured, c.Runs)
	}
	if c := cs["greet · openai-4o · us"]; c.CostUSD <= cs["greet · openai-mini · us"].CostUSD || c.InputTokens == 0 || len(c.RunIDs) != 1 {
		t.Errorf("greet on 4o %+v", c)
	}
	// What the runs say of their pack: the system prompts they ran.
	var prompts []string
	for _, id := range res.Identities {
		prompts = append(prompts, id.SystemPrompts...)
	}
	if !strings.Contains(strings.Join(prompts, "\n"), "You are a friendly support agent for Acme.") {
		t.Errorf("no system prompt read: %q", prompts)
	}
	// The same files, named by their index.json, read the same.
	root, dir := copyFixture(t, "pr")
	again, err := Load(root, filepath.Join(dir, "index.json"), root.Dir())
	if err != nil || again.Digest != res.Digest || again.Totals != res.Totals {
		t.Errorf("index.json: %v %+v", err, again)
	}
}

// TestJUnitOfPromptArena: promptarena's JUnit of the same run names the
// same cases (scenario, provider, region from its system-out) with the
// same outcomes, where the JSON has no trials or skipped runs marked.
func TestJUnitOfPromptArena(t *testing.T) {
	root, dir := copyFixture(t, "pr")
	res, err := Load(root, filepath.Join(dir, "junit.xml"), root.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != FormatJUnit || res.Totals.Cases != 24 || res.Totals.Failed != 16 || res.Files != 1 {
		t.Fatalf("totals %+v", res.Totals)
	}
	cs := byKey(res)
	if c := cs["greet · openai-mini · us"]; c.Status != Passed || c.CostUSD <= 0 || c.InputTokens == 0 || c.DurationMS < 0 || c.Name != "" {
		t.Errorf("greet %+v", c)
	}
	if c := cs["broken-request · openai-4o · eu"]; c.Status != Failed || c.Why != WhyError || !strings.Contains(c.Message, "status 400") {
		t.Errorf("broken %+v", c)
	}
	if _, ok := cs[hostileID+" · openai-4o · eu"]; !ok {
		t.Errorf("the hostile scenario is not a case: %v", cs)
	}
	// A folder with only junit.xml reads it.
	if err := os.Remove(filepath.Join(dir, "index.json")); err != nil {
		t.Fatal(err)
	}
	if res, err := Load(root, dir, root.Dir()); err != nil || res.Format != FormatJUnit {
		t.Errorf("folder with junit.xml: %v", err)
	}
}

// TestJUnitOfOtherTools: pytest's and go-junit-report's shapes (a lone
// <testsuite>, nested suites, <skipped/>, failures with text only).
func TestJUnitOfOtherTools(t *testing.T) {
	ws := t.TempDir()
	pytest := `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.5">
<testcase classname="tests.test_bot" name="test_greets" time="0.100"/>
<testcase classname="tests.test_bot" name="test_refund" time="0.200"><failure message="assert 'refund' in 'no'">AssertionError</failure></testcase>
<testcase classname="tests.test_bot" name="test_slow" time="0"><skipped type="pytest.skip" message="slow test"/></testcase>
</testsuite></testsuites>`
	gojunit := `<testsuite name="pkg" tests="2"><testsuite name="inner"><testcase name="TestA" classname="pkg" time="1.5"/></testsuite>
<testcase name="TestB" classname="pkg"><error>panic: boom</error></testcase></testsuite>`
	for name, body := range map[string]string{"pytest.xml": pytest, "go.xml": gojunit} {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, _ := workspace.Open(ws)
	defer root.Close()
	res, err := Load(root, filepath.Join(ws, "pytest.xml"), ws)
	if err != nil {
		t.Fatal(err)
	}
	cs := byKey(res)
	if c := cs["tests.test_bot · test_refund"]; c.Status != Failed || c.Why != WhyAssertions || c.Message != "assert 'refund' in 'no'" {
		t.Errorf("refund %+v (%v)", c, cs)
	}
	if c := cs["tests.test_bot · test_slow"]; c.Status != Skipped || c.Message != "slow test" || c.Runs != 0 {
		t.Errorf("slow %+v", c)
	}
	if c := cs["tests.test_bot · test_greets"]; c.Status != Passed || c.DurationMS != 100 {
		t.Errorf("greets %+v", c)
	}
	res, err = Load(root, filepath.Join(ws, "go.xml"), ws)
	if err != nil {
		t.Fatal(err)
	}
	cs = byKey(res)
	if c := cs["pkg · TestB"]; c.Status != Failed || c.Why != WhyError || c.Message != "panic: boom" {
		t.Errorf("TestB %+v", cs)
	}
	if c := cs["pkg · TestA"]; c.Status != Passed || c.DurationMS != 1500 {
		t.Errorf("TestA %+v", c)
	}
}

// TestJUnitSuiteFailuresWithoutACase: failures or errors a suite (or the
// root) reports beyond its test cases' are a failed case of that suite:
// a suite whose setup failed, or a file that did not load, reports an
// error and no test case for it, and read only by its cases it passed.
// Counts that match, nested suites counted once, add nothing.
func TestJUnitSuiteFailuresWithoutACase(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       string // the added case's label and why; "" for none
	}{
		{"setup error", `<testsuites><testsuite name="tests.test_bot" tests="1" errors="1" failures="0"><testcase classname="tests.test_bot" name="test_greets"/></testsuite></testsuites>`,
			"tests.test_bot · (the suite itself) error"},
		{"failures beyond the cases", `<testsuite name="bot" tests="2" failures="2"><testcase classname="bot" name="a"><failure message="x"/></testcase><testcase classname="bot" name="b"/></testsuite>`,
			"bot · (the suite itself) assertions"},
		{"the root's claim", `<testsuites failures="1"><testsuite name="bot"><testcase classname="bot" name="a"/></testsuite></testsuites>`,
			"r.xml · (the suite itself) assertions"},
		{"counts that match", `<testsuites failures="1" errors="1"><testsuite name="bot" failures="1" errors="1"><testcase classname="bot" name="a"><failure/></testcase><testcase classname="bot" name="b"><error/></testcase></testsuite></testsuites>`, ""},
		{"nested suites counted once", `<testsuites failures="1"><testsuite name="outer" failures="1"><testsuite name="inner" failures="1"><testcase classname="inner" name="a"><failure/></testcase></testsuite></testsuite></testsuites>`, ""},
		{"no claim", `<testsuite name="bot" failures="" errors="n/a"><testcase classname="bot" name="a"/></testsuite>`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			if err := os.WriteFile(filepath.Join(ws, "r.xml"), []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			root, _ := workspace.Open(ws)
			defer root.Close()
			res, err := Load(root, filepath.Join(ws, "r.xml"), ws)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, c := range res.Cases {
				if c.Name == "(the suite itself)" {
					if c.Status != Failed || c.Message == "" {
						t.Errorf("%+v", c)
					}
					got = c.Label() + " " + c.Why
				}
			}
			if got != tc.want {
				t.Errorf("added %q, want %q (%+v)", got, tc.want, res.Cases)
			}
		})
	}
}

// TestBadResults: each kind of bad, empty or foreign results fails with
// its own error, naming the file.
func TestBadResults(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to load
		err   error
		says  string
	}{
		{"missing", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") }, ErrNotFound, "out/nope does not exist"},
		{"a folder without results", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "x", "results.md"), "# hi")
			return filepath.Join(dir, "x")
		}, ErrNotFound, "out/x holds neither index.json"},
		{"not JSON", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "index.json"), "{not json")
			return dir
		}, ErrInvalid, "out/index.json is not JSON"},
		{"foreign JSON", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "index.json"), `{"name": "my-app", "version": "1.0.0"}`)
			return dir
		}, ErrForeign, "out/index.json has neither run_ids nor total_runs"},
		{"empty", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "index.json"), `{"total_runs": 0, "run_ids": []}`)
			return dir
		}, ErrEmpty, "lists no run"},
		{"a run file missing", func(t *testing.T, dir string) string {
			files, _ := filepath.Glob(filepath.Join(dir, "*_greet_*.json"))
			os.Remove(files[0])
			return dir
		}, ErrInvalid, "is missing"},
		{"a run file damaged", func(t *testing.T, dir string) string {
			files, _ := filepath.Glob(filepath.Join(dir, "*_greet_*.json"))
			write(t, files[0], `{"RunID": 7}`)
			return dir
		}, ErrInvalid, "is not a promptarena run result"},
		{"a run file of another run", func(t *testing.T, dir string) string {
			files, _ := filepath.Glob(filepath.Join(dir, "*_greet_*.json"))
			write(t, files[0], `{"RunID": "other", "ScenarioID": "s", "ProviderID": "p"}`)
			return dir
		}, ErrInvalid, `holds the run "other"`},
		{"a foreign run file", func(t *testing.T, dir string) string {
			files, _ := filepath.Glob(filepath.Join(dir, "*_greet_*.json"))
			write(t, files[0], `{"id": 1}`)
			return dir
		}, ErrForeign, "has no RunID"},
		{"a run id that leaves the folder", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "index.json"), `{"total_runs": 1, "run_ids": ["../../etc/passwd"]}`)
			return dir
		}, ErrInvalid, "is not a file name"},
		{"counts that disagree", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "index.json"), `{"total_runs": 3, "run_ids": ["a"]}`)
			return dir
		}, ErrInvalid, "total_runs 3 but lists 1"},
		{"XML that is not JUnit", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "page.xml"), `<html><body>hi</body></html>`)
			return filepath.Join(dir, "page.xml")
		}, ErrForeign, "out/page.xml is XML whose root is <html>"},
		{"JUnit without a test", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "j.xml"), `<testsuites name="x"></testsuites>`)
			return filepath.Join(dir, "j.xml")
		}, ErrEmpty, "out/j.xml holds no test case"},
		{"broken XML", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "j.xml"), `<testsuites><testsuite>`)
			return filepath.Join(dir, "j.xml")
		}, ErrInvalid, "out/j.xml"},
		{"some other file", func(t *testing.T, dir string) string { return filepath.Join(dir, "junit.xml.txt") }, ErrNotFound, ""},
		{"a file of another kind", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "results.md"), "# results")
			return filepath.Join(dir, "results.md")
		}, ErrForeign, "out/results.md is neither"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, dir := copyFixture(t, "otherpack")
			_, err := Load(root, c.setup(t, dir), root.Dir())
			if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("error %v; want %v saying %q", err, c.err, c.says)
			}
		})
	}
}

func TestResultsOutsideTheWorkspace(t *testing.T) {
	root, dir := copyFixture(t, "otherpack")
	outside := t.TempDir()
	write(t, filepath.Join(outside, "index.json"), `{"total_runs": 0, "run_ids": []}`)
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	_, err := Load(root, filepath.Join(dir, "link"), root.Dir())
	if !errors.Is(err, workspace.ErrOutside) {
		t.Fatalf("a symlink out of the workspace: %v", err)
	}
}

func write(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckFresh: results count when written after this job's checkout
// and not after now. A time in the future is one set by hand (touch -d):
// on a self-hosted runner that keeps the workspace, an earlier job (a pull
// request's) could leave results dated past any later checkout, and they
// passed as written by the merge's own evaluation.
func TestCheckFresh(t *testing.T) {
	checkout := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	now := checkout.Add(10 * time.Minute)
	cases := []struct {
		name    string
		written time.Time
		says    string // "" when fresh
	}{
		{"after the checkout", checkout.Add(5 * time.Minute), ""},
		{"a moment past now (a file system's clock)", now.Add(30 * time.Second), ""},
		{"before the checkout", checkout.Add(-time.Hour), "not after this job's checkout (the time of .git/HEAD"},
		{"as old as the checkout", checkout, "not after this job's checkout"},
		{"in the future", now.Add(365 * 24 * time.Hour), "after this run's clock"},
		{"an hour ahead", now.Add(time.Hour), "after this run's clock"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := []File{{Rel: "out/index.json", ModTime: checkout.Add(time.Minute)}, {Rel: "out/r1.json", ModTime: c.written}}
			err := CheckFresh(files, checkout, "the time of .git/HEAD", now)
			switch {
			case c.says == "" && err != nil:
				t.Errorf("fresh results refused: %v", err)
			case c.says != "" && (!errors.Is(err, ErrUnbound) || !strings.Contains(err.Error(), "out/r1.json") || !strings.Contains(err.Error(), c.says)):
				t.Errorf("got %v; want %v naming out/r1.json and saying %q", err, ErrUnbound, c.says)
			}
		})
	}
	res := load(t, "otherpack")
	if err := CheckFresh(res.Read, res.Read[0].ModTime.Add(-time.Minute), "x", time.Now()); err != nil {
		t.Errorf("results just written: %v", err)
	}
}

type repoFiles map[string]map[string]string

func (r repoFiles) FilesAt(_ context.Context, dir string) (map[string]string, error) {
	return r[dir], nil
}

func TestCheckNotCommitted(t *testing.T) {
	res := load(t, "otherpack")
	idx := res.Read[0]
	if err := CheckNotCommitted(context.Background(), repoFiles{"out": {"index.json": "0000"}}, res.Read); err != nil {
		t.Errorf("a committed file of the same name, other content: %v", err)
	}
	err := CheckNotCommitted(context.Background(), repoFiles{"out": {filepath.Base(idx.Rel): idx.BlobSHA}}, res.Read)
	if !errors.Is(err, ErrUnbound) || !strings.Contains(err.Error(), idx.Rel) {
		t.Errorf("a committed results file: %v", err)
	}
}

func examplePack(t *testing.T) Pack {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "example", "support-bot.pack.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Prompts json.RawMessage `json:"prompts"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return PackFromFields("support-bot", "Support bot", "1.2.0", "sha256:abc", []byte(m.Prompts))
}

func TestCheckIdentity(t *testing.T) {
	pack := examplePack(t)
	if len(pack.Templates) != 3 {
		t.Fatalf("templates %v", pack.Templates)
	}
	if err := CheckIdentity(load(t, "pr").Identities, pack); err != nil {
		t.Errorf("this pack's results: %v", err)
	}
	err := CheckIdentity(load(t, "otherpack").Identities, pack)
	if !errors.Is(err, ErrOtherPack) || !strings.Contains(err.Error(), "You are a travel agent for Acme") || !strings.Contains(err.Error(), "support-bot 1.2.0") ||
		!strings.Contains(err.Error(), "escalation, greeting, refund") {
		t.Errorf("another pack's results: %v", err)
	}
	// A pack name, when results carry one.
	err = CheckIdentity([]Identity{{RunID: "r1", Scenario: "s", PromptPack: "travel-bot"}}, pack)
	if !errors.Is(err, ErrOtherPack) || !strings.Contains(err.Error(), `"travel-bot"`) {
		t.Errorf("a pack name: %v", err)
	}
	if err := CheckIdentity([]Identity{{RunID: "r1", Scenario: "s", PromptPack: "support-bot"}}, pack); err != nil {
		t.Errorf("this pack's name: %v", err)
	}
	// A replayed recording ran another run's prompt: not this pack's to check.
	if err := CheckIdentity([]Identity{{RunID: "r1", Scenario: "e", Provider: "eval", SystemPrompts: []string{"anything"}}}, pack); err != nil {
		t.Errorf("an eval replay: %v", err)
	}
	// Variables and fragments fill placeholders; the text around them
	// stays, white space aside.
	if err := CheckIdentity([]Identity{{RunID: "r", Scenario: "s", SystemPrompts: []string{"Help the customer with a refund.\n  Look the order up with lookup_order first. Never promise a refund above 1,000 euros."}}}, pack); err != nil {
		t.Errorf("a rendered refund prompt: %v", err)
	}
	if err := CheckIdentity([]Identity{{RunID: "r", Scenario: "s", SystemPrompts: []string{"Help the customer with a refund. Never promise a refund above 5."}}}, pack); err == nil {
		t.Error("a prompt missing a sentence of the template matched")
	}
}
