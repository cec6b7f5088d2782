package workflowtest

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// quickstart is the README's Quickstart section: its workflow (the yaml
// block holding jobs:) and the deploy section it tells users to add to
// arena.yaml (the yaml block holding deploy:).
func quickstart(t *testing.T) (workflow string, deploy *yaml.Node) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "\n## Quickstart")
	if start < 0 {
		t.Fatal("README.md has no ## Quickstart section")
	}
	section := readme[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	for _, m := range regexp.MustCompile("(?s)```ya?ml\n(.*?)```").FindAllStringSubmatch(section, -1) {
		block := m[1]
		if regexp.MustCompile(`(?m)^jobs:`).MatchString(block) {
			workflow = block
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal([]byte(block), &doc) == nil && len(doc.Content) > 0 {
			if spec := child(doc.Content[0], "spec"); spec != nil && child(spec, "deploy") != nil {
				deploy = child(spec, "deploy")
			}
		}
	}
	if workflow == "" {
		t.Fatal("the Quickstart has no workflow (a ```yaml block holding jobs:)")
	}
	return workflow, deploy
}

func child(n *yaml.Node, key string) *yaml.Node {
	for k, v := range pairs(n) {
		if k == key {
			return v
		}
	}
	return nil
}

// TestQuickstart pastes the README's quickstart into a fresh repository:
// the project (support-bot, with the deploy section the README shows, at
// the working-directory and pack path its workflow names), the workflow,
// the secret it reads. A pull request must plan (a comment), its merge
// must apply (the provider holds the change), every job must end green or
// skipped, and every permission must be needed.
func TestQuickstart(t *testing.T) {
	text, deploy := quickstart(t)
	wf, err := ParseWorkflow("arena-deploy.yml", []byte(text))
	if err != nil {
		t.Fatalf("the quickstart's workflow: %v", err)
	}
	workdir, pack := ".", ""
	secrets := map[string]string{}
	for _, j := range wf.Jobs {
		for _, st := range j.Steps {
			if strings.HasPrefix(st.Uses, "arena-deploy/arena-deploy-action@") {
				if wd := st.With["working-directory"]; wd != "" {
					workdir = wd
				}
				if p := st.With["pack"]; p != "" {
					pack = p
				}
			}
			for _, v := range st.Env {
				for _, m := range regexp.MustCompile(`secrets\.([A-Za-z0-9_]+)`).FindAllStringSubmatch(v, -1) {
					secrets[m[1]] = "secret-value-" + strings.ToLower(m[1])
				}
			}
		}
	}
	if strings.Contains(workdir+pack, "${{") {
		t.Fatalf("the quickstart names its project with an expression (%q, %q): keep it literal", workdir, pack)
	}
	edits := []Edit{}
	if deploy != nil {
		arena := quickstartArena(t, deploy)
		edits = append(edits, Edit{File: "arena.yaml", Content: &arena})
	}
	if pack != "" && pack != "support-bot.pack.json" {
		b, _ := os.ReadFile(filepath.Join("testdata", "projects", "support-bot", "support-bot.pack.json"))
		content := string(b)
		edits = append(edits, Edit{File: "support-bot.pack.json", Delete: true}, Edit{File: path.Clean(pack), Content: &content})
	}
	s := &Scenario{
		Repository:   []RepoItem{{Project: "support-bot", Into: workdir, Edit: edits}},
		Secrets:      secrets,
		workflowText: map[string]string{"arena-deploy.yml": text},
	}
	packPath := path.Join(workdir, "support-bot.pack.json")
	if pack != "" {
		packPath = path.Join(workdir, pack)
	}
	s.Events = []ScenarioEvent{
		{Name: "a pull request", PullRequest: 1, Change: []Edit{{File: packPath, Replace: "Greet the customer", With: "Welcome the customer"}},
			Expect: Expect{Comments: map[int][]Text{1: {{Contains: []string{"Arena plan for", "Welcome the customer"}}}}}},
		{Name: "its merge", Merge: 1,
			Expect: Expect{Comments: map[int][]Text{1: {{Contains: []string{"Arena apply to", ": applied"}}}}}},
	}
	h := s.Play(t, deploytest.RepoRoot(), action(t))
	green := func(label string) {
		ok := 0
		for _, r := range h.Runs() {
			if r.Label != label {
				continue
			}
			for _, j := range r.Jobs {
				switch j.Conclusion {
				case Success:
					ok++
				case Skipped:
				default:
					t.Errorf("%s: job %s is %s %s:\n%s", label, j.Name, j.Status, j.Conclusion, j.Log.String())
				}
			}
		}
		if ok == 0 {
			t.Errorf("%s: no job ran", label)
		}
	}
	green("a pull request")
	green("its merge")
	found := false
	filepath.WalkDir(h.Cloud, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, filepath.Join("prompts", "greeting.json")) {
			b, _ := os.ReadFile(p)
			found = found || strings.Contains(string(b), "Welcome the customer")
		}
		return nil
	})
	if !found {
		t.Error("after the merge, the provider does not hold the reviewed change")
	}
}

// quickstartArena is the fixture's arena.yaml with the README's deploy
// section in place of its own.
func quickstartArena(t *testing.T, deploy *yaml.Node) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "projects", "support-bot", "arena.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	spec := child(doc.Content[0], "spec")
	for i := 0; i+1 < len(spec.Content); i += 2 {
		if spec.Content[i].Value == "deploy" {
			spec.Content[i+1] = deploy
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
