package run

import (
	"context"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/environment"
)

// startDeployment opens a GitHub Deployment of the merge commit when
// create-deployment asks for one. It is reporting, not deploying: a
// failure (usually a token without deployments: write) is a warning.
func (s *session) startDeployment(ctx context.Context, res *ApplyResult) {
	g := s.d.GH
	if !s.o.CreateDeployment || s.d.GitHub == nil || g == nil || g.SHA == "" {
		return
	}
	desc := "Arena apply of " + s.packMeta.ID + " " + s.packMeta.Version
	if res.Prov != nil {
		desc += ", plan " + short(res.Prov.PlanID, 12)
	}
	d, err := environment.Start(ctx, s.d.GitHub, g.Owner, g.Repo, g.SHA, s.env, desc, g.RunURL())
	if err != nil {
		s.warnf("No GitHub Deployment was created (create-deployment needs the token's deployments: write permission): %s", errorText(err))
		return
	}
	if d != nil {
		s.deployment = d
		s.d.Report.Infof("GitHub Deployment %d of %s to %s: in progress", d.ID, short(g.SHA, 7), s.env)
	}
}

// finishDeployment sets the deployment's final status, with the
// environment's URL on success.
func (s *session) finishDeployment(ctx context.Context, res *ApplyResult, envURL string, err error) {
	d := s.deployment
	if d == nil {
		return
	}
	state, desc := environment.Success, "Applied"
	if res.Applied && err == nil {
		desc = "Applied: " + comment.ResultCounts(res.Results)
	} else {
		reason, _ := ClassifyOn(err, s.o.Surface)
		state, desc = environment.Failure, "Failed: "+reason
	}
	if serr := d.Status(ctx, state, desc, envURL); serr != nil {
		s.d.Report.Warningf("The GitHub Deployment's final status was not set: %s", serr)
		return
	}
	s.d.Report.Infof("GitHub Deployment %d: %s", d.ID, state)
}
