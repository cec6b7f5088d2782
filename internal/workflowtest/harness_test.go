package workflowtest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The harness's own tests: small workflows of run: steps and stand-ins,
// each checking one rule of GitHub's against what the harness does.

func newTestHarness(t *testing.T, workflows map[string]string) *Harness {
	t.Helper()
	h := New(t, nil)
	files := Files{"README.md": []byte("app\n"), "src/main.txt": []byte("v1\n"), "docs/guide.md": []byte("guide\n")}
	for name, wf := range workflows {
		files[".github/workflows/"+name] = []byte(wf)
	}
	h.Seed(files)
	return h
}

// states is every job of runs: name → conclusion (or state).
func states(runs ...*Run) map[string]string {
	out := map[string]string{}
	for _, r := range runs {
		for _, j := range r.Jobs {
			if j.Status == Completed {
				out[j.Name] = j.Conclusion
			} else {
				out[j.Name] = j.Status
			}
		}
	}
	return out
}

func jobNamed(t *testing.T, r *Run, name string) *JobRun {
	t.Helper()
	for _, j := range r.Jobs {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("run %d has no job %q: %v", r.ID, name, states(r))
	return nil
}

func expectStates(t *testing.T, got, want map[string]string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("jobs %v, want %v", got, want)
	}
}

func TestMatrixFromJSONOfAnEarlierJobsOutput(t *testing.T) {
	h := newTestHarness(t, map[string]string{"fan.yml": `
on: push
jobs:
  targets:
    runs-on: ubuntu-latest
    outputs:
      matrix: ${{ steps.list.outputs.matrix }}
    steps:
      - id: list
        run: echo 'matrix={"include":[{"dir":"a","env":"staging"},{"dir":"b","env":"production"}]}' >> "$GITHUB_OUTPUT"
  deploy:
    needs: targets
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix: ${{ fromJSON(needs.targets.outputs.matrix) }}
    steps:
      - id: say
        run: echo "said=${{ matrix.dir }}-${{ matrix.env }}-${{ strategy.job-index }}/${{ strategy.job-total }}" >> "$GITHUB_OUTPUT"
`})
	runs := h.Push(Files{"src/main.txt": []byte("v2\n")}, "change")
	expectStates(t, states(runs...), map[string]string{"targets": Success, "deploy (a, staging)": Success, "deploy (b, production)": Success})
	for name, want := range map[string]string{"deploy (a, staging)": "a-staging-0/2", "deploy (b, production)": "b-production-1/2"} {
		if got := jobNamed(t, runs[0], name).Steps[0].Outputs["said"]; got != want {
			t.Errorf("%s said %q, want %q", name, got, want)
		}
	}
	// A leg is selected by its matrix values too.
	if j := jobNamed(t, runs[0], "deploy (b, production)"); !matchJob("deploy[env=production]", j) || matchJob("deploy[env=staging]", j) {
		t.Error("matrix selectors do not select by value")
	}
}

