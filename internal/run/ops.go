package run

import (
	"context"
	"errors"
	"strconv"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/environment"
	"github.com/arena-deploy/arena-deploy-action/internal/grace"
	"github.com/arena-deploy/arena-deploy-action/internal/report"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
)

// DriftLabel labels the drift issues the refresh command keeps.
const DriftLabel = "arena-drift"

// StatusResult is what status and refresh found.
type StatusResult struct {
	Response *deploy.StatusResponse
	Drifted  []deploy.ResourceStatus
	IssueNum int
}

// openForOps loads what status, refresh and destroy need: config, the
// state (read-write) and the adapter. Those that write (lock) load the
// state under the deploy lock, which the session frees when it closes.
func (s *session) openForOps(ctx context.Context, lock bool) error {
	if err := s.load(); err != nil {
		return err
	}
	s.backend = s.stateBackendFor(true)
	if lock {
		release, err := s.lockState(ctx, s.o.LockWait)
		if err != nil {
			return err
		}
		s.unlock = release
		if s.underLock != nil {
			if err := s.underLock(ctx); err != nil {
				return err
			}
		}
	}
	if err := s.loadState(ctx); err != nil {
		return err
	}
	return s.startAdapter(ctx)
}

func (s *session) deployed() bool {
	return s.prior != nil && s.prior.State != nil && s.prior.State.State != ""
}

// Status reports the health of what is deployed to the job summary.
func Status(ctx context.Context, o *Options, d *Deps) (*StatusResult, error) {
	s := newSession(o, d)
	defer s.close()
	res, err := s.status(ctx, "status", false)
	if err != nil {
		s.failOutputs(err)
		s.keepStateIfNotOffered(ctx, "status", err)
		return res, err
	}
	s.keepStateArtifact(ctx, "status")
	s.keepWitness(ctx)
	return res, nil
}

// keepStateArtifact uploads the state artifact again, or it expires: status
// and refresh runs (the schedule the expiry warning asks for) keep it;
// only under the lock, and only if no apply uploaded a newer one.
func (s *session) keepStateArtifact(ctx context.Context, kind string) {
	if s.o.StateBackend != "artifact" || !s.deployed() {
		return
	}
	release, err := s.lockState(ctx, 0)
	if err != nil {
		s.d.Report.Warningf("The state artifact was not uploaded again: %s", err)
		return
	}
	defer release()
	if _, err := s.backend.Save(ctx, &state.Write{State: s.prior.State, Message: kind}, s.prior); err != nil {
		s.d.Report.Warningf("Could not upload the state artifact again: %s", err)
	}
}

func (s *session) status(ctx context.Context, kind string, lock bool) (*StatusResult, error) {
	if err := s.openForOps(ctx, lock); err != nil {
		return nil, err
	}
	res := &StatusResult{}
	view := &comment.Status{Kind: kind, Env: s.env, Footer: s.statusFooter()}
	if s.deployed() {
		view.LastDeployed = s.prior.State.LastDeployed
		resp, err := s.client.Status(ctx, &deploy.StatusRequest{DeployConfig: s.configJSON, Environment: s.env, PriorState: s.prior.State.State})
		if errors.Is(err, deploy.ErrMethodNotSupported) {
			return nil, notOffered(s.adapterLabel(), kind, err)
		}
		if err != nil {
			return nil, err
		}
		report.Status(s.masker, resp)
		for _, l := range resp.Links {
			s.d.Report.Infof("%s: %s", l.Label, l.URL)
		}
		if u := environment.URL(resp.Links, nil); u != "" {
			s.d.Report.SetOutput("environment-url", u)
		}
		res.Response, res.Drifted = resp, comment.Drifted(resp)
		view.Response = resp
		view.Baseline = s.recordedBaseline(ctx)
	}
	s.d.Report.AddStepSummary(comment.RenderStatus(view, comment.SummaryBudget))
	s.storeProtection(ctx)
	s.reportProtection()
	st := "not_deployed"
	if res.Response != nil {
		st = res.Response.Status
	}
	s.d.Report.SetOutput("status", st)
	s.d.Report.SetOutput("drift", strconv.Itoa(len(res.Drifted)))
	s.d.Report.Infof("%s: %s, %d resources not healthy", s.env, st, len(res.Drifted))
	return res, nil
}

func (s *session) statusFooter() string {
	if g := s.d.GH; g != nil && g.RunID != 0 {
		return "[run " + itoa64(g.RunID) + "](" + g.RunURL() + ")"
	}
	return ""
}

func (s *session) failOutputs(err error) {
	reason, _ := ClassifyOn(err, s.o.Surface)
	s.d.Report.SetOutput("failure-reason", reason)
}

// Refresh checks for drift, records last_refreshed and the adapter's state,
// and keeps one drift issue per environment open while drift lasts.
func Refresh(ctx context.Context, o *Options, d *Deps) (*StatusResult, error) {
	s := newSession(o, d)
	defer s.close()
	res, err := s.refresh(ctx)
	if err != nil {
		s.failOutputs(err)
		s.keepStateIfNotOffered(ctx, "refresh", err)
	}
	if res != nil {
		s.notifyDrift(ctx, res)
	}
	return res, err
}

