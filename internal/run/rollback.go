package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deployedpack"
	"github.com/arena-deploy/arena-deploy-action/internal/grace"
	"github.com/arena-deploy/arena-deploy-action/internal/mergedpr"
	"github.com/arena-deploy/arena-deploy-action/internal/notify"
	"github.com/arena-deploy/arena-deploy-action/internal/pack"
	"github.com/arena-deploy/arena-deploy-action/internal/rollback"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// RollbackOptions are command rollback's inputs.
type RollbackOptions struct {
	Confirm string // confirm-rollback: the environment's name
	To      string // rollback-to: previous, an applied commit, serial:N
	Reason  string // rollback-reason: recorded
}

// rollbackHistory is how many of the target's past records a rollback
// reads: enough for the last several applies (each apply, refresh and
// destroy is one).
const rollbackHistory = 30

// Rollback re-deploys the pack an earlier apply deployed: the previous
// one, or one named by its applied commit or serial. The pack is taken
// from the default branch at the commit that apply recorded and checked
// against the checksum the state recorded and the copy the state branch
// kept; never a pack found only on the state branch. It plans, shows the
// plan, deploys under the lock and records a new serial naming what was
// restored and who asked; the next merge supersedes it as usual.
func Rollback(ctx context.Context, o *Options, d *Deps) (*ApplyResult, error) {
	s := newSession(o, d)
	defer s.close()
	res := &ApplyResult{}
	err := whenCancelled(ctx, s.runRollback(ctx, res), "Anything the adapter did before it was stopped may be missing from the state: "+
		"run refresh, then the rollback again.")
	rctx, cancel := grace.Context(ctx, s.d.Grace)
	defer cancel()
	if s.restored != nil {
		s.reportApply(rctx, res, err)
	} else if err != nil {
		s.failOutputs(err)
	}
	s.notifyRollback(rctx, res, err)
	return res, err
}

func (s *session) runRollback(ctx context.Context, res *ApplyResult) error {
	on := s.o.Surface
	ro := s.o.Rollback
	if ro.Confirm != s.env {
		return failf(ReasonRollbackRefused, on.Set("confirm-rollback", s.env)+" to roll it back.",
			"rollback of %q needs confirm-rollback set to the environment's name (it is %q)", s.env, ro.Confirm)
	}
	g := s.d.GH
	if s.d.GitHub == nil || g == nil {
		return failf(ReasonInvalidInput, "Run rollback in the workflow: the pack it restores comes from the repository's history on GitHub.",
			"rollback is a workflow command")
	}
	if def := defaultBranch(g); !trustedRun(g, def) {
		return failf(ReasonInvalidInput, "Run rollback by workflow_dispatch on "+def+": only a push, workflow_dispatch or schedule run on the default branch writes state that later runs trust.",
			"rollback runs on the default branch %s (this is a %s run on %s)", def, g.EventName, g.Ref)
	}
	if err := s.load(); err != nil {
		return err
	}
	s.backend = s.stateBackendFor(true)
	hist, ok := s.backend.(interface {
		state.HistoryReader
		FilesAt(ctx context.Context, p state.Past) (map[string][]byte, error)
	})
	if !ok {
		return failf(ReasonInvalidInput, "Roll back with the git backend (the state branch, the default): it keeps every state applied, with its witness.",
			"rollback reads the state's history, which the %s backend does not keep", s.o.StateBackend)
	}
	release, err := s.lockState(ctx, s.o.LockWait)
	if err != nil {
		return err
	}
	defer release()
	if err := s.loadState(ctx); err != nil {
		return err
	}
	if s.prior == nil || s.prior.Record == nil {
		return failf(ReasonRollbackNotFound, "Nothing has been applied to "+s.env+" yet.", "%s holds no state to roll back", s.backend.Describe())
	}
	past, err := hist.History(ctx, rollbackHistory)
	if err != nil {
		return fail(ReasonGitHubAPI, "Nothing was deployed; re-run the job.", err)
	}
	entries, unproven := provenPast(past)
	if unproven > 0 {
		s.d.Report.Warningf("%d records in %s's history were written by no trusted run (a push, workflow_dispatch or schedule run of the default branch): they are never restored.", unproven, s.backend.Describe())
	}
	deployedNow := ""
	if s.prior.State != nil {
		deployedNow = s.prior.State.PackChecksum
	}
	pick, err := rollback.Pick(entries, deployedNow, ro.To)
	switch {
	case errors.Is(err, rollback.ErrBadSpec):
		return fail(ReasonInvalidInput, "Set rollback-to to previous, an applied commit (7 or more hex digits) or serial:N.", err)
	case err != nil:
		return fail(ReasonRollbackNotFound, "The job summary of the apply you want back names its commit and serial; the state branch's history holds the last "+
			fmt.Sprint(rollbackHistory)+" writes.", err)
	}
	restored, err := s.restorePack(ctx, pick)
	if err != nil {
		return err
	}
	files, err := hist.FilesAt(ctx, pastOf(past, pick))
	if err != nil {
		return fail(ReasonRollbackUnproven, "Nothing was deployed.", err)
	}
	s.restored = &restoration{entry: pick, files: files}
	s.d.Report.SetOutput("rolled-back-to", pick.Record.Commit)
	res.Notes = append(res.Notes, fmt.Sprintf("Restores the pack applied at %s (serial %d), taken from that commit on %s and checked against the checksum its apply recorded (%s).",
		short(pick.Record.Commit, 7), pick.Record.Serial, defaultBranch(g), restored.Checksum))
	s.d.Report.Infof("Rolling %s back to the pack applied at %s (serial %d, %s)", s.env, short(pick.Record.Commit, 7), pick.Record.Serial, restored.Checksum)
	s.rollbackPR(ctx, pick)
	if err := s.startAdapter(ctx); err != nil {
		return err
	}
	prior := s.refreshed(ctx)
	if err := s.planNow(ctx, res, prior); err != nil {
		return err
	}
	res.PRNumber = s.restored.pr
	s.commentApply(ctx, res, comment.StatusApplying, nil)
	return s.applyAndSave(ctx, res, prior)
}

