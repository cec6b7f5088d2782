package run

import (
	"context"
	"strconv"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/environment"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
)

// applyView is the apply report of this session.
func (s *session) applyView(res *ApplyResult, status string, err error) *comment.Apply {
	a := &comment.Apply{Plan: *s.baseView(), Status: status, Results: res.Results, Notes: res.Notes, Diff: res.Diff,
		ResultsFromPlan: res.ResultsFromPlan, Links: res.Links, ReviewedDiff: res.ReviewedDiff}
	a.Warnings = append([]string{}, s.warnings...)
	a.Evaluation = s.evalView(false)
	if s.d.GH != nil {
		a.MergeSHA = s.d.GH.SHA
	}
	if s.o.Preview != nil {
		a.PreviewOf = s.o.Preview.Number
	}
	a.Rollback = s.rollbackView()
	if res.Saved != nil {
		a.Changes = res.Saved.Plan.Changes
		a.Warnings = append(a.Warnings, res.Saved.Plan.Warnings...)
	}
	if res.Prov != nil {
		a.PlanID = res.Prov.PlanID
	}
	if err != nil {
		a.FailureReason, a.Hint = ClassifyOn(err, s.o.Surface)
		a.Error = s.masker.String(errorText(err))
	}
	return a
}

// commentApply updates the pull request's sticky comment with the apply;
// false if there is one to update and it could not be.
func (s *session) commentApply(ctx context.Context, res *ApplyResult, status string, err error) bool {
	if res.PRNumber == 0 || s.d.GH == nil || !s.o.Comment || s.d.GitHub == nil {
		return true
	}
	pr := *s.d.GH
	pr.PRNumber = res.PRNumber
	saved := s.d.GH
	s.d.GH = &pr
	defer func() { s.d.GH = saved }()
	return s.upsertComment(ctx, comment.RenderApply(s.applyView(res, status, err), comment.CommentBudget)) != 0
}

// reportApply writes the summary, the comment and the outputs of an apply.
func (s *session) reportApply(ctx context.Context, res *ApplyResult, err error) {
	status := comment.StatusApplied
	if err != nil {
		status = comment.StatusFailed
		reason, _ := ClassifyOn(err, s.o.Surface)
		s.d.Report.SetOutput("failure-reason", reason)
	}
	view := s.applyView(res, status, err)
	// A re-run of an apply already done leaves the pull request's comment
	// as that apply wrote it: applied, with its results.
	if !res.AlreadyApplied && !s.commentApply(ctx, res, status, err) {
		// Said loudly: the comment may still say "applying".
		msg := "The comment on pull request #" + strconv.Itoa(res.PRNumber) + " could not be updated with this result " +
			"(see the warning above) and may still say it is applying: this job's summary is the result."
		s.d.Report.Warningf("%s", msg)
		view.Notes = append(view.Notes[:len(view.Notes):len(view.Notes)], msg)
	}
	summary := view
	if s.o.Surface == surface.CLI && err != nil {
		// The error and its hint are said once, on stderr, by the caller.
		cli := *view
		cli.Error, cli.Hint = "", ""
		summary = &cli
	}
	s.d.Report.AddStepSummary(comment.RenderApply(summary, comment.SummaryBudget))
	out := s.d.Report.SetOutput
	out("applied", strconv.FormatBool(res.Applied)) // what was deployed stays reported, whatever failed after
	if res.Prov != nil {
		out("plan-id", res.Prov.PlanID)
	}
	if s.packChecksum != "" {
		out("pack-checksum", s.packChecksum)
	}
	if res.StateRef != "" {
		if ab, ok := s.backend.(*state.Artifact); ok {
			out("state-artifact", ab.SavedAs())
		} else if _, local := s.backend.(*state.File); !local {
			// A blob sha; a local state file's path is not one.
			out("state-sha", res.StateRef)
		}
	}
	if res.Attempted {
		n := map[string]int{}
		for _, r := range res.Results {
			n[r.Status]++
		}
		for _, k := range []string{"created", "updated", "deleted", "failed"} {
			out(k, strconv.Itoa(n[k]))
		}
	}
	s.evalOutputs()
	envURL := environment.URL(res.Links, res.Results)
	if envURL != "" {
		out("environment-url", envURL)
	}
	s.finishDeployment(ctx, res, envURL, err)
}

// resultsFromPlan is what applying changes did, for an adapter that reports
// no per-resource results: each planned change as its outcome (a drift is
// reconciled, so updated). Unchanged resources and unknown actions are not
// results.
func resultsFromPlan(changes []deploy.ResourceChange) []deploy.ResourceResult {
	status := map[deploy.Action]string{
		deploy.ActionCreate: "created", deploy.ActionUpdate: "updated", deploy.ActionDelete: "deleted", deploy.ActionDrift: "updated",
	}
	var out []deploy.ResourceResult
	for _, c := range changes {
		if st, ok := status[c.Action]; ok {
			out = append(out, deploy.ResourceResult{Type: c.Type, Name: c.Name, Action: c.Action, Status: st, Detail: c.Detail})
		}
	}
	return out
}

// deploymentLinks asks the adapter, once the apply is done, for the
// deployment-wide links it reports with status (the apply result has none).
// They are a courtesy: an adapter without status, or failing it, shows none.
func (s *session) deploymentLinks(ctx context.Context, adapterState string) []deploy.Link {
	resp, err := s.client.Status(ctx, &deploy.StatusRequest{DeployConfig: s.configJSON, Environment: s.env, PriorState: adapterState})
	if err != nil || resp == nil {
		return nil
	}
	return s.maskLinks(resp.Links)
}

// maskLinks masks secrets in links an adapter sends.
func (s *session) maskLinks(ls []deploy.Link) []deploy.Link {
	out := make([]deploy.Link, len(ls))
	for i, l := range ls {
		out[i] = deploy.Link{Label: s.masker.String(l.Label), URL: s.masker.String(l.URL), Rel: l.Rel}
	}
	return out
}
