package run

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// notWritableHint is the way out of a store that refuses writes.
const notWritableHint = "Nothing was deployed. Three ways out: keep the state on its own branch (state-branch, the default arena-deploy-state; " +
	"let the workflow's token push to it: permissions: contents: write, and no ruleset or protection on that branch); " +
	"give github-token an App or personal access token allowed to push where the state lives; or use state-backend: artifact."

// lockState takes the target's deploy lock on the state store before
// anything is loaded or deployed: a record on the state branch (or next to
// the state file on the checked-out branch), flock for the CLI's local
// file. Being the run's first write, it is also the proof that the store
// takes writes. The returned release runs even when the run was cancelled.
func (s *session) lockState(ctx context.Context, wait time.Duration) (func(), error) {
	var locker state.Locker
	switch b := s.backend.(type) {
	case state.Locker:
		locker = b
	case *state.Artifact:
		locker = s.artifactLock()
	}
	if locker == nil {
		lock := deploy.NewLocker(filepath.Join(s.o.WorkDir, deploy.DirName))
		if err := lock.LockWait(ctx, wait); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) && !errors.Is(err, deploy.ErrLocked) {
				// The lock file is the run's first write: the state's
				// directory does not take writes.
				return nil, fail(ReasonStateNotWritable, "Nothing was deployed. Make "+s.localStateDir()+" writable (the deploy lock and the state are kept there, "+
					"as promptarena keeps them), or run from a writable copy of the project.", err)
			}
			return nil, err
		}
		return func() {
			if err := lock.Unlock(); err != nil {
				s.d.Report.Warningf("%s", err)
			}
		}, nil
	}
	lease, err := locker.LockTarget(ctx, s.holder(), wait)
	if errors.Is(err, state.ErrNotWritable) {
		if _, artifact := s.backend.(*state.Artifact); artifact {
			s.d.Report.Warningf("No deploy lock: this token cannot write the state branch %s (%s). Racing applies are detected after the state artifact is uploaded, and fail state-conflict.", s.o.StateBranch, err)
			return func() {}, nil
		}
		return nil, fail(ReasonStateNotWritable, notWritableHint, fmt.Errorf("the deploy lock could not be written, so the state could not be either: %w", err))
	}
	if err != nil {
		if errors.Is(err, deploy.ErrLocked) {
			return nil, err
		}
		return nil, fail(ReasonGitHubAPI, "Nothing was deployed; re-run the job.", fmt.Errorf("take the deploy lock: %w", err))
	}
	return func() {
		// A cancelled run still frees its lock.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := lease.Release(rctx); err != nil {
			s.d.Report.Warningf("%s; it expires by itself in %s", err, s.lockTTL())
		}
	}, nil
}

// artifactLock is the lock of the artifact backend: on the state branch,
// when the token may write it.
func (s *session) artifactLock() state.Locker {
	g := s.d.GH
	if s.o.StateBranch == "" || s.d.GitHub == nil || g == nil {
		return nil
	}
	return &state.Branch{GH: s.stateGitHub(), Owner: g.Owner, Repo: g.Repo, Branch: s.o.StateBranch, Dir: s.target.StateDir(), Env: s.env,
		Lock: state.LockOptions{TTL: s.lockTTL(), Now: s.now, Sleep: s.d.Sleep, Warn: s.d.Report.Warningf}}
}

// lockTTL is how long this run's lock holds before another run may take
// it over as a dead run's: past the longest this run may take under its
// adapter timeouts (the calls made under the lock, plus a margin for
// GitHub and the adapter's start), and never less than state.LockTTL. A
// shorter lock lets a living run's lock be taken over by a run that then
// deploys beside it.
func (s *session) lockTTL() time.Duration {
	t := s.o.AdapterTimeouts
	d := 10 * time.Minute
	for _, m := range []string{deploy.MethodGetProviderInfo, deploy.MethodValidateConfig, deploy.MethodStatus, deploy.MethodPlan} {
		d += t.For(m)
	}
	d += max(t.For(deploy.MethodApply), t.For(deploy.MethodDestroy))
	return max(d, state.LockTTL)
}

