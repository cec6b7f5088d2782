package deploy

import "syscall"

// sysProcAttr puts the adapter in a process group of its own, so that a
// timeout or a cancelled run kills it and every process it started
// (killGroup), and asks the kernel to kill it if the action dies, even by
// SIGKILL, so no adapter keeps deploying unwatched. Pdeathsig follows the
// thread that started the adapter; Go's runtime does not end threads of
// goroutines that are not locked to one, so in practice this is the
// action's lifetime.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
