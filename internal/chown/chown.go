// Package chown hands the files the action creates in the workspace to the
// workspace's owner. A Docker action runs as root, so everything it (or the
// adapter it starts) writes into the mounted workspace is owned by root;
// on self-hosted runners later steps, and the next job's checkout, cannot
// then clean it up. When running as root, Finish gives every file created
// since Start (owned by root, changed since then) to the owner of the
// workspace directory, as `chown -R` in a later step would, but only for
// what this run made.
package chown

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Handover remembers the workspace, its owner and when the run started.
type Handover struct {
	root     string
	uid, gid int
	since    time.Time
	active   bool
}

// Start prepares a handover of files created under root from now on. It
// is inactive (Finish does nothing) unless the process runs as root and
// root is owned by another user.
func Start(root string) (*Handover, error) {
	// The kernel stamps inodes with a coarse clock that can lag the wall
	// clock by a tick: a little slack, so nothing made just after Start is
	// missed (a root-owned file made in the second before is handed over
	// too, which only helps).
	h := &Handover{root: root, since: time.Now().Add(-2 * time.Second)}
	if root == "" || os.Geteuid() != 0 {
		return h, nil
	}
	uid, gid, err := owner(root)
	if err != nil {
		return h, fmt.Errorf("workspace owner: %w", err)
	}
	h.uid, h.gid = uid, gid
	h.active = uid != 0
	return h, nil
}

// Active reports whether Finish will hand files over.
func (h *Handover) Active() bool { return h != nil && h.active }

// Owner is the workspace owner's uid and gid.
func (h *Handover) Owner() (uid, gid int) { return h.uid, h.gid }

// Finish gives every entry under root that is owned by root and was
// created or changed since Start to the workspace's owner; it returns how
// many it changed. .git is left alone: the action never writes there. Every
// entry is tried; the errors are joined.
func (h *Handover) Finish() (int, error) {
	if !h.Active() {
		return 0, nil
	}
	n := 0
	var errs []error
	err := filepath.WalkDir(h.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return nil
		}
		if d.IsDir() && d.Name() == ".git" && path != h.root {
			return filepath.SkipDir
		}
		uid, changed, ok := stat(path)
		if !ok || uid != 0 || changed.Before(h.since) {
			return nil
		}
		if err := os.Lchown(path, h.uid, h.gid); err != nil {
			errs = append(errs, err)
			return nil
		}
		n++
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}
