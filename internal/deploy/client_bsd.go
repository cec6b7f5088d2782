//go:build unix && !linux

package deploy

import "syscall"

// sysProcAttr puts the adapter in a process group of its own (see
// killGroup). These systems have no Pdeathsig: an action killed by
// SIGKILL leaves the adapter to finish its call alone.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
