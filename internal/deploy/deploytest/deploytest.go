// Package deploytest builds the reference adapter for tests in any package,
// so every test drives the real subprocess rather than a mock.
package deploytest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	once    sync.Once
	binPath string
	errBld  error
)

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// LocalAdapter returns the path of a freshly built promptarena-deploy-local,
// built once per test binary.
func LocalAdapter(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "arena-adapter-")
		if err != nil {
			errBld = err
			return
		}
		binPath = filepath.Join(dir, "promptarena-deploy-local")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/promptarena-deploy-local")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			errBld = fmt.Errorf("build reference adapter: %v\n%s", err, out)
		}
	})
	if errBld != nil {
		tb.Fatal(errBld)
	}
	return binPath
}

// CopyExample copies testdata/example into a new temp dir and returns it.
func CopyExample(tb testing.TB) string {
	tb.Helper()
	dst := tb.TempDir()
	src := filepath.Join(RepoRoot(), "testdata", "example")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// BigPack is a compiled pack of about size bytes spread over many prompts,
// with quotes and backslashes so JSON escaping is part of any measurement.
func BigPack(size int) string {
	prompts := map[string]any{}
	body := strings.Repeat("You are a helpful agent. \"Quote\" and \\ escapes. ", 40)
	for i := 0; size > 0; i++ {
		prompts[fmt.Sprintf("p%05d", i)] = map[string]any{"id": i, "system_template": body}
		size -= len(body) + 40
	}
	b, _ := json.Marshal(map[string]any{"id": "big", "version": "1.0.0", "prompts": prompts})
	return string(b)
}