// keepStateIfNotOffered keeps the state artifact alive when the adapter
// has no status: the run cannot check the deployment, but the state it
// read is as good as before, and must not expire for want of a refresh.
func (s *session) keepStateIfNotOffered(ctx context.Context, kind string, err error) {
	if errors.Is(err, deploy.ErrMethodNotSupported) && s.backend != nil {
		s.keepStateArtifact(ctx, kind)
	}
}

func (s *session) refresh(ctx context.Context) (*StatusResult, error) {
	res, err := s.status(ctx, "refresh", false)
	if err != nil {
		return nil, err
	}
	written, err := s.recordRefresh(ctx, res)
	if err != nil {
		return res, err
	}
	if !written {
		s.keepStateArtifact(ctx, "refresh")
		s.keepWitness(ctx)
	}
	if s.o.DriftIssue && s.d.GitHub != nil {
		n, err := s.syncDriftIssue(ctx, res)
		if err != nil {
			s.d.Report.Warningf("Could not update the drift issue: %s", err)
		}
		res.IssueNum = n
		if n != 0 {
			s.d.Report.SetOutput("drift-issue", strconv.Itoa(n))
		}
	}
	if len(res.Drifted) > 0 && s.o.FailOnDrift {
		return res, failf(ReasonDriftDetected, "Re-apply ("+s.o.Surface.Replan()+"; the plan shows DRIFT rows), or find who changed the deployment.",
			"%d resources of %s drifted from the deployed state", len(res.Drifted), s.env)
	}
	return res, nil
}

// recordRefresh (true: a state newer than the one read is stored) writes
// the refreshed state only when the adapter's state changed, so an hourly
// refresh of an unchanged deploy makes no state commit (the artifact
// backend's is uploaded again all the same, as by status, or it expires).
// Then it locks, and writes only if no apply landed since the state was
// read.
func (s *session) recordRefresh(ctx context.Context, res *StatusResult) (bool, error) {
	if !s.deployed() {
		return false, nil
	}
	if res.Response.State == "" || res.Response.State == s.prior.State.State {
		// The adapter's state is what did not change; the deployment may
		// have (drift): say which, never "nothing changed" after a drift.
		if n := len(res.Drifted); n > 0 {
			restore := "Re-apply through a pull request to restore them"
			if s.o.Surface == surface.CLI {
				restore = "Run plan and apply to restore them"
			}
			s.d.Report.Infof("%d resources of %s are not as deployed (above); the state file was left as it is, since the adapter's own state did not change. "+
				"%s, or find who changed them.", n, s.env, restore)
		} else {
			s.d.Report.Infof("Nothing changed since the state was written: it was left as it is.")
		}
		return false, nil
	}
	if s.masker.Contains(res.Response.State) {
		s.d.Report.Warningf("The adapter's refreshed state holds the value of a secret (from the deploy config or the environment), so the stored state was kept in %s. "+
			"The adapter must not put credentials in its state.", s.backend.Describe())
		return false, nil
	}
	release, err := s.lockState(ctx, s.o.LockWait)
	if err != nil {
		return false, err
	}
	defer release()
	cur, err := s.backend.Load(ctx)
	if err != nil {
		return false, s.untrusted(err)
	}
	if cur.Version != s.prior.Version {
		s.d.Report.Warningf("A deploy wrote the state while this refresh ran; its state is newer, so the refresh result was not recorded.")
		return true, nil // a newer state is there: nothing to keep alive
	}
	st := *s.prior.State
	st.LastRefreshed = s.now().UTC().Format("2006-01-02T15:04:05Z07:00")
	st.State = res.Response.State
	if _, err := s.backend.Save(ctx, &state.Write{State: &st, Message: "arena-deploy: refresh " + s.env, Now: s.now()}, cur); err != nil {
		if errors.Is(err, state.ErrNotWritable) {
			return false, fail(ReasonStateNotWritable, notWritableHint, err)
		}
		return false, fail(ReasonGitHubAPI, "The refresh result was not recorded; re-run it.", err)
	}
	return true, nil
}