// restoration is what a rollback restores: the apply, its pull request,
// and the files kept beside its state (the evaluations baseline).
type restoration struct {
	entry *rollback.Entry
	files map[string][]byte
	pr    int
}

// provenPast keeps the records a trusted run wrote, as rollback entries.
func provenPast(past []state.Past) ([]rollback.Entry, int) {
	var out []rollback.Entry
	unproven := 0
	for _, p := range past {
		if !p.Proven {
			unproven++
			continue
		}
		out = append(out, rollback.Entry{Where: p.Commit, Record: p.Record, State: p.State})
	}
	return out, unproven
}

func pastOf(past []state.Past, e *rollback.Entry) state.Past {
	for _, p := range past {
		if p.Commit == e.Where {
			return p
		}
	}
	return state.Past{}
}

// restorePack reads the pack the entry applied from the default branch's
// history at its applied commit, proves it, and makes it the run's pack.
func (s *session) restorePack(ctx context.Context, e *rollback.Entry) (*pack.Pack, error) {
	onDefault, _, err := s.stateTrust().OnDefaultBranch(ctx, e.Record.Commit)
	if err != nil {
		return nil, fail(ReasonGitHubAPI, "Nothing was deployed; re-run the job.", err)
	}
	if !onDefault {
		return nil, failf(ReasonRollbackUnproven, "Nothing was deployed. Only a pack merged to the default branch, and applied from it, is restored.",
			"%w: commit %s is not in the history of %s", rollback.ErrPackNotProven, short(e.Record.Commit, 7), defaultBranch(s.d.GH))
	}
	rel, err := s.ws.Rel(s.packPath)
	if err != nil {
		return nil, err
	}
	g := s.d.GH
	f := &deployedpack.Finder{GitHub: s.d.GitHub, Owner: g.Owner, Repo: g.Repo}
	raw, err := f.AtCommit(ctx, e.Record.Commit, rel)
	if err != nil {
		return nil, fail(ReasonGitHubAPI, "Nothing was deployed; re-run the job.", fmt.Errorf("read %s at %s: %w", rel, short(e.Record.Commit, 7), err))
	}
	if err := rollback.Prove(raw, e); err != nil {
		return nil, fail(ReasonRollbackUnproven, "Nothing was deployed. The state branch was changed by hand, or the pack moved: roll back to another apply (rollback-to), or deploy through a pull request.",
			fmt.Errorf("%s: %w", rel, err))
	}
	parsed, err := pack.Parse(raw)
	if err != nil {
		return nil, fail(ReasonPackInvalid, "", fmt.Errorf("%s at %s: %w", rel, short(e.Record.Commit, 7), err))
	}
	s.setPack(raw)
	s.packParsed, s.packChecksum, s.packMeta = parsed, parsed.Checksum, deploy.PackMeta(parsed.Meta)
	return parsed, nil
}