// loadPlanState reads the state a plan starts from. A token that may not
// read the state branch (a fork's, without contents: read) plans against
// the checked-out state instead, with a warning: apply proves the state
// again under its lock, so such a plan cannot be applied to another state.
func (s *session) loadPlanState(ctx context.Context) error {
	err := s.loadState(ctx)
	var er *github.ErrorResponse
	b, onBranch := s.backend.(*state.Branch)
	if err == nil && onBranch && b.Witness != nil {
		// The pack the pull request's is shown against must be the one
		// the proven record names (read once: the pack diff reuses it).
		if _, perr := b.LoadDeployedPack(ctx); errors.Is(perr, state.ErrUntrusted) {
			return s.untrusted(perr)
		}
	}
	if onBranch && errors.Is(err, state.ErrWitnessUnreadable) {
		// A plan is for review: apply proves the state under its lock.
		s.d.Report.Infof("Where the deploy state came from was not checked: this token may not list artifacts (%s). "+
			"The apply of this plan checks it and refuses a state no trusted run wrote; grant the plan job actions: read to see that here.", er0(err))
		b.Witness = nil
		return s.loadState(ctx)
	}
	if err == nil || !onBranch || !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusForbidden {
		return err
	}
	checkout, ok := b.Legacy.(state.Backend) // a plan's: the checked-out file
	if !ok {
		return err
	}
	s.d.Report.Warningf("This token may not read the state branch %s (%s); planning against %s instead. Grant contents: read to plan against the deployed state.",
		b.Branch, er.Message, checkout.Describe())
	s.backend = checkout
	return s.loadState(ctx)
}

func er0(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		return er.Message
	}
	return err.Error()
}

func (s *session) holder() state.Holder {
	h := state.Holder{Target: s.target.StateDir()}
	if g := s.d.GH; g != nil {
		h.RunID, h.Attempt, h.RunURL, h.Commit, h.Actor = g.RunID, g.RunAttempt, g.RunURL(), g.SHA, g.Actor
		if h.Attempt == 0 {
			h.Attempt = 1
		}
	}
	return h
}

// checkOrder stops an apply the record says is done (a re-run: applied,
// nothing to do) or older than what is deployed (superseded: never a
// rollback, whatever on-stale-plan says). true: nothing more to do.
func (s *session) checkOrder(ctx context.Context, res *ApplyResult) (bool, error) {
	g := s.d.GH
	if s.prior == nil || s.prior.Record == nil || g == nil || s.d.GitHub == nil {
		return false, nil
	}
	rec := s.prior.Record
	planID := ""
	if res.Prov != nil {
		planID = res.Prov.PlanID
	}
	verdict, note, err := state.Order(ctx, s.d.GitHub, g.Owner, g.Repo, rec, g.SHA, g.Before, planID)
	if err != nil {
		return false, fail(ReasonGitHubAPI, "Nothing was deployed; re-run the job.", err)
	}
	if note != "" {
		s.d.Report.Warningf("%s", note)
		res.Notes = append(res.Notes, note)
	}
	switch verdict {
	case state.AlreadyApplied:
		res.Applied, res.AlreadyApplied = true, true
		res.StateRef = s.prior.Version
		res.Notes = append(res.Notes, fmt.Sprintf("Already applied: the state records plan %s applied from %s (serial %d), so nothing was deployed again.", planID, short(rec.Commit, 7), rec.Serial))
		s.d.Report.Infof("Already applied: %s records plan %s from %s", s.backend.Describe(), planID, short(rec.Commit, 7))
		return true, nil
	case state.RolledBack:
		rb := rec.RolledBack
		return true, failf(ReasonSuperseded, "Nothing was deployed: the rollback stays. To deploy this change again, merge it anew (a new pull request).",
			"%w: %s's apply to %s was rolled back to %s (serial %d) by %s since; applying it again would undo the rollback",
			state.ErrSuperseded, short(g.SHA, 7), s.env, short(rb.ToCommit, 7), rb.ToSerial, rb.By)
	case state.Superseded:
		return true, failf(ReasonSuperseded, "Nothing was deployed: the newer commit stays. To deploy this change again, merge it anew (a revert of the newer change, or a new pull request).",
			"%w: %s is applied to %s and comes after this commit %s; applying this one would roll it back", state.ErrSuperseded, short(rec.Commit, 7), s.env, short(g.SHA, 7))
	}
	return false, nil
}

// localStateDir is the local state's directory, relative to the project.
func (s *session) localStateDir() string {
	return relTo(s.o.WorkDir, filepath.Join(s.o.WorkDir, deploy.DirName))
}

// stateGitHub is the client of every state read and write, the lock's
// too: a client of its own (Deps.StateGitHub), so that go-github's memory
// of a rate limit met by another call (a comment edit) cannot refuse them.
func (s *session) stateGitHub() *github.Client {
	if s.d.StateGitHub != nil {
		return s.d.StateGitHub
	}
	return s.d.GitHub
}
