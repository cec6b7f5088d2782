package run

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// Unlock frees a target's deploy lock by hand, when confirm-unlock names
// the environment: for a lock whose run is stuck, or one the runs API
// cannot be asked about. It refuses while the holder's run is in progress
// unless force-unlock; the lock record's deletion is a commit of the state
// branch that names who asked and whose lock it was. A lock whose run has
// ended is freed by the next deploy anyway.
func Unlock(ctx context.Context, o *Options, d *Deps) error {
	s := newSession(o, d)
	defer s.close()
	err := s.unlockTarget(ctx)
	if err != nil {
		s.failOutputs(err)
	}
	return err
}

func (s *session) unlockTarget(ctx context.Context) error {
	if s.o.ConfirmUnlock != s.env {
		return failf(ReasonUnlockRefused, s.o.Surface.Set("confirm-unlock", s.env)+" to free its lock.",
			"unlock of %q needs confirm-unlock set to the environment's name (it is %q)", s.env, s.o.ConfirmUnlock)
	}
	if err := s.openWorkspace(); err != nil {
		return err
	}
	var unlocker state.Unlocker
	switch b := s.stateBackendFor(true).(type) {
	case state.Unlocker:
		unlocker = b
	case *state.Artifact:
		if l, ok := s.artifactLock().(state.Unlocker); ok {
			unlocker = l
		}
	}
	if unlocker == nil {
		return failf(ReasonInvalidInput, "The local lock is a file lock held by a running process: it is freed when that process exits.",
			"%s has no lock record to free", s.target)
	}
	s.d.Report.SetOutput("unlocked", "false")
	held, err := unlocker.Unlock(ctx, s.holder(), s.o.ForceUnlock)
	switch {
	case errors.Is(err, state.ErrNotLocked):
		s.d.Report.Infof("%s is not locked: nothing to free.", s.target)
		s.d.Report.AddStepSummary("### 🔓 " + comment.Escape(s.target.String()) + " was not locked\n\nNothing to free.\n")
		return nil
	case errors.Is(err, state.ErrHolderRunning):
		return fail(ReasonLockHeld, "Wait for that run, or cancel it; if it is stuck and you are sure nothing is deploying, "+
			s.o.Surface.SetLower("force-unlock", "true")+".", err)
	case errors.Is(err, state.ErrHolderUnknown):
		return fail(ReasonLockHeld, "Give the job actions: read, so unlock can ask whether that run still runs; or wait for the lock to expire; if you are sure nothing is deploying, "+
			s.o.Surface.SetLower("force-unlock", "true")+".", err)
	case errors.Is(err, state.ErrNotWritable):
		return fail(ReasonStateNotWritable, notWritableHint[len("Nothing was deployed. "):], err)
	case err != nil:
		return fail(ReasonGitHubAPI, "Re-run the job.", err)
	}
	msg := fmt.Sprintf("Freed the deploy lock of %s: it was held by run %d (attempt %d)", s.target, held.RunID, held.Attempt)
	if held.Actor != "" {
		msg += " by " + held.Actor
	}
	s.d.Report.Warningf("%s. Check what that run deployed (refresh shows what is live) before trusting it.", msg)
	s.d.Report.SetOutput("unlocked", "true")
	body := "### 🔓 Unlocked " + comment.Escape(s.target.String()) + "\n\n" + comment.Escape(msg) + "."
	if held.RunURL != "" && comment.SafeURL(held.RunURL) {
		body += " " + comment.Link("Its run", held.RunURL) + "."
	}
	if g := s.d.GH; g != nil && g.Actor != "" {
		body += "\n\nAsked by " + comment.Escape(g.Actor) + " in run " + strconv.FormatInt(g.RunID, 10) + "; the state branch's history records it."
	}
	s.d.Report.AddStepSummary(body + "\n")
	return nil
}