// rollbackPR finds the pull request the restored commit merged, whose
// pack comes back: its rollback comment is where people look.
func (s *session) rollbackPR(ctx context.Context, e *rollback.Entry) {
	g := s.d.GH
	f := &mergedpr.Finder{GH: s.d.GitHub, Owner: g.Owner, Repo: g.Repo, Sleep: func(context.Context, time.Duration) error { return nil }, Warn: func(string, ...any) {}}
	if r, err := f.Find(ctx, e.Record.Commit, ""); err == nil {
		s.restored.pr = r.Number
	}
}

// rollbackView is what the rollback's report says it restored.
func (s *session) rollbackView() *comment.Rollback {
	r := s.restored
	if r == nil {
		return nil
	}
	rb := &comment.Rollback{ToCommit: r.entry.Record.Commit, ToSerial: r.entry.Record.Serial, PR: r.pr, By: s.requester(), Reason: s.o.Rollback.Reason}
	return rb
}

// requester is who asked for this run: the triggering actor of a re-run.
func (s *session) requester() string {
	g := s.d.GH
	if g == nil {
		return ""
	}
	if g.TriggeringActor != "" && g.TriggeringActor != g.Actor {
		return g.TriggeringActor + " (for " + g.Actor + ")"
	}
	return g.Actor
}

// rollbackRecord is what the state's record says of this rollback.
func (s *session) rollbackRecord() *state.Rollback {
	r := s.restored
	rb := &state.Rollback{ToCommit: r.entry.Record.Commit, ToSerial: r.entry.Record.Serial, By: s.requester(), Reason: s.o.Rollback.Reason}
	if g := s.d.GH; g != nil {
		rb.RunID = g.RunID
	}
	return rb
}

// notifyRollback tells the webhook a rollback ran, done or failed.
func (s *session) notifyRollback(ctx context.Context, res *ApplyResult, err error) {
	lines := []string{s.where()}
	title, icon := "Arena rollback of "+notify.Escape(s.env)+" done", ":rewind:"
	if r := s.restored; r != nil {
		lines = append(lines, fmt.Sprintf("to the pack applied at %s (serial %d), asked by %s", short(r.entry.Record.Commit, 7), r.entry.Record.Serial, s.requester()))
	}
	if s.o.Rollback.Reason != "" {
		lines = append(lines, "why: "+s.o.Rollback.Reason)
	}
	if err != nil {
		reason, hint := ClassifyOn(err, s.o.Surface)
		title, icon = "Arena rollback of "+notify.Escape(s.env)+" failed ("+reason+")", ":x:"
		msg, _, _ := strings.Cut(s.masker.String(errorText(err)), "\n")
		lines = append(lines, msg, hint)
		if res.Applied {
			lines = append(lines, "The deploy happened; what failed came after it.")
		}
	}
	s.notify(ctx, notify.Message{Kind: notify.Rollback, Icon: icon, Title: title, Lines: lines})
}

// commentMarker finds the run's sticky comment: the target's, or, for a
// rollback, the rollback comment beside it on the restored pull request.
func (s *session) commentMarker() string {
	if s.restored != nil {
		return comment.RollbackMarker(s.target)
	}
	return s.target.Marker()
}
