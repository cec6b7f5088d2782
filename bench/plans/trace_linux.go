package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usage is what one run of a command cost, process by process.
type usage struct {
	Wall time.Duration
	// RootCPU is the command's own CPU (user + system), without the
	// processes it started; ChildCPU is theirs.
	RootCPU, ChildCPU time.Duration
	// RootHWM and ChildHWM are peak resident memory (VmHWM, KiB), each read
	// from /proc when its process exits: the largest of the children for
	// ChildHWM.
	RootHWM, ChildHWM int64
	Children          int
	Exit              int
}

// run starts argv under ptrace and follows it and every process it starts
// to their exits. At each exit it reads the process's VmHWM, its peak
// resident memory: not getrusage's ru_maxrss, which for a process started
// by another counts the starter's memory at the fork (the exec replaces the
// memory but keeps that maximum) and which, for a parent, includes the
// children it waited for.
func run(argv, env []string, dir string, stdout, stderr *os.File) (usage, error) {
	type result struct {
		u   usage
		err error
	}
	done := make(chan result)
	go func() {
		// ptrace requests must come from the thread that traces.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		u, err := trace(argv, env, dir, stdout, stderr)
		done <- result{u, err}
	}()
	r := <-done
	return r.u, r.err
}

func trace(argv, env []string, dir string, stdout, stderr *os.File) (usage, error) {
	var u usage
	start := time.Now()
	root, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Dir: dir, Env: env, Files: []uintptr{devNull().Fd(), stdout.Fd(), stderr.Fd()},
		Sys: &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		return u, err
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(root, &ws, syscall.WALL, nil); err != nil { // stopped at the exec
		return u, err
	}
	const opts = syscall.PTRACE_O_TRACEEXIT | syscall.PTRACE_O_TRACEFORK | syscall.PTRACE_O_TRACEVFORK | syscall.PTRACE_O_TRACECLONE | syscall.PTRACE_O_TRACEEXEC
	if err := syscall.PtraceSetOptions(root, opts); err != nil {
		return u, fmt.Errorf("ptrace: %w", err)
	}
	if err := syscall.PtraceCont(root, 0); err != nil {
		return u, err
	}
	tgidOf := map[int]int{}  // thread → its process
	hwm := map[int]int64{}   // process → VmHWM at its exit
	fresh := map[int]bool{}  // new tracees: their first SIGSTOP is the attach
	execed := map[int]bool{} // processes that started a program
	var childCPU time.Duration
	for {
		var ru syscall.Rusage
		pid, err := syscall.Wait4(-1, &ws, syscall.WALL, &ru)
		if err == syscall.ECHILD {
			break
		}
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return u, err
		}
		switch {
		case ws.Exited() || ws.Signaled():
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			switch tg, ok := tgidOf[pid]; {
			case pid == root:
				u.Wall = time.Since(start)
				u.RootCPU = cpu // with the children it waited for: see below
				u.Exit = ws.ExitStatus()
				if ws.Signaled() {
					u.Exit = 128 + int(ws.Signal())
				}
			case ok && tg == pid && execed[pid]: // a program it started ended (not a thread, nor a fork that never ran one)
				childCPU += cpu
				u.Children++

			}
		case ws.Stopped():
			sig := ws.StopSignal()
			inject := 0
			switch {
			case sig == syscall.SIGTRAP && ws.TrapCause() == syscall.PTRACE_EVENT_EXIT:
				tg, kb := status(pid)
				tgidOf[pid] = tg
				hwm[tg] = max(hwm[tg], kb)
			case sig == syscall.SIGTRAP && ws.TrapCause() == syscall.PTRACE_EVENT_EXEC:
				execed[pid] = true
			case sig == syscall.SIGTRAP && ws.TrapCause() > 0: // fork, clone
				if msg, err := syscall.PtraceGetEventMsg(pid); err == nil {
					fresh[int(msg)] = true
				}
			case sig == syscall.SIGSTOP && fresh[pid]:
				delete(fresh, pid)
			default:
				inject = int(sig)
			}
			_ = syscall.PtraceCont(pid, inject)
		}
	}
	// The root's rusage counts the children it waited for.
	u.RootCPU -= childCPU
	u.ChildCPU = childCPU
	u.RootHWM = hwm[root]
	for tg, kb := range hwm {
		if tg != root && execed[tg] {
			u.ChildHWM = max(u.ChildHWM, kb)
		}
	}
	return u, nil
}

// status reads a thread's process id and its process's VmHWM (KiB).
func status(tid int) (tgid int, hwmKB int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return tid, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "Tgid":
			tgid, _ = strconv.Atoi(f[0])
		case "VmHWM":
			hwmKB, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	return tgid, hwmKB
}

var null *os.File

func devNull() *os.File {
	if null == nil {
		null, _ = os.Open(os.DevNull)
	}
	return null
}
