package run

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/targets"
	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// TargetsOptions are the targets command's own inputs.
type TargetsOptions struct {
	Patterns     []string        // configs: globs of arena files
	Environments []string        // environments: only these
	Follows      targets.Follows // follows: environment order
	Shared       []string        // shared-files: globs whose change touches every target
	All          bool            // all-targets: every target, whatever changed
}

// TargetsResult is what the targets command found.
type TargetsResult struct {
	Found   *targets.Found
	Changed []targets.Target
	Change  *targets.Change
}

// Targets finds the repository's deploy targets and which of them this
// pull request or push changed, and sets the matrix outputs a workflow
// fans its plan and apply jobs out from. It starts no adapter and reads
// no state: it only reads the checkout and asks GitHub what changed.
func Targets(ctx context.Context, o *Options, d *Deps) (*TargetsResult, error) {
	root := o.Workspace
	if root == "" {
		root = o.WorkDir
	}
	ws, err := workspace.Open(root)
	if err != nil {
		return nil, failf(ReasonInvalidInput, "Run the action in a checkout (GITHUB_WORKSPACE) or, for the CLI, in the repository.", "open the workspace: %w", err)
	}
	defer ws.Close()
	to := o.Targets
	found, err := targets.Discover(ws, targets.Options{Patterns: to.Patterns, Environments: to.Environments, Follows: to.Follows, Pack: o.PackPath, Adapter: o.AdapterPath})
	if err != nil {
		return nil, targetsFailure(err)
	}
	change, compared, err := changeOf(ctx, to, d)
	if err != nil {
		return nil, fail(ReasonGitHubAPI, "The token needs contents: read to compare commits.", err)
	}
	res := &TargetsResult{Found: found, Change: change, Changed: targets.Select(found.Targets, change, to.Shared)}
	matrix, err := targets.Matrix(res.Changed)
	if err != nil {
		return res, targetsFailure(err)
	}
	waves, err := targets.Waves(res.Changed)
	if err != nil {
		return res, targetsFailure(err)
	}
	rep := d.Report
	if len(found.Targets) == 0 && len(found.Skipped) == 0 {
		// Most often a glob written from the working directory, not the
		// repository's root: an empty matrix would look like "nothing
		// changed" on every pull request.
		rep.Warningf("No file of the repository matches %s (%s): there are no targets. Its globs are relative to the repository's root, e.g. services/*/arena.yaml.",
			o.Surface.Input("configs"), strings.Join(to.Patterns, ", "))
	}
	for _, sk := range found.Skipped {
		rep.Infof("Not a target: %s (%s)", sk.Path, sk.Why)
	}
	for _, t := range res.Changed {
		rep.Infof("Changed: %s %s (wave %d): %s", path.Join(t.WorkingDirectory, t.Config), t.Environment, t.Wave, t.Reason)
	}
	rep.Infof("%d of %d targets changed (%s; %d API requests)", len(res.Changed), len(found.Targets), compared, change.Calls)
	rep.SetOutput("matrix", matrix)
	rep.SetOutput("target-count", strconv.Itoa(len(res.Changed)))
	for i, name := range [targets.MaxWaves]string{"wave-1", "wave-2", "wave-3"} {
		v := ""
		if i < len(waves) && len(waves[i]) > 0 {
			if v, err = targets.Matrix(waves[i]); err != nil {
				return res, targetsFailure(err)
			}
		}
		rep.SetOutput(name, v)
	}
	view := &comment.Targets{Total: len(found.Targets), Compared: compared, Calls: change.Calls}
	for _, t := range res.Changed {
		view.Changed = append(view.Changed, comment.TargetRow{Project: path.Join(t.WorkingDirectory, t.Config), Environment: t.Environment,
			Wave: t.Wave, Follows: t.Follows, Reason: t.Reason, Problem: t.Problem})
	}
	for _, sk := range found.Skipped {
		view.Skipped = append(view.Skipped, sk.Path+": "+sk.Why)
	}
	rep.AddStepSummary(comment.RenderTargets(view, comment.SummaryBudget))
	return res, nil
}

func targetsFailure(err error) error {
	switch {
	case errors.Is(err, targets.ErrArenaFollows):
		return fail(ReasonArenaConfig, "Write the annotation as pairs, e.g. arena-deploy/follows: \"production: staging\", with no environment following itself through others.", err)
	case errors.Is(err, targets.ErrInvalid):
		return fail(ReasonInvalidInput, "Split the targets between workflows with the configs input, or shorten the follows chain.", err)
	}
	return err
}

// changeOf is what changed in this run's event: a pull request from its
// base, a push from the commit before it. Anything else, or all-targets,
// counts every target as changed.
func changeOf(ctx context.Context, to TargetsOptions, d *Deps) (*targets.Change, string, error) {
	every := func(why string) (*targets.Change, string, error) {
		return &targets.Change{All: why}, "Every target counts as changed: " + why, nil
	}
	g := d.GH
	switch {
	case to.All:
		return every("all-targets is true")
	case g == nil || d.GitHub == nil:
		return every("there is no GitHub event to compare (outside GitHub Actions every target is listed)")
	}
	var base, head string
	changed := targets.Changed
	switch g.EventName {
	case "pull_request", "pull_request_target", "merge_group":
		base, head = g.BaseSHA, g.HeadSHA
	case "push":
		// What is deployed came from before: a force push is compared
		// with it, not with the merge base.
		base, head, changed = g.Before, g.SHA, targets.Pushed
	default:
		return every(fmt.Sprintf("a %s run has no change to compare", g.EventName))
	}
	c, err := changed(ctx, d.GitHub, g.Owner, g.Repo, base, head)
	if err != nil {
		return nil, "", err
	}
	if c.All != "" {
		return c, "Every target counts as changed: " + c.All, nil
	}
	return c, fmt.Sprintf("Compared %s...%s: %d files changed", short(base, 7), short(head, 7), len(c.Files)), nil
}
