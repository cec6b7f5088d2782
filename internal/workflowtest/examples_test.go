package workflowtest

import (
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// action is the action under test: the image .ci/run built
// (ARENA_TEST_IMAGE), else the binary it packages.
func action(t *testing.T) *Action {
	t.Helper()
	root := deploytest.RepoRoot()
	var exec Executor = ImageFromEnv(t)
	if exec == (*Image)(nil) {
		exec = BuildBinary(t, root)
	}
	a, err := LoadAction(root, "arena-deploy/arena-deploy-action", exec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestScenarios plays every scenarios/*.yaml: the examples' and any
// other workflow's (docs/examples-harness.md).
func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("scenarios/*.yaml")
	if len(files) == 0 {
		t.Fatal("no scenarios")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			s, err := LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			s.Play(t, deploytest.RepoRoot(), action(t))
		})
	}
}

// TestEveryExampleHasAScenario: an example nobody runs is an example that
// does not work.
func TestEveryExampleHasAScenario(t *testing.T) {
	root := deploytest.RepoRoot()
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "*.yml"))
	if len(examples) < 5 {
		t.Fatalf("found %d examples", len(examples))
	}
	covered := map[string]bool{}
	files, _ := filepath.Glob("scenarios/*.yaml")
	for _, f := range files {
		s, err := LoadScenario(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, wf := range s.Workflows {
			covered[wf] = true
			if _, _, err := WorkflowSource(root, wf); err != nil {
				t.Errorf("%s: workflow %s: %v", f, wf, err)
			}
		}
	}
	var missing []string
	for _, e := range examples {
		if !covered["examples/"+path.Base(filepath.ToSlash(e))] {
			missing = append(missing, filepath.Base(e))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("examples without a scenario in internal/workflowtest/scenarios: %v", missing)
	}
}