// GitHub's documented example of include and exclude ("Expanding or
// adding matrix configurations", "Excluding matrix configurations").
func TestMatrixIncludeExclude(t *testing.T) {
	var n yaml.Node
	src := `
fruit: [apple, pear]
animal: [cat, dog]
include:
  - color: green
  - color: pink
    animal: cat
  - fruit: apple
    shape: circle
  - fruit: banana
  - fruit: banana
    animal: cat
exclude:
  - fruit: pear
    animal: dog
`
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	combos, err := expandMatrix(n.Content[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range combos {
		got = append(got, c.name())
	}
	// The documentation's result, less {pear, dog} (excluded first).
	want := []string{
		"apple, cat, pink, circle", // green added, then pink over it (an added value), shape added
		"apple, dog, green, circle",
		"pear, cat, pink",
		"banana",
		"banana, cat",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("combinations\n%q\nwant\n%q", got, want)
	}
}

func TestIfNeedsAndStatusFunctions(t *testing.T) {
	h := newTestHarness(t, map[string]string{"ci.yml": `
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: exit 3
      - id: after
        run: echo never
      - id: cleanup
        if: failure()
        run: echo cleaned
  test:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: echo tested
  report:
    needs: [build, test]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ needs.build.result }} ${{ needs.test.result }}" > /dev/null
  notify:
    needs: build
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo notified
`})
	runs := h.Push(Files{"src/main.txt": []byte("v2\n")}, "change")
	expectStates(t, states(runs...), map[string]string{"build": Failure, "test": Skipped, "report": Success, "notify": Success})
	build := jobNamed(t, runs[0], "build")
	if got := []string{build.Steps[1].Conclusion, build.Steps[2].Conclusion}; !reflect.DeepEqual(got, []string{Skipped, Success}) {
		t.Errorf("steps after a failure: %v, want skipped then the failure() step", got)
	}
	if runs[0].Conclusion != Failure {
		t.Errorf("run concluded %s", runs[0].Conclusion)
	}
}

func TestEnvWithAndOutputs(t *testing.T) {
	h := newTestHarness(t, map[string]string{"env.yml": `
on: push
env:
  LEVEL: workflow
  SHA: ${{ github.sha }}
jobs:
  one:
    runs-on: ubuntu-latest
    env:
      LEVEL: job
      JOBVAR: ${{ secrets.TOKEN_X }}
    outputs:
      greeting: ${{ steps.hello.outputs.text }}
    steps:
      - run: echo "FROM_ENV_FILE=carried" >> "$GITHUB_ENV"
      - id: hello
        env:
          LEVEL: step
        run: |
          {
            echo "text<<EOF"
            echo "$LEVEL $JOBVAR $FROM_ENV_FILE"
            echo "sha ${SHA:0:7} ${{ env.LEVEL }}"
            echo "EOF"
          } >> "$GITHUB_OUTPUT"
  two:
    needs: one
    runs-on: ubuntu-latest
    steps:
      - id: echo
        run: echo 'got=${{ needs.one.outputs.greeting }}' | head -1 >> "$GITHUB_OUTPUT"
`})
	h.Secrets["TOKEN_X"] = "s3cr3t"
	runs := h.Push(Files{"src/main.txt": []byte("v2\n")}, "change")
	one := jobNamed(t, runs[0], "one")
	sha := runs[0].Event.SHA[:7]
	if got, want := one.Outputs["greeting"], "step s3cr3t carried\nsha "+sha+" step"; got != want {
		t.Errorf("job output %q, want %q", got, want)
	}
	if got := jobNamed(t, runs[0], "two").Steps[0].Outputs["got"]; got != "step s3cr3t carried" {
		t.Errorf("needs.one.outputs in the next job: %q", got)
	}
}

func TestConcurrencyGroups(t *testing.T) {
	h := newTestHarness(t, map[string]string{"deploy.yml": `
on:
  pull_request:
  push:
    branches: [main]
jobs:
  plan:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    concurrency:
      group: plan-${{ github.event.pull_request.number }}
      cancel-in-progress: true
    steps:
      - run: echo plan
  apply:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    concurrency:
      group: apply-production
      cancel-in-progress: false
    steps:
      - run: echo apply
`})
	// A newer push to a pull request cancels the older plan.
	h.Hold("plan")
	first := h.OpenPull(1, Files{"src/main.txt": []byte("v2\n")}, PullOptions{})
	expectStates(t, states(first...), map[string]string{"plan": Held, "apply": Skipped})
	second := h.PushToPull(1, Files{"src/main.txt": []byte("v3\n")})
	expectStates(t, states(first...), map[string]string{"plan": Cancelled, "apply": Skipped})
	expectStates(t, states(second...), map[string]string{"plan": Held, "apply": Skipped})
	h.Release("plan")
	expectStates(t, states(second...), map[string]string{"plan": Success, "apply": Skipped})
	if first[0].Conclusion != Cancelled {
		t.Errorf("the first run concluded %s", first[0].Conclusion)
	}

	// Applies wait, one running and one pending: a third merge cancels
	// the pending second (GitHub's documented behaviour), never the
	// running one.
	h.OpenPull(2, Files{"docs/guide.md": []byte("two\n")}, PullOptions{})
	h.OpenPull(3, Files{"docs/more.md": []byte("three\n")}, PullOptions{})
	h.Hold("apply")
	a := h.Merge(1)
	b := h.Merge(2)
	c := h.Merge(3)
	expectStates(t, states(a...), map[string]string{"plan": Skipped, "apply": Held})
	expectStates(t, states(b...), map[string]string{"plan": Skipped, "apply": Cancelled})
	expectStates(t, states(c...), map[string]string{"plan": Skipped, "apply": Pending})
	h.Release("apply")
	expectStates(t, states(a...), map[string]string{"plan": Skipped, "apply": Success})
	expectStates(t, states(c...), map[string]string{"plan": Skipped, "apply": Success})
}

func TestPullRequestFiltersAndTypes(t *testing.T) {
	h := newTestHarness(t, map[string]string{
		"src.yml": "on:\n  pull_request:\n    paths: ['src/**', '!src/**/*.md']\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n",
		"closed.yml": "on:\n  pull_request:\n    types: [closed]\njobs:\n  b:\n    if: github.event.pull_request.merged\n" +
			"    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n",
		"docs.yml": "on:\n  push:\n    branches: [main]\n    paths-ignore: ['docs/**']\njobs:\n  c:\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n",
	})
	if runs := h.OpenPull(1, Files{"docs/guide.md": []byte("new\n")}, PullOptions{}); len(runs) != 0 {
		t.Errorf("a docs change started %d runs", len(runs))
	}
	if runs := h.OpenPull(2, Files{"src/notes/x.md": []byte("x\n")}, PullOptions{}); len(runs) != 0 {
		t.Errorf("a change that a ! pattern takes back started %d runs", len(runs))
	}
	if runs := h.OpenPull(3, Files{"src/main.txt": []byte("v2\n")}, PullOptions{}); len(runs) != 1 || runs[0].Workflow.Path != ".github/workflows/src.yml" {
		t.Errorf("a src change: %d runs", len(runs))
	}
	runs := h.Merge(1) // docs only: no push run; the closed run, merged
	expectStates(t, states(runs...), map[string]string{"b": Success})
	runs = h.ClosePull(2)
	expectStates(t, states(runs...), map[string]string{"b": Skipped})
}

func TestDispatchInputs(t *testing.T) {
	h := newTestHarness(t, map[string]string{"ops.yml": `
on:
  workflow_dispatch:
    inputs:
      environment: { type: choice, options: [staging, production], required: true }
      dry: { type: boolean, default: false }
      note: { type: string }
jobs:
  go:
    runs-on: ubuntu-latest
    concurrency:
      group: ops-${{ inputs.environment }}
    steps:
      - id: show
        run: echo 'v=${{ inputs.environment }} ${{ inputs.dry }} ${{ inputs.dry == false }} [${{ inputs.note }}] ${{ github.event.inputs.dry }}' >> "$GITHUB_OUTPUT"
`})
	for _, tc := range []struct {
		inputs map[string]string
		err    string
	}{
		{map[string]string{"environment": "qa"}, "not in the list of allowed values"},
		{map[string]string{}, "Required input 'environment' not provided"},
		{map[string]string{"environment": "staging", "extra": "1"}, "Unexpected inputs"},
		{map[string]string{"environment": "staging", "dry": "yes"}, "is not a boolean"},
	} {
		if _, err := h.Dispatch("ops.yml", tc.inputs); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("dispatch %v: %v, want %q", tc.inputs, err, tc.err)
		}
	}
	r, err := h.Dispatch("ops.yml", map[string]string{"environment": "production"})
	if err != nil {
		t.Fatal(err)
	}
	if got := jobNamed(t, r, "go").Steps[0].Outputs["v"]; got != "production false true [] false" {
		t.Errorf("inputs: %q", got)
	}
}

// commentStandIn posts a comment with the job's token, like an action
// that comments.
var commentStandIn = StandIn{
	Inputs: map[string]string{"token": "${{ github.token }}", "number": ""},
	Run: func(s *StandInStep) error {
		resp, err := s.API("POST", "/repos/octo-org/app/issues/"+s.Inputs["number"]+"/comments", map[string]string{"body": "hello"})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			return fmt.Errorf("comment: %s", resp.Status)
		}
		return nil
	},
}

