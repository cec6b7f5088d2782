package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// releaseAdapter publishes the reference adapter (real, runnable) as a
// release of octo-org/adapters, with a checksums file.
func releaseAdapter(t *testing.T, h *harness, tag string, binary []byte) {
	t.Helper()
	name := fmt.Sprintf("promptarena-deploy-local_%s_%s", runtime.GOOS, runtime.GOARCH)
	sum := sha256.Sum256(binary)
	h.gh.AddRelease("octo-org/adapters", tag, map[string][]byte{
		name:            binary,
		"checksums.txt": []byte(hex.EncodeToString(sum[:]) + "  " + name + "\n"),
	})
}

func TestInstalledAdapterPlansAndApplies(t *testing.T) {
	h := newHarness(t)
	h.env["PATH"] = "/nonexistent" // only the installed adapter can be found
	bin, err := os.ReadFile(h.adapterTarget())
	if err != nil {
		t.Fatal(err)
	}
	releaseAdapter(t, h, "v0.1.0", bin)
	in := map[string]string{"adapter-install": "local@0.1.0", "adapter-repo": "octo-org/adapters"}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	plan := h.planPR(pr, in)
	if plan.outputs["adapter-version"] != "0.1.0" || !strings.Contains(plan.log, "checksums") {
		t.Fatalf("outputs %v\n%s", plan.outputs, plan.log)
	}
	h.merge(pr, "merge111", "Merge pull request #1")
	if r := h.run(in); r.code != 0 {
		t.Fatalf("apply with the same adapter: %v\n%s", r.outputs, r.log)
	}
}

func TestApplyRefusesChangedAdapterBinary(t *testing.T) {
	h := newHarness(t)
	h.env["PATH"] = "/nonexistent"
	bin, err := os.ReadFile(h.adapterTarget())
	if err != nil {
		t.Fatal(err)
	}
	releaseAdapter(t, h, "v0.1.0", bin)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	// The plan runs with latest (0.1.0)...
	h.planPR(pr, map[string]string{"adapter-install": "local", "adapter-repo": "octo-org/adapters"})
	// ...then a new release appears: same version string, another binary
	// (a rebuilt or replaced adapter), and apply is pinned to it.
	releaseAdapter(t, h, "v0.1.1", append(append([]byte{}, bin...), 0))
	h.merge(pr, "merge111", "Merge pull request #1")
	_ = os.RemoveAll(h.workspace + "/.promptarena/adapters")
	r := h.run(map[string]string{"adapter-install": "local@0.1.1", "adapter-repo": "octo-org/adapters"})
	if r.code != 1 || r.outputs["failure-reason"] != "adapter-changed" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	// With latest at apply time, the moved release is refused too.
	_ = os.RemoveAll(h.workspace + "/.promptarena/adapters")
	r = h.run(map[string]string{"adapter-install": "local", "adapter-repo": "octo-org/adapters"})
	if r.code != 1 || r.outputs["failure-reason"] != "adapter-changed" {
		t.Fatalf("latest moved: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
}

func TestUnverifiedAdapterRefusedThenAllowed(t *testing.T) {
	h := newHarness(t)
	h.env["PATH"] = "/nonexistent"
	bin, _ := os.ReadFile(h.adapterTarget())
	h.gh.AddRelease("octo-org/adapters", "v0.1.0", map[string][]byte{fmt.Sprintf("promptarena-deploy-local_%s_%s", runtime.GOOS, runtime.GOARCH): bin})
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	in := map[string]string{"adapter-install": "local@0.1.0", "adapter-repo": "octo-org/adapters"}
	r := h.run(in)
	if r.code != 1 || r.outputs["failure-reason"] != "adapter-unverified" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	in["adapter-allow-unverified"] = "true"
	r = h.run(in)
	if r.code != 0 || !strings.Contains(r.log, "::warning::UNVERIFIED ADAPTER") {
		t.Fatalf("allowed: exit %d\n%s", r.code, r.log)
	}
	if c := h.gh.Comments(pr.Number); !strings.Contains(c[len(c)-1].Body, "UNVERIFIED ADAPTER") {
		t.Errorf("comment does not say it: %s", c[len(c)-1].Body)
	}
}

// TestCLIAdapterInstallWithLocalState: the CLI installs an adapter from a
// release with a token, plans and applies with the local state file, and
// asks GitHub for the release alone: with GITHUB_REPOSITORY and a token in
// the shell, it reads and writes no state branch, comment or artifact.
func TestCLIAdapterInstallWithLocalState(t *testing.T) {
	h := newHarness(t)
	bin, err := os.ReadFile(h.adapterTarget())
	if err != nil {
		t.Fatal(err)
	}
	releaseAdapter(t, h, "v0.1.0", bin)
	h.gh.SetFile("main", "README.md", []byte("# app\n")) // a repository the CLI must leave alone
	environ := []string{"PATH=/nonexistent", "HOME=" + t.TempDir(), "GITHUB_API_URL=" + h.env["GITHUB_API_URL"],
		"GITHUB_REPOSITORY=" + ghemu.DefaultOwner + "/" + ghemu.DefaultRepo, "GITHUB_EVENT_NAME=push", "GITHUB_SHA=abc"}
	t.Chdir(h.workspace)
	for _, args := range [][]string{
		{"plan", "--adapter-install", "local@0.1.0", "--adapter-repo", "octo-org/adapters", "--github-token", ghemu.DefaultToken},
		{"apply", "--adapter-install", "local@0.1.0", "--adapter-repo", "octo-org/adapters", "--github-token", ghemu.DefaultToken},
	} {
		var out, errb syncBuffer
		if code := realMain(context.Background(), args, environ, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out.String(), errb.String())
		}
		if strings.Contains(out.String()+errb.String(), ghemu.DefaultToken) {
			t.Errorf("%v: the token was printed", args)
		}
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".promptarena", "deploy.state")); err != nil {
		t.Errorf("no local state: %v", err)
	}
	for _, r := range h.gh.Requests() {
		release := strings.HasPrefix(r.Path, "/repos/octo-org/adapters/releases") || strings.HasPrefix(r.Path, "/_blob/download/asset-")
		if !release {
			t.Errorf("the CLI asked GitHub for more than the release: %s %s (%s)", r.Method, r.Path, r.Route)
		}
	}
	if len(h.gh.Requests()) == 0 {
		t.Error("no release lookup at all")
	}
}
