package run

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/grace"
	"github.com/arena-deploy/arena-deploy-action/internal/preview"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// PreviewOptions say whose preview a preview run deploys or destroys.
type PreviewOptions struct {
	Number   int    // the pull request
	Template string // the environment of deploy.environments its config comes from
}

// Preview deploys a same-repository pull request's pack to its own preview
// environment (pr-<number>: a target of its own, with its own state and
// lock, which no merge deploys), or destroys it when the pull request was
// closed. It plans and applies in one run; what the merge deploys is still
// only the reviewed plan.
func Preview(ctx context.Context, o *Options, d *Deps) (*ApplyResult, error) {
	g := d.GH
	if o.ReviewOnly != "" {
		d.Report.Infof("No preview: %s.", o.ReviewOnly)
		d.Report.AddStepSummary("### 🔍 No preview\n\nPreviews are deployed for pull requests from branches of this repository only: " + comment.Escape(o.ReviewOnly) + ".\n")
		return &ApplyResult{}, nil
	}
	// The preview records the pull request's head as what it deployed
	// (not the test merge commit GITHUB_SHA names), and the head before
	// this push: an older push's run that ends late never rolls it back.
	pg := *g
	pg.SHA = g.HeadSHA
	dd := *d
	dd.GH = &pg
	s := newSession(o, &dd)
	defer s.close()
	res := &ApplyResult{PRNumber: o.Preview.Number, HeadSHA: g.HeadSHA}
	if g.PRAction == "closed" {
		s.underLock = func(ctx context.Context) error { return s.stillAsTheEventSays(ctx, true) }
		destroyed, err := s.teardown(ctx)
		if errors.Is(err, errOutOfDate) {
			s.outOfDate(err, "destroyed")
			return res, nil
		}
		err = whenCancelled(ctx, err, "The preview may be partly destroyed: re-run this job.")
		rctx, cancel := grace.Context(ctx, s.d.Grace)
		defer cancel()
		s.reportPreviewDestroyed(rctx, res, destroyed, err)
		return res, err
	}
	err := whenCancelled(ctx, s.runPreview(ctx, res), "The preview may be partly deployed: the next push deploys it again.")
	if errors.Is(err, errOutOfDate) {
		s.outOfDate(err, "applied")
		return res, nil
	}
	if errors.Is(err, state.ErrSuperseded) {
		// A newer push's run deployed first: nothing is wrong.
		s.d.Report.Infof("%s", err)
		s.d.Report.AddStepSummary("### 🔍 Preview of #" + strconv.Itoa(res.PRNumber) + ": not deployed\n\n" + comment.Escape(err.Error()) + "\n")
		s.d.Report.SetOutput("applied", "false")
		return res, nil
	}
	rctx, cancel := grace.Context(ctx, s.d.Grace)
	defer cancel()
	s.reportApply(rctx, res, err)
	return res, err
}

func (s *session) runPreview(ctx context.Context, res *ApplyResult) error {
	if err := s.load(); err != nil {
		return err
	}
	s.backend = s.stateBackendFor(true)
	release, err := s.lockState(ctx, s.o.LockWait)
	if err != nil {
		return err
	}
	defer release()
	if err := s.stillAsTheEventSays(ctx, false); err != nil {
		return err
	}
	if err := s.loadState(ctx); err != nil {
		return err
	}
	if err := s.startAdapter(ctx); err != nil {
		return err
	}
	prior := s.refreshed(ctx)
	if err := s.planNow(ctx, res, prior); err != nil {
		return err
	}
	// The order is checked with the plan id known: a re-run of a push
	// already deployed deploys nothing again.
	if done, err := s.checkOrder(ctx, res); done || err != nil {
		return err
	}
	s.commentApply(ctx, res, comment.StatusApplying, nil)
	return s.applyAndSave(ctx, res, prior)
}

// previewConfig is the preview's deploy config, from the template
// environment with the pull request's number filled in.
func (s *session) previewConfig(arena *deploy.Arena) (map[string]any, error) {
	p := s.o.Preview
	if arena.Deploy.HasEnvironment(s.env) {
		// Its target key (state, lock, comment) would be that
		// environment's: the preview would deploy over it.
		return nil, failf(ReasonArenaConfig, s.whenClosing("Rename deploy.environments."+s.env+" in "+s.o.ConfigPath+": pr-<number> names pull requests' previews."),
			"%s lists an environment named %s, the name of pull request #%d's preview, which would share its state, lock and comment", s.o.ConfigPath, s.env, p.Number)
	}
	cfg, named, err := preview.Config(arena.Deploy, p.Template, p.Number)
	if err != nil {
		return nil, fail(ReasonArenaConfig, s.whenClosing("Add deploy.environments."+p.Template+" to "+s.o.ConfigPath+
			" with the config a preview deploys with, naming the pull request by "+preview.Placeholder+"."), err)
	}
	if !named {
		msg := "Nothing in deploy.environments." + p.Template + ".config names the pull request (" + preview.Placeholder + "): " +
			"every pull request's preview deploys with the same config, and the adapter tells them apart only by the environment name " + s.env + "."
		s.d.Report.Warningf("%s", msg)
		s.warnings = append(s.warnings, msg)
	}
	return cfg, nil
}

