//go:build unix

package deploy

import (
	"errors"
	"os"
	"syscall"
)

// killGroup kills the adapter's process group (it leads its own, see
// sysProcAttr), so whatever the adapter started dies with it; if the group
// is already gone, the process itself.
func killGroup(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return p.Kill()
	}
	return err
}
