//go:build arenaprof

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// startProfile writes a CPU profile of this process to
// $ARENA_CPUPROFILE.<program>.<pid> when that variable is set (the action
// and the reference adapter, a link to the same binary, each get one), and
// its allocations (.heap) beside it at exit. Only in binaries built with
// -tags arenaprof, to profile the scripts bench/plans -serve writes
// (script.sh ARENA_CPUPROFILE=/tmp/prof/run); never in the image.
func startProfile() func() {
	dir := os.Getenv("ARENA_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	name := fmt.Sprintf("%s.%s.%d", dir, filepath.Base(os.Args[0]), os.Getpid())
	f, err := os.Create(name + ".cpu")
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		if h, err := os.Create(name + ".heap"); err == nil {
			runtime.GC()
			_ = pprof.Lookup("allocs").WriteTo(h, 0)
			h.Close()
		}
	}
}