// whenClosing is the hint for a preview's config that cannot be made: as
// it is for a push (push the fix), or, for the close, what works. The
// close's job checks out the head the pull request was closed at, so
// re-running it fails the same way, and nothing destroys the preview.
func (s *session) whenClosing(fix string) string {
	g := s.d.GH
	if g == nil || g.PRAction != "closed" {
		return fix
	}
	return fmt.Sprintf("Nothing was destroyed: %s stays deployed, with its state, until a close of pull request #%d finds the config it was deployed with "+
		"(re-running this job checks out the same head). To destroy it, reopen the pull request, push the fix (%s), let its preview deploy, and close it again.",
		s.env, s.o.Preview.Number, strings.TrimSuffix(fix, "."))
}

// reportPreviewDestroyed says on the pull request and in the summary that
// its preview is gone.
func (s *session) reportPreviewDestroyed(ctx context.Context, res *ApplyResult, destroyed bool, err error) {
	s.d.Report.SetOutput("destroyed", strconv.FormatBool(destroyed && err == nil))
	status := comment.StatusDestroyed
	if err != nil {
		s.failOutputs(err)
		status = comment.StatusFailed
	} else if !destroyed {
		res.Notes = append(res.Notes, "Nothing was deployed to "+s.env+": nothing to destroy.")
	}
	if err == nil || s.arena != nil {
		s.commentApply(ctx, res, status, err)
	}
	s.d.Report.AddStepSummary(comment.RenderApply(s.applyView(res, status, err), comment.SummaryBudget))
}

// errOutOfDate is matched when a preview run's event no longer holds: the
// pull request was closed since (a preview deployed now would outlive
// it: nothing destroys it), or opened again (a destroy would take a live
// preview away). A re-run of an old job, or one that waited long.
var errOutOfDate = errors.New("this run's event is out of date")

// stillAsTheEventSays asks GitHub whether the pull request is still open
// (or, for a close, still closed): one call, under the preview's lock, so
// a close or reopen after it waits for this run and its own run follows.
// An answer that cannot be had is no reason to stop: the event is
// followed, as before.
func (s *session) stillAsTheEventSays(ctx context.Context, closing bool) error {
	g := s.d.GH
	if g == nil || s.d.GitHub == nil {
		return nil
	}
	n := s.o.Preview.Number
	pr, _, err := s.d.GitHub.PullRequests.Get(ctx, g.Owner, g.Repo, n)
	if err != nil {
		s.d.Report.Warningf("Could not ask whether pull request #%d is still %s (%s); going by the event.", n, map[bool]string{true: "closed", false: "open"}[closing], err)
		return nil
	}
	open := pr.GetState() == "open"
	switch {
	case closing && open:
		return fmt.Errorf("%w: pull request #%d is open again, so this run of its close destroys nothing (its preview stays, and is destroyed when it closes again)", errOutOfDate, n)
	case !closing && !open:
		return fmt.Errorf("%w: pull request #%d is closed, so this run deploys nothing (a preview deployed now would outlive the pull request; its close destroyed it)", errOutOfDate, n)
	case closing:
		return nil
	}
	// Pushed to since: the newer push's run deploys. The state's order
	// cannot tell a force push's commit from an older one (they have
	// diverged), the pull request's head can. A head behind this run's
	// is an answer that lags: this run is the newest.
	head := pr.GetHead().GetSHA()
	if head == "" || head == g.HeadSHA {
		return nil
	}
	cmp, _, err := s.d.GitHub.Repositories.CompareCommits(ctx, g.Owner, g.Repo, g.HeadSHA, head, &github.ListOptions{PerPage: 1})
	if err != nil {
		s.d.Report.Warningf("Could not order this run's head %s with pull request #%d's head %s (%s); deploying.", short(g.HeadSHA, 7), n, short(head, 7), err)
		return nil
	}
	if st := cmp.GetStatus(); st == "ahead" || st == "diverged" {
		return fmt.Errorf("%w: pull request #%d's head is %s now, pushed after this run's %s, so this run deploys nothing: that push's run deploys the preview", errOutOfDate, n, short(head, 7), short(g.HeadSHA, 7))
	}
	return nil
}

// outOfDate reports a run that did nothing because its event no longer
// holds; output is "applied" or "destroyed", set to false.
func (s *session) outOfDate(err error, output string) {
	msg := strings.TrimPrefix(err.Error(), errOutOfDate.Error()+": ")
	s.d.Report.Infof("%s", msg)
	s.d.Report.AddStepSummary("### 🔍 Preview of #" + strconv.Itoa(s.o.Preview.Number) + ": nothing done\n\n" + comment.Escape(msg) + ".\n")
	s.d.Report.SetOutput(output, "false")
}
