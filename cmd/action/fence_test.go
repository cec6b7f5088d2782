package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestWorkspaceFence: a pull request controls every file of the workspace,
// symlinks included. No path from an input or arena.yaml may lead a read
// (and so an upload, a comment or a commit) outside it: each attempt is
// invalid-input naming the path, and the file outside appears nowhere.
func TestWorkspaceFence(t *testing.T) {
	const secret = "OUTSIDE-THE-WORKSPACE-7f3a"
	cases := []struct {
		name string
		// setup gets the harness and a directory outside the workspace
		// holding secret.pack.json, arena.yaml and an adapter.
		setup func(h *harness, outside string) map[string]string
		named string // the path the error must name
	}{
		{"pack input symlinked to a file outside", func(h *harness, outside string) map[string]string {
			h.symlink(filepath.Join(outside, "secret.pack.json"), "evil.pack.json")
			return map[string]string{"pack": "evil.pack.json"}
		}, "evil.pack.json"},
		{"the only pack symlinked with ../", func(h *harness, outside string) map[string]string {
			rel, _ := filepath.Rel(h.workspace, filepath.Join(outside, "secret.pack.json"))
			_ = os.Remove(filepath.Join(h.workspace, "support-bot.pack.json"))
			h.symlink(rel, "support-bot.pack.json")
			return nil
		}, "support-bot.pack.json"},
		{"pack symlinked to /etc/passwd", func(h *harness, _ string) map[string]string {
			h.symlink("/etc/passwd", "passwd.pack.json")
			return map[string]string{"pack": "passwd.pack.json"}
		}, "passwd.pack.json"},
		{"pack input with ..", func(h *harness, outside string) map[string]string {
			rel, _ := filepath.Rel(h.workspace, filepath.Join(outside, "secret.pack.json"))
			return map[string]string{"pack": rel}
		}, "secret.pack.json"},
		{"absolute pack input outside", func(h *harness, outside string) map[string]string {
			return map[string]string{"pack": filepath.Join(outside, "secret.pack.json")}
		}, "secret.pack.json"},
		{"config symlinked outside", func(h *harness, outside string) map[string]string {
			_ = os.Remove(filepath.Join(h.workspace, "arena.yaml"))
			h.symlink(filepath.Join(outside, "arena.yaml"), "arena.yaml")
			return nil
		}, "arena.yaml"},
		{"working-directory ..", func(h *harness, _ string) map[string]string {
			return map[string]string{"working-directory": ".."}
		}, "working-directory"},
		{"working-directory symlinked outside", func(h *harness, outside string) map[string]string {
			h.symlink(outside, "proj")
			return map[string]string{"working-directory": "proj"}
		}, "proj"},
		{"absolute working-directory outside", func(h *harness, outside string) map[string]string {
			return map[string]string{"working-directory": outside}
		}, "working-directory"},
		{"state-path with ..", func(h *harness, _ string) map[string]string {
			return map[string]string{"state-path": "../../deploy.state"}
		}, "state-path"},
		{".promptarena symlinked outside", func(h *harness, outside string) map[string]string {
			h.symlink(outside, ".promptarena")
			return nil
		}, ".promptarena"},
		{"project adapter symlinked outside", func(h *harness, outside string) map[string]string {
			h.symlink(filepath.Join(outside, "promptarena-deploy-local"), ".promptarena/adapters/promptarena-deploy-local")
			return nil
		}, "promptarena-deploy-local"},
		{"tools: names /proc/self/environ", func(h *harness, _ string) map[string]string {
			h.writeFile("arena.yaml", strings.Replace(mustRead(h.t, h.workspace+"/arena.yaml"), "- file: tools/lookup_order.yaml", "- file: /proc/self/environ", 1))
			return nil
		}, "/proc/self/environ"},
		{"tools: file symlinked outside", func(h *harness, outside string) map[string]string {
			_ = os.Remove(filepath.Join(h.workspace, "tools/lookup_order.yaml"))
			h.symlink(filepath.Join(outside, "arena.yaml"), "tools/lookup_order.yaml")
			return nil
		}, "tools/lookup_order.yaml"},
		{"prompt file with ..", func(h *harness, outside string) map[string]string {
			rel, _ := filepath.Rel(h.workspace, filepath.Join(outside, "arena.yaml"))
			h.writeFile("arena.yaml", strings.Replace(mustRead(h.t, h.workspace+"/arena.yaml"), "file: prompts/greeting.yaml", "file: "+rel, 1))
			return nil
		}, "arena.yaml"},
		{"relative adapter input with ..", func(h *harness, outside string) map[string]string {
			rel, _ := filepath.Rel(h.workspace, filepath.Join(outside, "promptarena-deploy-local"))
			return map[string]string{"adapter": rel}
		}, "promptarena-deploy-local"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			outside := h.outsideWorkspace(secret)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.pullRequest(pr)
			res := h.run(tc.setup(h, outside))
			if res.code == 0 || res.outputs["failure-reason"] != "invalid-input" {
				t.Fatalf("exit %d, outputs %v\n%s", res.code, res.outputs, res.log)
			}
			if !strings.Contains(res.log, "outside the workspace") || !strings.Contains(res.log, tc.named) {
				t.Errorf("the error does not name %s:\n%s", tc.named, res.log)
			}
			h.assertNowhere(pr, res, secret)
		})
	}
}

