// Package adaptercheck says, before an adapter is started, whether it can
// run here, and if not exactly what is missing and how to fix it. In the
// action's FROM scratch image there is no shell, no libc and no dynamic
// loader, so a `#!/bin/sh` wrapper or a glibc-linked build fails at exec
// with "no such file or directory" about a file that plainly exists.
package adaptercheck

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrCannotRun is matched by every error of Runnable.
var ErrCannotRun = errors.New("the adapter cannot run here")

// StaticFix is how to build an adapter that runs anywhere on Linux,
// including the action's image.
const StaticFix = "build it as a static Linux binary (for a Go adapter: CGO_ENABLED=0 GOOS=linux GOARCH=" + runtime.GOARCH +
	" go build) and point the adapter input at it, or run the action's CLI on the runner instead of the docker action"

// machines are the ELF machines Go's GOARCH values run.
var machines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM,
	"riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "ppc64": elf.EM_PPC64, "s390x": elf.EM_S390,
	"loong64": elf.EM_LOONGARCH, "mips64": elf.EM_MIPS, "mips64le": elf.EM_MIPS, "mips": elf.EM_MIPS, "mipsle": elf.EM_MIPS,
}

// Runnable returns nil if path can be executed here: a Linux ELF for this
// architecture whose dynamic loader (if any) exists, or a script whose
// interpreter exists and is itself runnable; pathEnv is the adapter's PATH,
// for `#!/usr/bin/env NAME`. On other systems only scripts are checked.
func Runnable(path, pathEnv string) error {
	return runnable(path, pathEnv, 0)
}

func runnable(path, pathEnv string, depth int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCannotRun, err)
	}
	defer f.Close()
	head := make([]byte, 256)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: read %s: %v", ErrCannotRun, path, err)
	}
	head = head[:n]
	if bytes.HasPrefix(head, []byte("#!")) {
		return script(path, head, pathEnv, depth)
	}
	if runtime.GOOS != "linux" {
		return nil // the system's own loader knows its formats best
	}
	switch {
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		return elfBinary(path, f)
	case isMachO(head):
		return cannot(path, "is a macOS (Mach-O) binary; this runner is Linux: "+StaticFix)
	case bytes.HasPrefix(head, []byte("MZ")):
		return cannot(path, "is a Windows (PE) binary; this runner is Linux: "+StaticFix)
	}
	return cannot(path, "is neither a Linux binary (ELF) nor a script starting with #!: "+StaticFix)
}

func elfBinary(path string, r io.ReaderAt) error {
	ef, err := elf.NewFile(r)
	if err != nil {
		return cannot(path, fmt.Sprintf("is not a valid ELF binary (%v): %s", err, StaticFix))
	}
	defer ef.Close()
	if want, ok := machines[runtime.GOARCH]; ok && ef.Machine != want {
		return cannot(path, fmt.Sprintf("is built for %s (%s); this runner is %s: %s", archName(ef.Machine), ef.Machine, runtime.GOARCH, StaticFix))
	}
	for _, p := range ef.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(p.Open())
		if err != nil {
			return cannot(path, fmt.Sprintf("has an unreadable dynamic loader entry (%v): %s", err, StaticFix))
		}
		interp := strings.TrimRight(string(b), "\x00")
		if _, err := os.Stat(interp); err != nil {
			return cannot(path, fmt.Sprintf("is dynamically linked and needs the loader %s (and its C library), which this system does not have "+
				"(the action's image is FROM scratch: no libc): %s", interp, StaticFix))
		}
	}
	return nil
}

// script checks a #! line the way the kernel reads it: the interpreter is
// the first word, at most one argument follows.
func script(path string, head []byte, pathEnv string, depth int) error {
	line, _, _ := bufio.NewReader(bytes.NewReader(head[2:])).ReadLine()
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return cannot(path, "starts with #! but names no interpreter: "+StaticFix)
	}
	interp := fields[0]
	if _, err := os.Stat(interp); err != nil {
		return cannot(path, fmt.Sprintf("is a script for %s, which does not exist here (the action's image is FROM scratch: no shell, no interpreters): %s", interp, StaticFix))
	}
	if depth >= 4 {
		return cannot(path, "is a script whose interpreters nest more than 4 deep: "+StaticFix)
	}
	if err := runnable(interp, pathEnv, depth+1); err != nil {
		return cannot(path, fmt.Sprintf("is a script for %s, which cannot run here either: %v", interp, strings.TrimPrefix(err.Error(), ErrCannotRun.Error()+": ")))
	}
	if filepath.Base(interp) == "env" && len(fields) > 1 && !strings.HasPrefix(fields[1], "-") {
		name := fields[1]
		found := lookPath(name, pathEnv)
		if found == "" {
			return cannot(path, fmt.Sprintf("is a script for %q (via %s), which is not on PATH here: %s", name, interp, StaticFix))
		}
		if err := runnable(found, pathEnv, depth+1); err != nil {
			return cannot(path, fmt.Sprintf("is a script for %s, which cannot run here either: %v", found, strings.TrimPrefix(err.Error(), ErrCannotRun.Error()+": ")))
		}
	}
	return nil
}

// lookPath finds name in pathEnv (not this process's PATH: the adapter's).
func lookPath(name, pathEnv string) string {
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func isMachO(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	for _, m := range [][]byte{{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, {0xca, 0xfe, 0xba, 0xbe}} {
		if bytes.Equal(head[:4], m) {
			return true
		}
	}
	return false
}

// archNames name the machines adapters are commonly built for, in GOARCH
// terms, so the message says what to set.
var archNames = map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386", elf.EM_ARM: "arm",
	elf.EM_RISCV: "riscv64", elf.EM_S390: "s390x", elf.EM_PPC64: "ppc64le", elf.EM_LOONGARCH: "loong64", elf.EM_MIPS: "mips"}

func archName(m elf.Machine) string {
	if n, ok := archNames[m]; ok {
		return n
	}
	return "another architecture"
}

func cannot(path, what string) error {
	return fmt.Errorf("%w: %s %s", ErrCannotRun, path, what)
}

// NotMounted returns an error if the adapter input names a path under
// RUNNER_TEMP that does not exist: the runner mounts the workspace, not
// RUNNER_TEMP, into a docker action's container, so a file put in
// ${{ runner.temp }} by an earlier step is not there.
func NotMounted(adapter, runnerTemp string) error {
	if adapter == "" || runnerTemp == "" {
		return nil
	}
	rel, err := filepath.Rel(runnerTemp, adapter)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	if _, err := os.Stat(adapter); err == nil {
		return nil
	}
	return fmt.Errorf("adapter %s is under RUNNER_TEMP (%s), which the runner does not mount into a docker action's container: "+
		"put the adapter in the workspace instead (e.g. .promptarena/adapters/ of the project, or any path under $GITHUB_WORKSPACE) "+
		"and give that path to the adapter input", adapter, runnerTemp)
}
