// Package workspace is the fence around every path a pull request can
// name: inputs (config, pack, working-directory) and arena.yaml (prompt and
// tool files, the project's adapters). A path is accepted only if it
// resolves, symlinks followed, inside the workspace; reads go through an
// os.Root, so a symlink committed in the pull request (to /etc/passwd,
// /proc/self/environ or ../../secret) cannot lead a read outside, even one
// swapped in after a check.
package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutside is matched by every error of a path that leaves the
// workspace, lexically ("../x", "/etc/passwd") or through a symlink.
var ErrOutside = errors.New("outside the workspace")

// OutsideError names the path that left the workspace.
type OutsideError struct {
	Path      string // as the caller named it
	Workspace string
}

func (e *OutsideError) Error() string {
	return fmt.Sprintf("%s resolves outside the workspace %s (symlinks are followed; keep the file, and any symlink's target, inside the repository)", e.Path, e.Workspace)
}

// Is makes errors.Is(err, ErrOutside) true.
func (e *OutsideError) Is(target error) bool { return target == ErrOutside }

// Root is an open workspace directory. It is safe for concurrent use.
type Root struct {
	dir  string // absolute and clean, as given
	real string // dir with its own symlinks resolved
	root *os.Root
}

// Open opens dir (made absolute) as the workspace.
func Open(dir string) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", abs, err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", abs, err)
	}
	return &Root{dir: abs, real: real, root: r}, nil
}

// Close releases the root's directory handle.
func (w *Root) Close() error { return w.root.Close() }

// Dir is the workspace's absolute path.
func (w *Root) Dir() string { return w.dir }

// Rel returns name relative to the workspace, checked lexically only
// (symlinks are checked when the path is used). name is absolute, or
// relative to the workspace; callers join a path relative to another
// directory of the workspace themselves (filepath.Join(dir, p) when p is
// not absolute).
func (w *Root) Rel(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty path")
	}
	p := filepath.Clean(name)
	if filepath.IsAbs(p) {
		rel, ok := within(w.dir, p)
		if !ok {
			// The workspace may be named through a symlink (e.g. /tmp
			// on macOS) while the path uses the real name.
			if rel, ok = within(w.real, p); !ok {
				return "", &OutsideError{Path: name, Workspace: w.dir}
			}
		}
		return rel, nil
	}
	if p == ".." || strings.HasPrefix(p, ".."+string(filepath.Separator)) {
		return "", &OutsideError{Path: name, Workspace: w.dir}
	}
	return p, nil
}

func within(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// Abs returns the absolute path of name inside the workspace after the
// same checks as Stat: the path exists and every symlink on it stays
// inside. Use it for paths handed to another process (a working
// directory, an adapter binary).
func (w *Root) Abs(name string) (string, error) {
	rel, err := w.Rel(name)
	if err != nil {
		return "", err
	}
	if _, err := w.root.Stat(rel); err != nil {
		return "", w.pathErr(name, err)
	}
	return filepath.Join(w.dir, rel), nil
}

// Open opens name for reading.
func (w *Root) Open(name string) (*os.File, error) {
	rel, err := w.Rel(name)
	if err != nil {
		return nil, err
	}
	f, err := w.root.Open(rel)
	if err != nil {
		return nil, w.pathErr(name, err)
	}
	return f, nil
}

// ReadFile reads the whole of name.
func (w *Root) ReadFile(name string) ([]byte, error) {
	rel, err := w.Rel(name)
	if err != nil {
		return nil, err
	}
	b, err := w.root.ReadFile(rel)
	if err != nil {
		return nil, w.pathErr(name, err)
	}
	return b, nil
}

// Stat describes name, symlinks followed inside the workspace.
func (w *Root) Stat(name string) (fs.FileInfo, error) {
	rel, err := w.Rel(name)
	if err != nil {
		return nil, err
	}
	fi, err := w.root.Stat(rel)
	if err != nil {
		return nil, w.pathErr(name, err)
	}
	return fi, nil
}

// pathErr turns os.Root's refusal into an OutsideError naming the
// caller's path; other errors (not found, permission) keep their type so
// callers can still branch on fs.ErrNotExist.
func (w *Root) pathErr(name string, err error) error {
	if isEscape(err) {
		return &OutsideError{Path: name, Workspace: w.dir}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
	}
	return err
}

// isEscape reports os.Root's "path escapes from parent" error. The os
// package does not export it, so it is recognised by its text; a test
// pins it. Were the text to change, the read would still be refused, only
// reported as os.Root's own error instead of naming the fence.
func isEscape(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == escapeText
}

const escapeText = "path escapes from parent"
