package run

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// stateTrust is the run's judge of who may have written state, shared by
// every state read of the run so each question is asked of GitHub once.
func (s *session) stateTrust() *state.Trust {
	if s.trust != nil {
		return s.trust
	}
	g := s.d.GH
	runs := &state.GitHubRuns{GH: s.stateGitHub(), Owner: g.Owner, Repo: g.Repo}
	def := defaultBranch(g)
	s.trust = &state.Trust{Runs: runs, History: runs, Repo: g.Owner + "/" + g.Repo, DefaultBranch: def, Known: knownOnDefaultBranch(g, def)}
	return s.trust
}

// knownOnDefaultBranch are the commits this run knows to be in the default
// branch's history without asking GitHub: its own commit when it runs on
// that branch (and a push's before), or a pull request's base there.
func knownOnDefaultBranch(g *GitHubContext, def string) []string {
	switch {
	case trustedRun(g, def):
		known := []string{g.SHA}
		if g.EventName == "push" && g.Before != "" && !allZeros(g.Before) {
			known = append(known, g.Before)
		}
		return known
	case g.PRNumber != 0 && g.BaseRef == def && g.BaseSHA != "":
		return []string{g.BaseSHA}
	}
	return nil
}

// trustedRun says whether this run is one whose state writes are proven:
// a push, workflow_dispatch or schedule run on the default branch.
func trustedRun(g *GitHubContext, def string) bool {
	return g.Ref == "refs/heads/"+def && (g.EventName == "push" || g.EventName == "workflow_dispatch" || g.EventName == "schedule")
}

func allZeros(sha string) bool {
	for _, c := range sha {
		if c != '0' {
			return false
		}
	}
	return true
}

// witness is the state's witness for the git backend: it proves each
// record read, and (write) vouches for each record written. A run without
// the artifact service (GitHub Enterprise Server before 3.13) can neither
// write nor rely on witnesses: provenance is off there, and said so.
func (s *session) witness(write bool) *state.Witness {
	g := s.d.GH
	if s.d.GitHub == nil || g == nil {
		return nil
	}
	if s.o.Command == CommandPreview {
		// A preview is the pull request's own environment, deployed by its
		// runs: no trusted run ever writes its state, and the pull
		// request's workflow holds what it deploys with anyway.
		return nil
	}
	if s.d.Uploader == nil {
		s.d.Report.Warningf("No artifact service (%v): where the deploy state came from is neither recorded nor checked (docs/security.md: The state's provenance).", s.d.NoArtifactService)
		return nil
	}
	w := &state.Witness{Finder: artifacts.NewFinder(s.stateGitHub(), g.Owner, g.Repo, s.d.BlobClient), Trust: s.stateTrust(), Name: s.target.WitnessArtifact(),
		Run: g.RunID, Attempt: g.RunAttempt, Now: s.now, Warn: s.d.Report.Warningf}
	if write {
		w.Uploader = s.d.Uploader
	}
	return w
}

// untrusted is the failure of a state that is not proven: nothing was
// deployed, and how to adopt it after a person checked it.
func (s *session) untrusted(err error) error {
	var u *state.UntrustedError
	if !errors.As(err, &u) {
		return err
	}
	written := ""
	if u.Commit != "" {
		written = fmt.Sprintf("; it was last written by commit %s", u.Commit)
		if u.Author != "" {
			written += fmt.Sprintf(" (which names %s as its author: anyone can)", u.Author)
		}
	}
	hint := s.adoptHint(u)
	if u.File != "" {
		hint = putBackHint(u.File)
	}
	return &Failure{Reason: ReasonStateUntrusted, Hint: hint, Err: fmt.Errorf("%w%s. Nothing was deployed: the adapter was not started", err, written)}
}

// putBackHint is the way out of a file beside the state that is not the one
// the proven record names: the record is proven, so adopt finds nothing to
// adopt; the file the record names is in the store's history.
func putBackHint(file string) string {
	return "Nothing was deployed. Put back the " + file + " the message names (its blob, from the history before the commit that changed it: " +
		"git show <blob> > " + file + ", committed to the same place); adopt does not apply, the record itself is proven (docs/security.md: A state that is not proven)."
}

func (s *session) adoptHint(u *state.UntrustedError) string {
	on := s.o.Surface
	check := "Check the state"
	if u.Commit != "" {
		check = "Check what commit " + short(u.Commit, 12) + " wrote (git show " + short(u.Commit, 12) + ")"
	}
	first := ""
	if u.Legacy {
		first = "A state written before this version of arena-deploy-action needs this once (docs/upgrading.md). "
	}
	return first + check + "; if it is what is deployed, adopt it: run command: adopt with " + on.Setting("confirm-adopt", s.env) +
		" and adopt-reason: <why> on the default branch (workflow_dispatch), which records who adopted it and why. " +
		"If nobody you trust wrote it, put the last good state back first (docs/security.md: A state that is not proven)."
}

// Adopt makes the current state of the target proven again, after a person
// checked it: the state branch (or committed file) is written back as it
// is, from this trusted run, with a witness and a record of who adopted it
// and why. It never starts the adapter.
func Adopt(ctx context.Context, o *Options, d *Deps) error {
	s := newSession(o, d)
	defer s.close()
	adopted, err := s.adopt(ctx)
	s.d.Report.SetOutput("adopted", strconv.FormatBool(adopted && err == nil))
	if err != nil {
		s.failOutputs(err)
	}
	return err
}

