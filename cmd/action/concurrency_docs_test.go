package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// recommendedWorkflow is a workflow the docs recommend: a ```yaml block
// holding jobs: in the README or docs/, or a file of examples/.
type recommendedWorkflow struct {
	where string
	text  string
}

// recommendedWorkflows finds every workflow a user may copy.
func recommendedWorkflows(t *testing.T) []recommendedWorkflow {
	t.Helper()
	root := deploytest.RepoRoot()
	var out []recommendedWorkflow
	for _, doc := range docFiles(t) {
		raw := mustRead(t, filepath.Join(root, filepath.FromSlash(doc)))
		for i, b := range yamlBlocks(raw) {
			if regexp.MustCompile(`(?m)^jobs:`).MatchString(b) {
				out = append(out, recommendedWorkflow{where: doc + " (yaml block " + strconv.Itoa(i+1) + ")", text: b})
			}
		}
	}
	var paths []string
	filepath.WalkDir(filepath.Join(root, "examples"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			paths = append(paths, p)
		}
		return nil
	})
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if !regexp.MustCompile(`(?m)^jobs:`).Match(raw) {
			continue
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, recommendedWorkflow{where: filepath.ToSlash(rel), text: string(raw)})
	}
	return out
}

// yamlBlocks are a Markdown file's ```yaml blocks, each without the
// indentation of its fence (a block in a list item is indented).
func yamlBlocks(md string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?ms)^( *)```ya?ml\n(.*?)^ *```").FindAllStringSubmatch(md, -1) {
		var b strings.Builder
		for _, l := range strings.SplitAfter(m[2], "\n") {
			b.WriteString(strings.TrimPrefix(l, m[1]))
		}
		out = append(out, b.String())
	}
	return out
}

// workflowJob is what the concurrency rules look at in a job.
type workflowJob struct {
	Environment any `yaml:"environment"`
	Concurrency any `yaml:"concurrency"`
	Steps       []struct {
		Uses string            `yaml:"uses"`
		With map[string]string `yaml:"with"`
	} `yaml:"steps"`
}

