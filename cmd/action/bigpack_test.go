package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestPackTooLargeForPromptKitAdapter: a pack whose request line is over
// PromptKit's 10 MiB fails pack-too-large with the sizes and the cure,
// before anything is sent, instead of "write |1: broken pipe".
func TestPackTooLargeForPromptKitAdapter(t *testing.T) {
	h := newHarness(t)
	bin := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(exe, filepath.Join(bin, "promptarena-deploy-local")); err != nil {
		t.Fatal(err)
	}
	h.env["PATH"] = bin
	h.env["ARENA_TEST_ADAPTER"] = "promptkit-limit"
	h.writeFile("support-bot.pack.json", deploytest.BigPack(10<<20))
	h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "big1"}))
	res := h.run(map[string]string{"environment": "production"})
	if res.code != 1 || res.outputs["failure-reason"] != "pack-too-large" {
		t.Fatalf("exit %d, outputs %v\n%s", res.code, res.outputs, res.log)
	}
	for _, want := range []string{"this adapter reads at most 10.00 MiB", "Split the pack", "max-request-bytes="} {
		if !strings.Contains(res.log, want) {
			t.Errorf("log lacks %q:\n%s", want, res.log)
		}
	}
	if strings.Contains(res.log, "broken pipe") || strings.Contains(res.log, "token too long") {
		t.Errorf("the request was sent anyway:\n%s", res.log)
	}
}