func TestPermissionsAndLeastPrivilege(t *testing.T) {
	h := newTestHarness(t, map[string]string{"c.yml": `
on: pull_request
permissions:
  contents: read
jobs:
  reads:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
  comments:
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
      issues: write
    steps:
      - uses: test/comment@v1
        with:
          number: ${{ github.event.pull_request.number }}
  nothing:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - uses: actions/checkout@v4
`})
	h.StandIns["test/comment"] = commentStandIn
	runs := h.OpenPull(1, Files{"src/main.txt": []byte("v2\n")}, PullOptions{})
	// Job permissions replace the workflow's; {} is none: checkout of this
	// (private) repository fails.
	expectStates(t, states(runs...), map[string]string{"reads": Success, "comments": Success, "nothing": Failure})
	got := LeastPrivilege(h, nil)
	want := []string{
		".github/workflows/c.yml job comments is granted issues: write, and none of it is needed by any run of it in this scenario: least privilege (or say why in unused-permissions)",
		".github/workflows/c.yml job nothing (nothing): GET /repos/octo-org/app/git/commits/",
	}
	if len(got) != 2 || got[0] != want[0] || !strings.HasPrefix(got[1], want[1]) || !strings.Contains(got[1], "refused 403: it needs contents: read") {
		t.Fatalf("least privilege found:\n%s", strings.Join(got, "\n"))
	}
	// Kept with a reason, issues: write then serves the comment, and
	// pull-requests: write is the one not needed.
	got = LeastPrivilege(h, map[string]map[string]string{"comments": {"issues: write": "a test"}})
	if len(got) != 2 || !strings.Contains(got[0], "granted pull-requests: write, and none of it is needed") {
		t.Errorf("with issues: write kept: %v", got)
	}

	// A fork's pull request gets read at most, and no secrets.
	h.Secrets["TOKEN_X"] = "s3cr3t"
	runs = h.OpenPull(2, Files{"src/main.txt": []byte("fork\n")}, PullOptions{Fork: true})
	expectStates(t, states(runs...), map[string]string{"reads": Success, "comments": Failure, "nothing": Failure})
	if p := jobNamed(t, runs[0], "comments").Perms["pull_requests"]; p != "read" {
		t.Errorf("a fork's token has pull-requests: %s", p)
	}
}

