package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestWorkspaceFilesGoToItsOwner: the checkout belongs to the runner's user
// and the action runs as root, as in a Docker action on a self-hosted
// runner. After a plan and an apply (the adapter deploys into the
// workspace, the lock file, the local state) nothing in the workspace is
// left owned by root.
func TestWorkspaceFilesGoToItsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, as the Docker action runs")
	}
	h := newHarness(t)
	const uid, gid = 1001, 127 // the runner user of GitHub's images
	chownAll := func() {
		_ = filepath.WalkDir(h.workspace, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				err = os.Lchown(p, uid, gid)
			}
			return err
		})
	}
	chownAll() // actions/checkout ran as the runner's user
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "ownhead1"})
	h.planPR(pr, map[string]string{"environment": "production"})
	h.merge(pr, "ownmerge", "Merge pull request #1")
	res := h.run(map[string]string{"environment": "production"})
	if res.code != 0 {
		t.Fatalf("apply: exit %d\n%s", res.code, res.log)
	}
	if !strings.Contains(res.log, "created in the workspace to its owner (1001:127)") {
		t.Errorf("the handover is not reported:\n%s", res.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed/production/prompts/greeting.json")); err != nil {
		t.Fatal("nothing deployed into the workspace: the test proves nothing")
	}
	var rootOwned []string
	_ = filepath.WalkDir(h.workspace, func(p string, d fs.DirEntry, err error) error {
		var st syscall.Stat_t
		if err == nil && syscall.Lstat(p, &st) == nil && (st.Uid != uid || st.Gid != gid) {
			rootOwned = append(rootOwned, p)
		}
		return nil
	})
	if len(rootOwned) > 0 {
		t.Errorf("left owned by root: %v", rootOwned)
	}
}
