package workspace

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// tree builds a workspace with a secret next to it, and symlinks a pull
// request could commit.
func tree(t *testing.T) (ws, secret string) {
	t.Helper()
	base := t.TempDir()
	ws = filepath.Join(base, "ws")
	secret = filepath.Join(base, "secret")
	must(t, os.MkdirAll(filepath.Join(ws, "sub"), 0o755))
	must(t, os.WriteFile(secret, []byte("TOKEN"), 0o600))
	must(t, os.WriteFile(filepath.Join(ws, "app.pack.json"), []byte("{}"), 0o644))
	links := map[string]string{
		"abs.pack.json":     "/etc/passwd",
		"rel.pack.json":     "../secret",
		"sub/deep.json":     "../../secret",
		"inside.pack.json":  "app.pack.json",
		"sub/up.json":       "../app.pack.json",
		"environ.json":      "/proc/self/environ",
		"dirlink":           "..",
		"sub/chain.json":    "../rel.pack.json",
		"dangling.json":     "missing.json",
		"dangling-out.json": "../missing.json",
	}
	for name, target := range links {
		must(t, os.Symlink(target, filepath.Join(ws, name)))
	}
	return ws, secret
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRootFence(t *testing.T) {
	ws, secret := tree(t)
	w, err := Open(ws)
	must(t, err)
	defer w.Close()
	tests := []struct {
		name     string
		path     string
		outside  bool
		notExist bool
	}{
		{"plain file", "app.pack.json", false, false},
		{"absolute inside", filepath.Join(ws, "app.pack.json"), false, false},
		{"dot-dot that stays inside", "sub/../app.pack.json", false, false},
		{"symlink inside", "inside.pack.json", false, false},
		{"symlink up but inside", "sub/up.json", false, false},
		{"absolute outside", secret, true, false},
		{"absolute system file", "/etc/passwd", true, false},
		{"dot-dot", "../secret", true, false},
		{"dot-dot deep", "sub/../../secret", true, false},
		{"symlink to absolute", "abs.pack.json", true, false},
		{"symlink to parent file", "rel.pack.json", true, false},
		{"symlink from a subdirectory", "sub/deep.json", true, false},
		{"symlink to proc environ", "environ.json", true, false},
		{"through a directory symlink", "dirlink/secret", true, false},
		{"symlink chain", "sub/chain.json", true, false},
		{"missing", "nope.json", false, true},
		{"dangling inside", "dangling.json", false, true},
		{"dangling outside", "dangling-out.json", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				switch {
				case tt.outside:
					var oe *OutsideError
					if !errors.Is(err, ErrOutside) || !errors.As(err, &oe) || oe.Path != tt.path {
						t.Fatalf("%s(%q) = %v, want an OutsideError naming the path", op, tt.path, err)
					}
				case tt.notExist:
					if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrOutside) {
						t.Fatalf("%s(%q) = %v, want not-exist", op, tt.path, err)
					}
				case err != nil:
					t.Fatalf("%s(%q) = %v", op, tt.path, err)
				}
			}
			b, err := w.ReadFile(tt.path)
			check("ReadFile", err)
			if err == nil && string(b) != "{}" {
				t.Fatalf("ReadFile(%q) = %q", tt.path, b)
			}
			if string(b) == "TOKEN" {
				t.Fatal("read the secret outside the workspace")
			}
			f, err := w.Open(tt.path)
			check("Open", err)
			if err == nil {
				f.Close()
			}
			_, err = w.Stat(tt.path)
			check("Stat", err)
			abs, err := w.Abs(tt.path)
			check("Abs", err)
			if err == nil && filepath.Dir(abs) != ws && filepath.Dir(filepath.Dir(abs)) != ws {
				t.Fatalf("Abs(%q) = %s, not in %s", tt.path, abs, ws)
			}
		})
	}
}

// TestEscapeErrorText pins the text of os.Root's unexported escape error,
// which isEscape recognises.
func TestEscapeErrorText(t *testing.T) {
	r, err := os.OpenRoot(t.TempDir())
	must(t, err)
	defer r.Close()
	_, err = r.Open("../x")
	if !isEscape(err) {
		t.Fatalf("os.Root's escape error changed: %v; update escapeText", err)
	}
}

// TestWorkspaceThroughSymlink: a workspace named through a symlink accepts
// absolute paths under either name.
func TestWorkspaceThroughSymlink(t *testing.T) {
	ws, _ := tree(t)
	alias := filepath.Join(t.TempDir(), "alias")
	must(t, os.Symlink(ws, alias))
	w, err := Open(alias)
	must(t, err)
	defer w.Close()
	for _, p := range []string{filepath.Join(alias, "app.pack.json"), filepath.Join(ws, "app.pack.json")} {
		if _, err := w.ReadFile(p); err != nil {
			t.Errorf("ReadFile(%s): %v", p, err)
		}
	}
	if _, err := w.Rel(""); err == nil {
		t.Error("an empty path was accepted")
	}
}
