package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// TestRecommendedConcurrencyKeepsPlansAndAppliesApart checks the workflows
// the README and the example recommend against GitHub's documented
// semantics (one running and one pending job per group; a queued job
// cancels the pending one): a plan and an apply never share a group, an
// apply is never cancelled in progress, and the README cites the source.
func TestRecommendedConcurrencyKeepsPlansAndAppliesApart(t *testing.T) {
	root := deploytest.RepoRoot()
	readme := mustRead(t, filepath.Join(root, "README.md"))
	for _, want := range []string{
		"https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency",
		"**Two merges close together**", "**Three or more**",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, ".github/workflows/example-deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Concurrency struct {
				Group            string `yaml:"group"`
				CancelInProgress string `yaml:"cancel-in-progress"`
			} `yaml:"concurrency"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(readme, -1)
	groups := map[string][2]string{"example-deploy.yml": {wf.Jobs["deploy"].Concurrency.Group, wf.Jobs["deploy"].Concurrency.CancelInProgress}}
	for _, b := range blocks {
		g := regexp.MustCompile(`(?m)^\s*group: (.*)$`).FindStringSubmatch(b[1])
		c := regexp.MustCompile(`(?m)^\s*cancel-in-progress: (.*)$`).FindStringSubmatch(b[1])
		if g != nil && c != nil {
			groups["README: "+strings.SplitN(b[1], "\n", 2)[0]] = [2]string{g[1], c[1]}
		}
	}
	if len(groups) < 3 {
		t.Fatalf("found %d recommended concurrency blocks, want the example, the quickstart and the matrix", len(groups))
	}
	for where, gc := range groups {
		group, cancel := gc[0], gc[1]
		if !strings.Contains(group, "arena-plan-") || !strings.Contains(group, "arena-apply-") || !strings.Contains(group, "pull_request.number") {
			t.Errorf("%s: group %q does not keep plans (per pull request) and applies (per target) apart", where, group)
		}
		// Cancels only plans: true for a pull_request run, false for a push.
		if cancel != "${{ github.event_name == 'pull_request' }}" && cancel != "${{ github.event_name != 'push' }}" {
			t.Errorf("%s: cancel-in-progress %q may cancel an apply", where, cancel)
		}
	}
}
