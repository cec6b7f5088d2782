// Package environment fills in GitHub's environment page for a deploy: the
// URL a job's `environment:` links to, and, for jobs without one, a GitHub
// Deployment whose statuses follow the apply (in progress, then success or
// failure, each with the run's log).
package environment

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// ConsoleRel is the link relation adapters give a resource's console page.
const ConsoleRel = "console"

// URL is the environment's address: the first deployment-wide link the
// adapter reported, else the first resource link whose rel is "console",
// else "". Only http(s) URLs qualify (GitHub shows the URL as a link; a
// file:// or javascript: URL is not one).
func URL(deployment []deploy.Link, results []deploy.ResourceResult) string {
	for _, l := range deployment {
		if comment.SafeURL(l.URL) {
			return l.URL
		}
	}
	for _, r := range results {
		for _, l := range r.Links {
			if l.Rel == ConsoleRel && comment.SafeURL(l.URL) {
				return l.URL
			}
		}
	}
	return ""
}

// States of a deployment status, as GitHub names them.
const (
	InProgress = "in_progress"
	Success    = "success"
	Failure    = "failure"
)

// Deployment is one GitHub Deployment being reported on.
type Deployment struct {
	gh          *github.Client
	owner, repo string
	env, logURL string
	ID          int64
}

// Start creates a deployment of ref (the merge commit) to env and marks it
// in progress, with logURL (the workflow run) as its log. The deployment
// skips GitHub's commit-status check and auto-merge: the reviewed plan was
// proved before this point, and the ref is an exact commit.
func Start(ctx context.Context, gh *github.Client, owner, repo, ref, env, description, logURL string) (*Deployment, error) {
	req := &github.DeploymentRequest{
		Ref: github.String(ref), Task: github.String("deploy"), AutoMerge: github.Bool(false),
		RequiredContexts: &[]string{}, Environment: github.String(env), Description: github.String(short(description, 140)),
	}
	d, _, err := gh.Repositories.CreateDeployment(ctx, owner, repo, req)
	if err != nil {
		return nil, fmt.Errorf("create a deployment to %s: %w", env, err)
	}
	dep := &Deployment{gh: gh, owner: owner, repo: repo, env: env, logURL: logURL, ID: d.GetID()}
	return dep, dep.Status(ctx, InProgress, "Applying the reviewed plan", "")
}

// Status posts a status; envURL (may be empty) is what the environment
// page and the pull request timeline link to.
func (d *Deployment) Status(ctx context.Context, state, description, envURL string) error {
	req := &github.DeploymentStatusRequest{
		State: github.String(state), Description: github.String(short(description, 140)), Environment: github.String(d.env),
		AutoInactive: github.Bool(state == Success),
	}
	if d.logURL != "" {
		req.LogURL = github.String(d.logURL)
	}
	if envURL != "" {
		req.EnvironmentURL = github.String(envURL)
	}
	if _, _, err := d.gh.Repositories.CreateDeploymentStatus(ctx, d.owner, d.repo, d.ID, req); err != nil {
		return fmt.Errorf("set deployment %d to %s: %w", d.ID, state, err)
	}
	return nil
}

func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