// syncDriftIssue opens or updates the environment's drift issue while
// there is drift, and closes it when there is none.
func (s *session) syncDriftIssue(ctx context.Context, res *StatusResult) (int, error) {
	g, gh := s.d.GH, s.d.GitHub
	title := s.masker.String("Arena drift: " + s.env)
	open, _, err := gh.Issues.ListByRepo(ctx, g.Owner, g.Repo, &github.IssueListByRepoOptions{State: "open", Labels: []string{DriftLabel}, ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		return 0, err
	}
	var existing *github.Issue
	for _, is := range open {
		if is.GetTitle() == title && !is.IsPullRequest() {
			existing = is
		}
	}
	if len(res.Drifted) == 0 {
		if existing == nil {
			return 0, nil
		}
		body := s.masker.String("Drift resolved: every resource of " + comment.Escape(s.env) + " is healthy again. " + s.statusFooter())
		_, _, err := gh.Issues.Edit(ctx, g.Owner, g.Repo, existing.GetNumber(), &github.IssueRequest{State: github.String("closed"), Body: github.String(body)})
		s.d.Report.Infof("Closed drift issue #%d", existing.GetNumber())
		return existing.GetNumber(), err
	}
	body := comment.RenderStatus(&comment.Status{Kind: "refresh", Env: s.env, Response: res.Response, Footer: s.statusFooter()}, comment.CommentBudget-2000) +
		"\n<sub>Opened by arena-deploy-action; closed automatically when a refresh finds no drift.</sub>"
	body = s.masker.String(body)
	if existing != nil {
		if existing.GetBody() != body {
			_, _, err = gh.Issues.Edit(ctx, g.Owner, g.Repo, existing.GetNumber(), &github.IssueRequest{Body: github.String(body)})
		}
		return existing.GetNumber(), err
	}
	is, _, err := gh.Issues.Create(ctx, g.Owner, g.Repo, &github.IssueRequest{Title: github.String(title), Body: github.String(body), Labels: &[]string{DriftLabel}})
	if err != nil {
		return 0, err
	}
	s.d.Report.Infof("Opened drift issue #%d", is.GetNumber())
	return is.GetNumber(), nil
}

// Destroy tears down the environment, only when confirm-destroy names it,
// and deletes its state after the adapter succeeded.
func Destroy(ctx context.Context, o *Options, d *Deps) error {
	s := newSession(o, d)
	defer s.close()
	destroyed, err := s.destroy(ctx)
	// Nothing deployed is not "destroyed": a workflow branching on it must
	// not announce a teardown that never happened.
	s.d.Report.SetOutput("destroyed", strconv.FormatBool(destroyed && err == nil))
	if err != nil {
		s.failOutputs(err)
	}
	return err
}

func (s *session) destroy(ctx context.Context) (bool, error) {
	if s.o.Confirm != s.env {
		return false, failf(ReasonDestroyRefused, s.o.Surface.Set("confirm-destroy", s.env)+" to destroy it.",
			"destroy of %q needs %s set to the environment's name (it is %q)", s.env, s.o.Surface.Name("confirm-destroy"), s.o.Confirm)
	}
	return s.teardown(ctx)
}

// teardown destroys what the state records, under the lock, and deletes
// the state once the adapter succeeded.
func (s *session) teardown(ctx context.Context) (bool, error) {
	if err := s.openForOps(ctx, true); err != nil {
		return false, err
	}
	if !s.deployed() {
		s.d.Report.Infof("Nothing is deployed to %s: nothing to destroy.", s.env)
		return false, nil
	}
	s.d.Report.Group("Destroy " + s.env)
	var results []deploy.ResourceResult
	var messages []string
	err := s.client.Destroy(ctx, &deploy.DestroyRequest{DeployConfig: s.configJSON, Environment: s.env, PriorState: s.prior.State.State},
		func(e *deploy.DestroyEvent) error {
			s.logEvent((*deploy.ApplyEvent)(e)) // masks it
			if e.Resource != nil {
				results = append(results, *e.Resource)
			} else if e.Message != "" {
				messages = append(messages, e.Message)
			}
			return nil
		})
	s.d.Report.EndGroup()
	if errors.Is(err, deploy.ErrMethodNotSupported) {
		return false, notOffered(s.adapterLabel(), "destroy", err)
	}
	if err != nil {
		return false, s.failCall(ReasonApplyFailed, "The state was kept, so a retry knows what still exists; fix the cause and re-run destroy.", err)
	}
	// What was destroyed is recorded even if the run is being cancelled.
	gctx, cancel := grace.Context(ctx, s.d.Grace)
	defer cancel()
	if err := s.backend.Delete(gctx, s.prior, "arena-deploy: destroy "+s.env); err != nil {
		return false, fail(ReasonGitHubAPI, "Everything was destroyed but the state remains; delete "+s.backend.Describe()+" by hand.", err)
	}
	s.d.Report.AddStepSummary(comment.RenderDestroy(s.env, results, messages, s.statusFooter()))
	// How many were deleted, when the adapter says (promptarena's SDK sends
	// destroy events; older ones send none, and no count is made up).
	if len(results) > 0 {
		n := map[string]int{}
		for _, r := range results {
			n[r.Status]++
		}
		s.d.Report.SetOutput("deleted", strconv.Itoa(n["deleted"]))
		s.d.Report.SetOutput("failed", strconv.Itoa(n["failed"]))
	}
	counts := "the adapter reported no per-resource results"
	if len(results) > 0 {
		counts = comment.ResultCounts(results)
	}
	s.d.Report.Infof("Destroyed %s: %s", s.env, counts)
	return true, nil
}
