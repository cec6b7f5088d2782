//go:build !unix

package deploy

import (
	"os"
	"syscall"
)

// Without process groups only the adapter itself is killed.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) error { return p.Kill() }
