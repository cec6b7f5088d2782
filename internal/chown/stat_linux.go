package chown

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

func owner(path string) (uid, gid int, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, fmt.Errorf("%s: no owner information", path)
	}
	return int(st.Uid), int(st.Gid), nil
}

// stat is an entry's owner and its inode change time (set on creation and
// on every chmod, write or rename), without following symlinks.
func stat(path string) (uid int, changed time.Time, ok bool) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return 0, time.Time{}, false
	}
	return int(st.Uid), time.Unix(st.Ctim.Sec, st.Ctim.Nsec), true
}
