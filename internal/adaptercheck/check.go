// Package adaptercheck says, before an adapter is started, whether it can
// run here, and if not exactly what is missing and how to fix it. In the
// action's FROM scratch image there is no shell, no libc and no dynamic
// loader, so a `#!/bin/sh` wrapper or a glibc-linked build fails at exec
// with "no such file or directory" about a file that plainly exists.
package adaptercheck

import (
	"bufio"
	"bytes"
	"encoding/binary"
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

// ELF machine numbers (e_machine) of the architectures Go builds for.
const (
	emMIPS      = 8
	em386       = 3
	emPPC64     = 21
	emS390      = 22
	emARM       = 40
	emX86_64    = 62
	emAARCH64   = 183
	emRISCV     = 243
	emLOONGARCH = 258
)

// machines are the ELF machines Go's GOARCH values run.
var machines = map[string]uint16{
	"amd64": emX86_64, "arm64": emAARCH64, "386": em386, "arm": emARM,
	"riscv64": emRISCV, "ppc64le": emPPC64, "ppc64": emPPC64, "s390x": emS390,
	"loong64": emLOONGARCH, "mips64": emMIPS, "mips64le": emMIPS, "mips": emMIPS, "mipsle": emMIPS,
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
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return elfBinary(path, f)
	case isMachO(head):
		return cannot(path, "is a macOS (Mach-O) binary; this runner is Linux: "+StaticFix)
	case bytes.HasPrefix(head, []byte("MZ")):
		return cannot(path, "is a Windows (PE) binary; this runner is Linux: "+StaticFix)
	}
	return cannot(path, "is neither a Linux binary (ELF) nor a script starting with #!: "+StaticFix)
}

func elfBinary(path string, r io.ReaderAt) error {
	machine, interp, err := readELF(r)
	if err != nil {
		return cannot(path, fmt.Sprintf("is not a valid ELF binary (%v): %s", err, StaticFix))
	}
	if want, ok := machines[runtime.GOARCH]; ok && machine != want {
		return cannot(path, fmt.Sprintf("is built for %s (ELF machine %d); this runner is %s: %s", archName(machine), machine, runtime.GOARCH, StaticFix))
	}
	if interp == "" {
		return nil
	}
	if _, err := os.Stat(interp); err != nil {
		return cannot(path, fmt.Sprintf("is dynamically linked and needs the loader %s (and its C library), which this system does not have "+
			"(the action's image is FROM scratch: no libc): %s", interp, StaticFix))
	}
	return nil
}

// readELF reads what the check needs from an ELF file: its machine, and
// the dynamic loader its PT_INTERP program header names ("" when static).
// Two headers, read by hand: debug/elf would add 0.19 MB (with the zstd
// and DWARF readers it brings) to a binary shipped in every job's image.
func readELF(r io.ReaderAt) (machine uint16, interp string, err error) {
	var h [64]byte
	n, err := r.ReadAt(h[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, "", err
	}
	if need := map[byte]int{1: 52, 2: 64}[h[4]]; n < need || need == 0 {
		return 0, "", errors.New("truncated or unknown ELF header")
	}
	var bo binary.ByteOrder
	switch h[5] { // EI_DATA
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return 0, "", errors.New("unknown byte order")
	}
	machine = bo.Uint16(h[18:])
	var phoff uint64
	var phentsize, phnum uint16
	switch h[4] { // EI_CLASS
	case 1: // 32-bit
		phoff, phentsize, phnum = uint64(bo.Uint32(h[28:])), bo.Uint16(h[42:]), bo.Uint16(h[44:])
	case 2: // 64-bit
		phoff, phentsize, phnum = bo.Uint64(h[32:]), bo.Uint16(h[54:]), bo.Uint16(h[56:])
	default:
		return 0, "", errors.New("unknown class")
	}
	const ptInterp = 3
	for i := uint64(0); i < uint64(phnum); i++ {
		ph := make([]byte, phentsize)
		if _, err := r.ReadAt(ph, int64(phoff+i*uint64(phentsize))); err != nil {
			return 0, "", fmt.Errorf("program header %d: %w", i, err)
		}
		if len(ph) < 4 || bo.Uint32(ph) != ptInterp {
			continue
		}
		var off, size uint64
		if h[4] == 1 && len(ph) >= 20 {
			off, size = uint64(bo.Uint32(ph[4:])), uint64(bo.Uint32(ph[16:]))
		} else if h[4] == 2 && len(ph) >= 40 {
			off, size = bo.Uint64(ph[8:]), bo.Uint64(ph[32:])
		}
		if size == 0 || size > 4096 {
			return 0, "", fmt.Errorf("a loader path of %d bytes", size)
		}
		b := make([]byte, size)
		if _, err := r.ReadAt(b, int64(off)); err != nil {
			return 0, "", fmt.Errorf("loader path: %w", err)
		}
		return machine, strings.TrimRight(string(b), "\x00"), nil
	}
	return machine, "", nil
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
var archNames = map[uint16]string{emX86_64: "amd64", emAARCH64: "arm64", em386: "386", emARM: "arm",
	emRISCV: "riscv64", emS390: "s390x", emPPC64: "ppc64le", emLOONGARCH: "loong64", emMIPS: "mips"}

func archName(m uint16) string {
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