func TestEnvironmentsWaitForReviewers(t *testing.T) {
	h := newTestHarness(t, map[string]string{"d.yml": `
on: push
jobs:
  staging:
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - run: 'true'
  production:
    needs: staging
    runs-on: ubuntu-latest
    environment:
      name: production
      url: https://example.com/${{ github.sha }}
    steps:
      - run: 'true'
`})
	h.Environments["production"] = &Environment{Reviewers: true}
	runs := h.Push(Files{"src/main.txt": []byte("v2\n")}, "change")
	expectStates(t, states(runs...), map[string]string{"staging": Success, "production": Waiting})
	if n := h.Approve("production"); n != 1 {
		t.Fatalf("approved %d", n)
	}
	expectStates(t, states(runs...), map[string]string{"staging": Success, "production": Success})
	var got []string
	for _, d := range h.GH.Deployments() {
		var st []string
		for _, s := range d.Statuses {
			st = append(st, s.State)
		}
		got = append(got, d.Environment+" "+strings.Join(st, ",")+" "+d.Statuses[len(d.Statuses)-1].EnvironmentURL)
	}
	want := []string{"staging in_progress,success ", "production waiting,in_progress,success https://example.com/" + runs[0].Event.SHA}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("deployments %q, want %q", got, want)
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"src/**", "src/a/b.go", true}, {"src/*", "src/a/b.go", false}, {"src/*", "src/a", true},
		{"**/arena.yaml", "arena.yaml", true}, {"**/arena.yaml", "bots/x/arena.yaml", true},
		{"*.md", "docs/a.md", false}, {"**.md", "docs/a.md", true}, {"docs/?.md", "docs/a.md", true},
		{"main", "main", true}, {"releases/**", "releases/v1/x", true},
	} {
		if got := globMatch(tc.pattern, tc.path); got != tc.want {
			t.Errorf("%s ~ %s = %v", tc.pattern, tc.path, got)
		}
	}
}

// TestParseRefusesWhatItDoesNotRun: a workflow the harness would run
// differently from GitHub is refused, not half run.
func TestParseRefusesWhatItDoesNotRun(t *testing.T) {
	for _, src := range []string{
		"on: push\njobs:\n  a:\n    uses: org/repo/.github/workflows/x.yml@v1\n",
		"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container: node:20\n    steps:\n      - run: 'true'\n",
		"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: b\n    steps:\n      - run: 'true'\n",
	} {
		if _, err := ParseWorkflow("x.yml", []byte(src)); err == nil {
			t.Errorf("accepted:\n%s", src)
		}
	}
}

// TestExamplesAreLinted keeps .ci/run's actionlint step and the examples
// in step: every example is linted.
func TestExamplesAreLinted(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "examples/*.yml") {
		t.Error(".ci/run does not lint examples/*.yml")
	}
	names, _ := filepath.Glob(filepath.Join(root, "examples", "*"))
	sort.Strings(names)
	for _, n := range names {
		if !strings.HasSuffix(n, ".yml") && !strings.HasSuffix(n, ".md") {
			t.Errorf("%s: examples/ holds workflows (.yml) and their README", n)
		}
	}
}
