package chown

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func uidOf(t *testing.T, path string) int {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Uid)
}

// TestFinishHandsOverWhatTheRunCreated runs as root (the action's case):
// files, directories and symlinks made after Start go to the workspace's
// owner; a root-owned file from before stays root's, and so does .git.
func TestFinishHandsOverWhatTheRunCreated(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, as the Docker action runs")
	}
	ws := t.TempDir()
	const uid, gid = 4242, 4343
	old := filepath.Join(ws, "from-an-earlier-step")
	if err := os.WriteFile(old, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ws, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{ws, filepath.Join(ws, ".git")} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	// An inode's change time cannot be set; the old file is made "old" by
	// starting the handover as if the run had begun later than it.
	h, err := Start(ws)
	if err != nil || !h.Active() {
		t.Fatalf("start: %v active %v", err, h.Active())
	}
	h.since = time.Now().Add(time.Second)
	time.Sleep(1100 * time.Millisecond)
	created := []string{
		".promptarena/deploy.lock", ".promptarena/adapters/promptarena-deploy-local",
		".deployed/production/prompts/greeting.json", ".git/our-file-would-be-a-bug",
	}
	for _, rel := range created {
		p := filepath.Join(ws, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(ws, ".deployed/current")
	if err := os.Symlink("/nonexistent-target", link); err != nil {
		t.Fatal(err)
	}
	n, err := h.Finish()
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{".promptarena", ".promptarena/adapters", ".promptarena/deploy.lock", ".promptarena/adapters/promptarena-deploy-local",
		".deployed", ".deployed/production", ".deployed/production/prompts", ".deployed/production/prompts/greeting.json", ".deployed/current"} {
		if got := uidOf(t, filepath.Join(ws, rel)); got != uid {
			t.Errorf("%s owned by %d, want %d", rel, got, uid)
		}
	}
	if n != 9 {
		t.Errorf("handed over %d entries, want 9", n)
	}
	if uidOf(t, old) != 0 {
		t.Error("a root-owned file from before the run was handed over")
	}
	if uidOf(t, filepath.Join(ws, ".git/our-file-would-be-a-bug")) != 0 {
		t.Error(".git was walked")
	}
}

func TestInactiveWhenTheWorkspaceIsRoots(t *testing.T) {
	if os.Geteuid() != 0 {
		h, err := Start(t.TempDir())
		if err != nil || h.Active() {
			t.Fatalf("not root: %v %v", err, h.Active())
		}
		return
	}
	h, err := Start(t.TempDir()) // owned by root: nobody to hand over to
	if err != nil || h.Active() {
		t.Fatalf("%v %v", err, h.Active())
	}
	if n, err := h.Finish(); n != 0 || err != nil {
		t.Fatalf("%d %v", n, err)
	}
}