// TestRecommendedConcurrencyKeepsPlansAndAppliesApart checks every
// workflow the docs recommend against GitHub's documented semantics (one
// running and one pending job per group; a queued job cancels the pending
// one): a plan and an apply never share a group, an apply or an ops run
// is never cancelled in progress, groups are named per target as
// docs/concurrency.md says (arena-apply-<working-directory>-<environment>),
// and docs/concurrency.md cites the source.
func TestRecommendedConcurrencyKeepsPlansAndAppliesApart(t *testing.T) {
	root := deploytest.RepoRoot()
	doc := mustRead(t, filepath.Join(root, "docs", "concurrency.md"))
	for _, want := range []string{
		"https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency",
		"**Two merges close together**", "**Three or more**", "`arena-apply-<working-directory>-<environment>`",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/concurrency.md lacks %q", want)
		}
	}
	kinds := map[string]int{}
	readmeKinds := map[string]int{}
	for _, wf := range recommendedWorkflows(t) {
		var w struct {
			On   any                    `yaml:"on"`
			Jobs map[string]workflowJob `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(wf.text), &w); err != nil {
			t.Errorf("%s: %v", wf.where, err)
			continue
		}
		// A workflow run only by hand or on a schedule is an ops run: in
		// the apply group, a dispatch queued while a merge's apply waits
		// cancels that apply (and a merge queued behind it, the dispatch).
		manualOnly := w.On != nil
		for _, e := range triggers(w.On) {
			if e != "workflow_dispatch" && e != "schedule" {
				manualOnly = false
			}
		}
		for name, job := range w.Jobs {
			where := wf.where + ", job " + name
			workDir, lockTimeout := "", ""
			for _, s := range job.Steps {
				if s.With["command"] == "targets" {
					continue // reads the checkout and lists targets: deploys nothing
				}
				if s.With["command"] == "unlock" {
					continue // frees a lock: it must never queue behind the run it frees
				}
				if strings.Contains(s.Uses, "arena-deploy-action") || s.Uses == "./" {
					lockTimeout = strings.TrimSpace(s.With["lock-timeout"])
					workDir = s.With["working-directory"]
					if workDir == "" {
						workDir = "."
					}
				}
			}
			if workDir == "" {
				continue // a job that does not run the action
			}
			group, cancel := "", "false"
			switch c := job.Concurrency.(type) {
			case string:
				group = c
			case map[string]any:
				group, _ = c["group"].(string)
				if v, ok := c["cancel-in-progress"]; ok {
					cancel = strings.TrimSpace(strings.ToLower(toString(v)))
				}
			}
			group = strings.Join(strings.Fields(group), " ")
			if group == "" {
				t.Errorf("%s runs the action without a concurrency group (docs/concurrency.md)", where)
				continue
			}
			plan, apply, ops := strings.Contains(group, "arena-plan-"), strings.Contains(group, "arena-apply-"), strings.Contains(group, "arena-ops-")
			preview := strings.Contains(group, "arena-preview-")
			perTarget := func(prefix string) {
				if !strings.Contains(workDir, "${{") && !strings.Contains(group, prefix+workDir+"-") {
					t.Errorf("%s: group %q is not per target: want %s%s-<environment> (working-directory %s)", where, group, prefix, workDir, workDir)
				}
			}
			switch {
			case plan && apply:
				kinds["combined"]++
				if !strings.Contains(group, "pull_request.number") {
					t.Errorf("%s: group %q does not keep plans per pull request", where, group)
				}
				perTarget("arena-apply-")
				// Cancels only plans: true for a pull_request run, false for a push.
				if cancel != "${{ github.event_name == 'pull_request' }}" && cancel != "${{ github.event_name != 'push' }}" {
					t.Errorf("%s: cancel-in-progress %q may cancel an apply", where, cancel)
				}
			case plan:
				kinds["plan"]++
				if !strings.Contains(group, "pull_request.number") {
					t.Errorf("%s: plan group %q is not per pull request (arena-plan-<number>-<environment>)", where, group)
				}
			case apply && manualOnly:
				t.Errorf("%s: a workflow run by hand or on a schedule in the apply group %q: queued while an apply waits, it cancels that apply; use arena-ops-<working-directory>-<environment> and lock-timeout", where, group)
			case apply:
				kinds["apply"]++
				perTarget("arena-apply-")
				// Refresh, destroy and rollback run in the ops group and hold
				// the deploy lock while the adapter works: an apply that
				// starts then must wait for it, not fail lock-held at once
				// (lock-timeout's default, 0s) and leave the merge undeployed.
				if lockTimeout == "" || strings.Trim(lockTimeout, "0smh") == "" {
					t.Errorf("%s: an apply without lock-timeout fails lock-held at once when a refresh, destroy or rollback of its target holds the lock: set lock-timeout (e.g. 10m)", where)
				}
				if cancel != "false" {
					t.Errorf("%s: apply group %q has cancel-in-progress %q: a running apply must never be cancelled", where, group, cancel)
				}
			case ops:
				kinds["ops"]++
				perTarget("arena-ops-")
				if cancel != "false" {
					t.Errorf("%s: ops group %q has cancel-in-progress %q", where, group, cancel)
				}
			case preview:
				kinds["preview"]++
				if !strings.Contains(group, "pull_request.number") || cancel != "false" {
					t.Errorf("%s: preview group %q (cancel-in-progress %q): want one per pull request, never cancelled (a deploy cut short)", where, group, cancel)
				}
			default:
				t.Errorf("%s: group %q is none of arena-plan-, arena-apply-, arena-ops-, arena-preview- (docs/concurrency.md)", where, group)
			}
			if strings.HasPrefix(wf.where, "README.md") {
				readmeKinds[map[bool]string{true: "plan", false: "apply"}[plan && !apply]]++
			}
			if !strings.HasPrefix(wf.where, ".github/") {
				env := strings.ToLower(toString(job.Environment))
				if m, ok := job.Environment.(map[string]any); ok {
					env = strings.ToLower(toString(m["name"]))
				}
				if env == "plan" || strings.Contains(env, "'plan'") {
					t.Errorf("%s: plans in environment %q, which makes a deployment entry on every pull request", where, env)
				}
			}
		}
	}
	t.Logf("jobs by group kind: %v", kinds)
	if kinds["plan"]+kinds["combined"] == 0 || kinds["apply"]+kinds["combined"] == 0 {
		t.Fatalf("found %v recommended concurrency groups: the scan is broken", kinds)
	}
	if readmeKinds["plan"] == 0 || readmeKinds["apply"] == 0 {
		t.Errorf("the README's quickstart has %v jobs with groups, want a plan job and an apply job", readmeKinds)
	}
}

// triggers are the events of a workflow's on: (a name, a list or a map).
func triggers(on any) []string {
	switch on := on.(type) {
	case string:
		return []string{on}
	case []any:
		var out []string
		for _, e := range on {
			out = append(out, toString(e))
		}
		return out
	case map[string]any:
		var out []string
		for e := range on {
			out = append(out, e)
		}
		return out
	}
	return nil
}

func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}
