package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// ErrLocked is matched when another process holds the deploy lock.
var ErrLocked = errors.New("deploy lock is held")

// Locker is the exclusive deploy lock of a project: a file lock on
// .promptarena/deploy.lock that works across processes.
type Locker struct {
	path string
	fl   *flock.Flock
}

// NewLocker returns a locker for the lock file in dir (the .promptarena
// directory).
func NewLocker(dir string) *Locker {
	return &Locker{path: filepath.Join(dir, LockFile)}
}

// Path is the lock file's path.
func (l *Locker) Path() string { return l.path }

// Lock takes the lock or fails at once if another process holds it.
func (l *Locker) Lock() error { return l.LockWait(context.Background(), 0) }

// LockWait takes the lock, retrying for up to wait; wait 0 does not retry.
func (l *Locker) LockWait(ctx context.Context, wait time.Duration) error {
	if l.fl != nil {
		return fmt.Errorf("deploy lock %s is already held by this process", l.path)
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o750); err != nil {
		return fmt.Errorf("create lock directory: %w", err)
	}
	for attempt := 0; ; attempt++ {
		fl, err := l.tryLock(ctx, wait)
		if err != nil {
			return err
		}
		// Unlock removes the file, so a racing process may have locked an
		// inode that is gone: only the file still at the path counts.
		if l.stillAtPath(fl) || attempt >= 3 {
			l.fl = fl
			return nil
		}
		_ = fl.Unlock()
	}
}

func (l *Locker) stillAtPath(fl *flock.Flock) bool {
	held, err := fl.Stat()
	if err != nil {
		return false
	}
	cur, err := os.Stat(l.path)
	return err == nil && os.SameFile(held, cur)
}

func (l *Locker) tryLock(ctx context.Context, wait time.Duration) (*flock.Flock, error) {
	fl := flock.New(l.path, flock.SetPermissions(0o600))
	var ok bool
	var err error
	if wait <= 0 {
		ok, err = fl.TryLock()
	} else {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		ok, err = fl.TryLockContext(wctx, 100*time.Millisecond)
		if errors.Is(err, context.DeadlineExceeded) {
			ok, err = false, nil
		}
	}
	if err != nil {
		_ = fl.Close()
		return nil, fmt.Errorf("take deploy lock %s: %w", l.path, err)
	}
	if !ok {
		_ = fl.Close()
		return nil, fmt.Errorf("%w: %s is locked by another deploy of this project; wait for it to finish "+
			"(use a workflow concurrency group so deploys queue) and run again", ErrLocked, l.path)
	}
	return fl, nil
}

// Unlock releases the lock and removes the lock file; without the lock it
// does nothing.
func (l *Locker) Unlock() error {
	if l.fl == nil {
		return nil
	}
	fl := l.fl
	l.fl = nil
	// Remove while still holding the lock, so no one locks a file that is
	// about to disappear.
	rmErr := os.Remove(l.path)
	if err := fl.Unlock(); err != nil {
		return fmt.Errorf("release deploy lock %s: %w", l.path, err)
	}
	if rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		return fmt.Errorf("remove deploy lock %s: %w", l.path, rmErr)
	}
	return nil
}