// TestWorkspaceFenceAllows: symlinks inside the workspace and an adapter
// named by absolute path (the workflow's choice) still work.
func TestWorkspaceFenceAllows(t *testing.T) {
	h := newHarness(t)
	h.symlink("support-bot.pack.json", "dist/app.pack.json.link")
	h.symlink("../support-bot.pack.json", "dist/app.pack.json")
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	res := h.run(map[string]string{"pack": "dist/app.pack.json", "adapter": h.adapterTarget()})
	if res.code != 0 {
		t.Fatalf("exit %d, outputs %v\n%s", res.code, res.outputs, res.log)
	}
}

// outsideWorkspace makes a directory next to the workspace with a pack, an
// arena.yaml and the reference adapter, each carrying marker.
func (h *harness) outsideWorkspace(marker string) string {
	h.t.Helper()
	dir := h.t.TempDir()
	files := map[string]string{
		"secret.pack.json": `{"id":"` + marker + `","version":"1","prompts":{}}`,
		"arena.yaml":       "deploy:\n  provider: local\n  config:\n    target_dir: " + marker + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := os.Symlink(h.adapterTarget(), filepath.Join(dir, "promptarena-deploy-local")); err != nil {
		h.t.Fatal(err)
	}
	return dir
}

// symlink commits a symlink at rel (in the workspace) pointing to target.
func (h *harness) symlink(target, rel string) {
	h.t.Helper()
	p := filepath.Join(h.workspace, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		h.t.Fatal(err)
	}
}

// assertNowhere fails if text is in any output channel: log, summary,
// outputs, the pull request's comments, any artifact or issue.
func (h *harness) assertNowhere(pr *ghemu.Pull, res result, text string) {
	h.t.Helper()
	places := map[string]string{"log": res.log, "summary": res.summary}
	for k, v := range res.outputs {
		places["output "+k] = v
	}
	for _, c := range h.gh.Comments(pr.Number) {
		places["comment"] += c.Body
	}
	for _, is := range h.gh.Issues() {
		places["issue"] += is.Title + is.Body
	}
	for _, a := range h.gh.Artifacts() {
		for name, b := range h.artifactFiles(a.ID) {
			places["artifact "+a.Name+"/"+name] = string(b)
		}
	}
	for where, s := range places {
		if strings.Contains(s, text) {
			h.t.Errorf("%q reached the %s", text, where)
		}
	}
}
