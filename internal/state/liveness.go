package state

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// ErrNotLocked is matched when unlock finds no lock to free.
var ErrNotLocked = errors.New("the target is not locked")

// ErrHolderRunning is matched when unlock refuses to free the lock of a
// run that is still in progress.
var ErrHolderRunning = errors.New("the run holding the lock is still in progress")

// ErrHolderUnknown is matched when unlock refuses to free a lock whose
// run could not be asked about (no actions: read, an outage) and which
// has not expired: that run may still be deploying.
var ErrHolderUnknown = errors.New("whether the run holding the lock still runs is not known")

// holderGone says whether the run attempt holding a lock has ended, so
// its lock protects nothing: a later attempt of the same run (a re-run
// after a runner died) knows without asking; another run's holder is
// asked of the runs API, one call. An answer that cannot be had (no
// actions: read, the run deleted, an outage) is "not known to be gone":
// the lock then holds until it expires, as before.
func (l *contentsLock) holderGone(ctx context.Context, cur, self *Holder) (bool, string) {
	switch {
	case cur.RunID == 0:
		return false, ""
	case cur.RunID == self.RunID && self.Attempt > cur.Attempt:
		return true, fmt.Sprintf("attempt %d of this run holds it, and this is attempt %d: that attempt has ended", cur.Attempt, self.Attempt)
	case cur.RunID == self.RunID:
		return false, "" // another job of this very attempt: alive
	}
	run, _, err := l.gh.Actions.GetWorkflowRunByID(ctx, l.owner, l.repo, cur.RunID)
	if err != nil {
		return false, ""
	}
	return runEnded(run, cur)
}

// runEnded reads a run's answer for the attempt that holds a lock; when
// the answer does not show it ended, why says what it shows.
func runEnded(run *github.WorkflowRun, holder *Holder) (bool, string) {
	if a := run.GetRunAttempt(); a > 0 && a < holder.Attempt {
		// An answer from before the holder's attempt started (a replica
		// behind): its "completed" is an earlier attempt's.
		return false, fmt.Sprintf("the runs API still tells of attempt %d, and attempt %d holds it", a, holder.Attempt)
	}
	if run.GetStatus() == "completed" {
		return true, "its run has completed (" + orUnknown(run.GetConclusion()) + ")"
	}
	if a := run.GetRunAttempt(); a > holder.Attempt && holder.Attempt > 0 {
		return true, fmt.Sprintf("its run is on attempt %d now, so attempt %d has ended", a, holder.Attempt)
	}
	return false, "its run is " + orUnknown(run.GetStatus())
}

func orUnknown(s string) string {
	if s == "" {
		return "no conclusion"
	}
	return s
}

// Unlocker frees a target's lock by hand: command unlock.
type Unlocker interface {
	// Unlock deletes the lock record, by a commit that names who asked
	// and whose lock it was (the branch's history records it). It refuses
	// while the holder's run is in progress unless force. It returns the
	// holder it freed.
	Unlock(ctx context.Context, by Holder, force bool) (*Holder, error)
}

// Unlock implements Unlocker.
func (b *Branch) Unlock(ctx context.Context, by Holder, force bool) (*Holder, error) {
	return b.locker().unlock(ctx, by, force)
}

func (l *contentsLock) unlock(ctx context.Context, by Holder, force bool) (*Holder, error) {
	cur, sha, err := l.read(ctx)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("%w: there is no lock record %s on %s", ErrNotLocked, l.path, l.branch)
	}
	status := "its run could not be asked about (actions: read)"
	if cur.RunID != 0 {
		run, _, err := l.gh.Actions.GetWorkflowRunByID(ctx, l.owner, l.repo, cur.RunID)
		switch {
		case err == nil:
			gone, why := runEnded(run, cur)
			status = why
			if !gone {
				if !force {
					return cur, fmt.Errorf("%w: %s holds %s (%s)", ErrHolderRunning, cur.describe(), l.path, status)
				}
			}
		case expired(cur, l.opts.now()):
			status = "its run could not be asked about, and the lock expired at " + cur.Expires
		case !force:
			// Not known to have ended is not known to be done: it
			// may be deploying right now.
			return cur, fmt.Errorf("%w: %s holds %s until %s, and its run could not be asked about (%v), so it may still be deploying",
				ErrHolderUnknown, cur.describe(), l.path, cur.Expires, err)
		}
	}
	msg := fmt.Sprintf("arena-deploy: unlock %s by %s in run %d: it was held by %s; %s [skip ci]", cur.Target, orUnknown(by.Actor), by.RunID, cur.describe(), status)
	_, resp, err := l.gh.Repositories.DeleteFile(ctx, l.owner, l.repo, l.path, &github.RepositoryContentFileOptions{
		Message: github.String(msg), SHA: github.String(sha), Branch: github.String(l.branch)})
	switch {
	case err == nil:
		return cur, nil
	case refusal(resp, err):
		return cur, notWritable(l.path+" on "+l.branch, err)
	case resp != nil && (resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusUnprocessableEntity || resp.StatusCode == http.StatusNotFound):
		// Released or taken over meanwhile: not the lock that was asked about.
		return cur, fmt.Errorf("the lock changed while it was being freed (released or taken over): look again: %w", err)
	}
	return cur, fmt.Errorf("free the deploy lock %s: %w", l.path, err)
}