func (s *session) adopt(ctx context.Context) (bool, error) {
	on := s.o.Surface
	if s.o.ConfirmAdopt != s.env || strings.TrimSpace(s.o.AdoptReason) == "" {
		return false, failf(ReasonAdoptRefused, fmt.Sprintf("Check the state, then set %s and adopt-reason to why it is right (it is recorded).", on.Setting("confirm-adopt", s.env)),
			"adopting the state of %q needs confirm-adopt set to the environment's name (it is %q) and an adopt-reason", s.env, s.o.ConfirmAdopt)
	}
	g := s.d.GH
	if s.d.GitHub == nil || g == nil {
		return false, failf(ReasonInvalidInput, "Run adopt in the workflow: the CLI's local state file has no provenance to adopt.", "adopt is a workflow command")
	}
	if def := defaultBranch(g); !trustedRun(g, def) {
		return false, failf(ReasonInvalidInput, "Run adopt by workflow_dispatch on "+def+": only a push, workflow_dispatch or schedule run on the default branch writes state that later runs trust.",
			"adopt runs on the default branch %s (this is a %s run on %s)", def, g.EventName, g.Ref)
	}
	if err := s.openWorkspace(); err != nil {
		return false, err
	}
	s.backend = s.stateBackendFor(true)
	if _, ok := s.backend.(*state.Branch); !ok {
		return false, failf(ReasonInvalidInput, "Nothing to adopt: the "+s.o.StateBackend+" backend reads only state written by trusted runs.",
			"adopt is for the git backend (the state branch, or the committed file)")
	}
	release, err := s.lockState(ctx, s.o.LockWait)
	if err != nil {
		return false, err
	}
	defer release()
	snap, err := s.backend.Load(ctx)
	if err == nil {
		msg := "The state of " + s.env + " in " + s.backend.Describe() + " is proven already"
		if snap.Proof != nil {
			msg += fmt.Sprintf(" (witness of run %d at %s)", snap.Proof.RunID, short(snap.Proof.Commit, 7))
		}
		s.d.Report.Infof("%s: nothing to adopt.", msg)
		s.d.Report.AddStepSummary("### Nothing to adopt\n\n" + comment.Escape(msg) + ".\n")
		return false, nil
	}
	var u *state.UntrustedError
	if !errors.As(err, &u) || u.Snapshot == nil {
		return false, err
	}
	if u.File != "" {
		// The record is proven; a file beside it is not the one it names.
		return false, s.untrusted(err)
	}
	snap = u.Snapshot
	who := g.Actor
	if g.TriggeringActor != "" && g.TriggeringActor != who {
		who = g.TriggeringActor + " (for " + g.Actor + ")"
	}
	w := &state.Write{State: snap.State, Now: s.now(), RunID: g.RunID, RunAttempt: g.RunAttempt,
		Message: fmt.Sprintf("arena-deploy: adopt %s (by %s)", s.env, who),
		Adopted: &state.Adoption{By: who, Reason: s.o.AdoptReason, RunID: g.RunID, Commit: u.Commit, Was: u.Reason}}
	if snap.State == nil && snap.Record == nil {
		return false, failf(ReasonInvalidInput, "Nothing to adopt.", "%s holds no state", s.backend.Describe())
	}
	ref, err := s.backend.Save(ctx, w, snap)
	if err != nil {
		if errors.Is(err, state.ErrNotWritable) {
			return false, fail(ReasonStateNotWritable, notWritableHint, err)
		}
		return false, fail(ReasonGitHubAPI, "Nothing was adopted; re-run.", err)
	}
	s.d.Report.SetOutput("state-sha", ref)
	s.d.Report.Infof("Adopted the state of %s in %s (commit %s), by %s: %s", s.env, s.backend.Describe(), short(ref, 7), who, s.o.AdoptReason)
	s.d.Report.AddStepSummary(adoptSummary(s.env, s.backend.Describe(), ref, who, s.o.AdoptReason, u, snap))
	return true, nil
}

// adoptSummary says what was adopted, for whoever reads the run later.
func adoptSummary(env, store, ref, who, why string, u *state.UntrustedError, snap *state.Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Adopted the state of %s\n\n", comment.Escape(env))
	fmt.Fprintf(&b, "| | |\n|---|---|\n| Store | %s |\n| Adopted by | %s |\n| Why | %s |\n", comment.Escape(store), comment.Escape(who), comment.Escape(why))
	fmt.Fprintf(&b, "| Was not proven because | %s |\n", comment.Escape(u.Reason))
	if u.Commit != "" {
		fmt.Fprintf(&b, "| Written by commit | %s |\n", comment.Escape(u.Commit))
	}
	if rec := snap.Record; rec != nil {
		fmt.Fprintf(&b, "| Serial | %d |\n| Applied commit | %s |\n| Plan | %s |\n", rec.Serial, comment.Escape(rec.Commit), comment.Escape(rec.PlanID))
	}
	fmt.Fprintf(&b, "| State | %s |\n| Written as | %s |\n", comment.Escape(snap.Digest()), comment.Escape(ref))
	return b.String()
}

// keepWitness uploads the state's witness again when it expires soon: the
// status and refresh runs that keep a state artifact alive keep the
// witness too. Under the lock (not waiting), so no write lands between the
// proof and the renewal; a busy lock or a failure is a warning, since the
// witness is still listed after it expires.
func (s *session) keepWitness(ctx context.Context) {
	b, ok := s.backend.(*state.Branch)
	if !ok || s.prior == nil || !s.prior.Proof.Due(s.now()) {
		return
	}
	release, err := s.lockState(ctx, 0)
	if err != nil {
		s.d.Report.Warningf("The state's witness was not uploaded again: %s", err)
		return
	}
	defer release()
	if _, err := b.Load(ctx); err != nil {
		s.d.Report.Warningf("The state's witness was not uploaded again: %s", err)
		return
	}
	if _, err := b.Renew(ctx, s.now()); err != nil {
		s.d.Report.Warningf("The state's witness was not uploaded again: %s", err)
	}
}
