package adaptercheck

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// staticBinary builds a tiny Go program with CGO_ENABLED=0, as the README
// tells adapter authors to.
func staticBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nfunc main() {}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module adapter\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "promptarena-deploy-static")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// dynamicBinary is a copy of the system's `true`, linked against its C
// library; skipped where `true` is not dynamically linked.
func dynamicBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no `true` binary")
	}
	ef, err := elf.Open(p)
	if err != nil {
		t.Skipf("`true` is not ELF: %v", err)
	}
	defer ef.Close()
	for _, prog := range ef.Progs {
		if prog.Type == elf.PT_INTERP {
			return copyFile(t, p, nil)
		}
	}
	t.Skip("`true` is statically linked here")
	return ""
}

// copyFile copies src into the test's directory, edited by edit.
func copyFile(t *testing.T, src string, edit func([]byte)) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(b)
	}
	dst := filepath.Join(t.TempDir(), "adapter")
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "adapter")
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunnable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the binary checks are for Linux, where the docker action runs")
	}
	static := staticBinary(t)
	dynamic := dynamicBinary(t)
	// The same binary, its loader renamed to one that does not exist (what
	// a glibc-linked adapter meets in the FROM scratch image).
	const missingLoader = "/lib/ld-missing.so.1"
	noLoader := copyFile(t, dynamic, func(b []byte) {
		ef, _ := elf.NewFile(strings.NewReader(string(b)))
		for _, p := range ef.Progs {
			if p.Type == elf.PT_INTERP {
				copy(b[p.Off:p.Off+p.Filesz], make([]byte, p.Filesz))
				copy(b[p.Off:], missingLoader)
			}
		}
	})
	other, otherName := elf.EM_AARCH64, "arm64"
	if runtime.GOARCH == "arm64" {
		other, otherName = elf.EM_X86_64, "amd64"
	}
	wrongArch := copyFile(t, static, func(b []byte) { binary.LittleEndian.PutUint16(b[18:], uint16(other)) })
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	pathEnv := filepath.Dir(sh)

	for _, tc := range []struct {
		name, path string
		want       []string // substrings of the error; none: runnable
	}{
		{"static Go binary", static, nil},
		{"dynamically linked, loader present", dynamic, nil},
		{"dynamically linked, loader missing", noLoader, []string{missingLoader, "dynamically linked", "CGO_ENABLED=0", "FROM scratch"}},
		{"built for another architecture", wrongArch, []string{"built for " + otherName, "this runner is " + runtime.GOARCH, "GOARCH=" + runtime.GOARCH}},
		{"script, interpreter present", write(t, "#!"+sh+"\nexec true\n"), nil},
		{"script, interpreter missing", write(t, "#!/nonexistent/sh -e\nexec adapter\n"), []string{"script for /nonexistent/sh", "does not exist", "static Linux binary"}},
		{"script via env, command present", write(t, "#!/usr/bin/env sh\n"), nil},
		{"script via env, command missing", write(t, "#!/usr/bin/env python-not-here\n"), []string{`"python-not-here"`, "not on PATH"}},
		{"script whose interpreter is a script for a missing one", write(t, "#!"+write(t, "#!/nonexistent/node\n")+"\n"), []string{"/nonexistent/node", "cannot run here either"}},
		{"empty #! line", write(t, "#!\n"), []string{"names no interpreter"}},
		{"macOS binary", write(t, "\xcf\xfa\xed\xfe\x07\x00\x00\x01rest"), []string{"macOS (Mach-O)"}},
		{"Windows binary", write(t, "MZ\x90\x00rest"), []string{"Windows (PE)"}},
		{"text without #!", write(t, "echo hello\n"), []string{"neither a Linux binary (ELF) nor a script"}},
		{"empty file", write(t, ""), []string{"neither a Linux binary"}},
		{"truncated ELF", write(t, "\x7fELF\x02\x01"), []string{"not a valid ELF binary"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path == "" {
				t.Skip("fixture unavailable here")
			}
			if strings.Contains(tc.name, "via env") {
				if _, err := os.Stat("/usr/bin/env"); err != nil {
					t.Skip("no /usr/bin/env")
				}
			}
			err := Runnable(tc.path, pathEnv)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Runnable: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrCannotRun) {
				t.Fatalf("Runnable = %v, want ErrCannotRun", err)
			}
			for _, w := range append(tc.want, tc.path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestNotMounted(t *testing.T) {
	temp := t.TempDir()
	present := filepath.Join(temp, "present")
	if err := os.WriteFile(present, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, adapter, runnerTemp string
		fails                     bool
	}{
		{"under RUNNER_TEMP and missing (the docker action)", filepath.Join(temp, "bin", "adapter"), temp, true},
		{"under RUNNER_TEMP and present (the CLI on the runner)", present, temp, false},
		{"elsewhere and missing: adapter-not-found's usual message", "/opt/adapter", temp, false},
		{"a sibling whose name starts like RUNNER_TEMP", temp + "-other/adapter", temp, false},
		{"no RUNNER_TEMP (not in Actions)", filepath.Join(temp, "x"), "", false},
		{"no adapter input", "", temp, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NotMounted(tc.adapter, tc.runnerTemp)
			if (err != nil) != tc.fails {
				t.Fatalf("NotMounted = %v, want failure %v", err, tc.fails)
			}
			if err != nil && (!strings.Contains(err.Error(), "RUNNER_TEMP") || !strings.Contains(err.Error(), "workspace")) {
				t.Errorf("message %q does not say why and what to do", err)
			}
		})
	}
}
