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

// TestPackInvalid: a pack JSON would have to alter (invalid UTF-8), or one
// with a second value after it, is refused at plan time with the place,
// rather than planned and then never applicable.
func TestPackInvalid(t *testing.T) {
	for _, tc := range []struct{ name, pack, want string }{
		{"invalid UTF-8", "{\"id\":\"p\",\"version\":\"1\",\n\"prompts\":{\"a\":{\"t\":\"caf\xe9\"}}}", "not valid UTF-8 (line 2, column 25)"},
		{"two values", `{"id":"p","version":"1","prompts":{}}` + "\n" + `{"id":"q"}`, "line 2, column 1: more than one JSON value"},
		{"not JSON", "id: p\n", "line 1, column 1: invalid character 'i'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.writeFile("support-bot.pack.json", tc.pack)
			h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "bad1"}))
			res := h.run(nil)
			if res.code != 1 || res.outputs["failure-reason"] != "pack-invalid" {
				t.Fatalf("exit %d, outputs %v\n%s", res.code, res.outputs, res.log)
			}
			if !strings.Contains(res.log, "support-bot.pack.json") || !strings.Contains(res.log, tc.want) {
				t.Errorf("log lacks the file and %q:\n%s", tc.want, res.log)
			}
			if len(h.gh.Artifacts()) != 0 {
				t.Error("an invalid pack was uploaded as a plan")
			}
		})
	}
}
