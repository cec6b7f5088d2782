package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/ghclient"
	"github.com/arena-deploy/arena-deploy-action/internal/grace"
	"github.com/arena-deploy/arena-deploy-action/internal/mask"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
	"github.com/arena-deploy/arena-deploy-action/internal/targets"
)

// artifactUploader uploads artifacts of the current run.
type artifactUploader interface {
	UploadAs(ctx context.Context, r artifacts.Request) (artifacts.Uploaded, error)
	// Delete deletes this run's artifact of a name (a state's witness
	// made for a write that did not land).
	Delete(ctx context.Context, name string) error
}

// planNames is how many names a plan artifact may take: its own, then
// alternates when an upload that never finished used it up in this run
// (apply finds them).
const planNames = 5

// Artifact file names: a public contract (apply and users read them).
const (
	PlanFileName     = "deploy.plan"
	PlanMarkdownName = "plan.md"
	// PlanCommentName is the pull request comment of the plan, as posted:
	// an older head's run that wrote over it puts it back.
	PlanCommentName    = "comment.md"
	ProvenanceFileName = "provenance.json"
)

// PlanResult is what a plan run produced.
type PlanResult struct {
	Saved      *deploy.SavedPlan
	Provenance *Provenance
	PlanID     string
	Counts     comment.Counts
	Markdown   string
	CommentID  int64
	// packDiff reads the full pack diff (the artifact's pack.diff); nil
	// without a diff.
	packDiff     func() io.Reader
	commentBody  string // the comment as rendered (the artifact's comment.md)
	ArtifactName string
	ArtifactID   int64
}

// Plan plans the deployment and reports it: job summary, PR comment, plan
// artifact and outputs. A failure is reported the same ways.
func Plan(ctx context.Context, o *Options, d *Deps) (*PlanResult, error) {
	s := newSession(o, d)
	defer s.close()
	res, err := s.runPlan(ctx)
	if err == nil && ctx.Err() != nil {
		// Stopped at the end (its comment, say), where failures are only
		// warnings: the run was cancelled all the same, never green.
		err = fmt.Errorf("%w after the plan was made", ctx.Err())
	}
	err = whenCancelled(ctx, err, capital(o.Surface.Rerun())+" to plan again.")
	if err != nil {
		rctx, cancel := grace.Context(ctx, s.d.Grace)
		defer cancel()
		s.reportFailure(rctx, err)
	}
	return res, err
}

func joinActions(as []deploy.Action) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = string(a)
	}
	return strings.Join(parts, ", ")
}

func (s *session) headSHA() string {
	if s.reviewedHead != "" {
		return s.reviewedHead
	}
	if g := s.d.GH; g != nil {
		if g.HeadSHA != "" {
			return g.HeadSHA
		}
		return g.SHA
	}
	return ""
}

func (s *session) runPlan(ctx context.Context) (*PlanResult, error) {
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := s.readEvaluations(ctx); err != nil {
		return nil, err
	}
	s.packParsed.Prepare() // the provenance's content digest, while the adapter plans
	s.backend = s.stateBackendFor(false)
	if err := s.loadPlanState(ctx); err != nil {
		return nil, err
	}
	if err := s.compareEvaluations(ctx, false); err != nil {
		return nil, err
	}
	if err := s.startAdapter(ctx); err != nil {
		return nil, err
	}
	s.d.Report.Group("Plan " + s.env)
	prior := s.refreshed(ctx)
	resp, err := s.plan(ctx, prior)
	s.d.Report.EndGroup()
	if err != nil {
		return nil, err
	}
	res := s.buildPlan(resp, prior)
	s.d.Report.Infof("%s: %s (plan %s)", s.env, res.Counts.String(), short(res.PlanID, 12))
	for _, w := range resp.Warnings { // masked by s.plan
		s.d.Report.Warningf("The plan warns: %s", w)
	}
	diff, diffText := s.packDiff(ctx)
	res.packDiff = diffText

	view := s.planView(res)
	view.PackDiff = diff
	view.Evaluation = s.evalView(true)
	// fail-on is decided before the upload, and recorded in the plan's
	// provenance: a plan that fails it is never applied, even when the
	// check is not required and the pull request merges.
	failOnErr := s.recordFailOn(res)
	view.NotApplicable = s.o.ReviewOnly
	if failOnErr != nil {
		view.Warnings = append(view.Warnings, "This plan fails the check (fail-on: "+strings.ToLower(joinActions(s.o.FailOn))+"): "+errorText(failOnErr))
		view.NotApplicable = "it fails the fail-on check, so apply refuses it"
	}
	res.Markdown = comment.RenderPlan(view, comment.SummaryBudget)    // also the artifact's plan.md
	res.commentBody = comment.RenderPlan(view, comment.CommentBudget) // and comment.md
	uploadErr := s.publishPlan(ctx, res)
	extra := len(view.Warnings)
	noService := errors.Is(uploadErr, artifacts.ErrNoRuntime)
	switch {
	case noService:
		view.NotApplicable = noArtifactServiceText
		view.Warnings = append(view.Warnings, "This plan cannot be applied on merge: "+noArtifactServiceText+". "+noArtifactServiceHint)
	case uploadErr != nil:
		view.NotApplicable = "its artifact could not be uploaded; re-run this job"
		view.Warnings = append(view.Warnings, "The plan artifact could not be uploaded, so merging cannot apply this plan: re-run this job. ("+uploadErr.Error()+")")
	}
	if len(view.Warnings) != extra {
		res.Markdown = comment.RenderPlan(view, comment.SummaryBudget)
		res.commentBody = comment.RenderPlan(view, comment.CommentBudget)
	}
	s.d.Report.AddStepSummary(res.Markdown)
	res.CommentID = s.planComment(ctx, res.commentBody, func(newer string) string {
		view.NotApplicable = "the pull request's head is now " + short(newer, 7) + ", whose plan run replaces this comment"
		return comment.RenderPlan(view, comment.CommentBudget)
	})
	s.planOutputs(res)
	if noService {
		return res, fail(ReasonArtifactService, noArtifactServiceHint, uploadErr)
	}
	var saveErr *Failure
	if errors.As(uploadErr, &saveErr) {
		return res, uploadErr // the local save's own failure
	}
	if uploadErr != nil {
		return res, fail(ReasonArtifactUpload, "Re-run this job; apply on merge needs the plan artifact.", uploadErr)
	}
	return res, failOnErr
}

// What a plan without an artifact service says in the comment and the log.
const (
	noArtifactServiceText = "this runner has no artifact service (GitHub Enterprise Server before 3.13 has no " +
		"artifacts v4), so the reviewed plan cannot be kept for the merge"
	noArtifactServiceHint = "Alternatives: upgrade GitHub Enterprise Server to 3.13 or later; or apply on push with " +
		"on-missing-plan: plan-and-apply (it plans again at merge and applies that, without this review's guarantee); " +
		"or run plan and apply with the CLI elsewhere (arena-deploy-action's docs/cli.md)."
)

// buildPlan makes the saved plan (secrets redacted), its id and provenance.
func (s *session) buildPlan(resp *deploy.PlanResponse, prior string) *PlanResult {
	saved := deploy.NewSavedPlan(s.arena.Deploy.Provider, s.env, s.packChecksum, resp, s.planRequest(prior, true))
	id := PlanID(PlanIDInput{
		PackChecksum: s.packChecksum, DeployConfig: s.redactedConfig, Environment: s.env,
		PriorStateDigest: s.prior.Digest(), Provider: s.arena.Deploy.Provider,
		AdapterName: s.info.Name, AdapterVersion: s.info.Version, Changes: resp.Changes,
	})
	p := &Provenance{
		Version: 1, PlanID: id, Environment: s.env, WorkingDirectory: s.o.WorkDirRel, ConfigPath: s.o.ConfigPath,
		PackPath: relTo(s.o.WorkDir, s.packPath), PackChecksum: s.packChecksum, PackContentDigest: s.packParsed.ContentDigest(),
		ConfigDigest: digestString(s.redactedConfig), PriorStateDigest: s.prior.Digest(),
		CreatedAt: saved.CreatedAt, ActionVersion: s.o.Version, Evaluation: s.evalRecord(),
	}
	p.Adapter.Name, p.Adapter.Version, p.Adapter.BinarySHA256 = s.info.Name, s.info.Version, s.adapterDigest
	if s.installed != nil {
		p.Adapter.Release = s.installed.Release
	}
	if g := s.d.GH; g != nil {
		p.Repository, p.PullRequest, p.HeadSHA, p.BaseSHA = g.Owner+"/"+g.Repo, g.PRNumber, s.headSHA(), g.BaseSHA
		p.RunID, p.RunAttempt = g.RunID, g.RunAttempt
	}
	return &PlanResult{Saved: saved, Provenance: p, PlanID: id, Counts: comment.CountChanges(resp.Changes)}
}

func relTo(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

func (s *session) planView(res *PlanResult) *comment.Plan {
	view := s.baseView()
	view.Changes, view.Warnings = res.Saved.Plan.Changes, append(append([]string{}, s.warnings...), res.Saved.Plan.Warnings...)
	view.Summary = res.Saved.Plan.Summary // masked by s.plan
	view.PlanID = res.PlanID
	return view
}

// baseView is what every report of this session shows.
func (s *session) baseView() *comment.Plan {
	v := &comment.Plan{Target: s.target, PackChecksum: s.packChecksum, PackID: s.packMeta.ID, PackVersion: s.packMeta.Version, HeadSHA: s.headSHA(),
		NoPullRequest: s.d.GH == nil || s.d.GH.PRNumber == 0 && s.d.GH.EventName != "merge_group"}
	if s.arena != nil {
		v.Provider = s.arena.Deploy.Provider
		if s.unlisted {
			v.Unlisted, v.Listed = true, s.arena.Deploy.EnvironmentNames()[1:] // [0] is always "default"
		}
		// A bad annotation is the targets command's to refuse; here it
		// only leaves the line out.
		if f, err := targets.ProjectFollows(s.o.Targets.Follows, s.arena.Annotations); err == nil {
			v.Follows = f[s.env]
		}
	}
	if s.info != nil {
		v.AdapterName, v.AdapterVersion = deploy.AdapterBinaryName(s.info.Name), s.info.Version
	}
	if g := s.d.GH; g != nil && g.RunID != 0 {
		v.RunURL, v.RunLabel = g.RunURL(), "run "+itoa64(g.RunID)
	}
	if g := s.d.GH; g != nil {
		v.Actor, v.RepoURL, v.ServerURL = g.Actor, s.repoURL(), g.ServerURL
	}
	v.At, v.Duration = s.started, s.now().Sub(s.started)
	return v
}

// publishPlan stores the plan where apply will look: the run's artifact in
// GitHub Actions (with res.Markdown as plan.md), the project's
// .promptarena/deploy.plan elsewhere.
func (s *session) publishPlan(ctx context.Context, res *PlanResult) error {
	provJSON, err := deploy.MarshalFile(res.Provenance)
	if err != nil {
		return err
	}
	if s.o.ReviewOnly != "" {
		s.d.Report.Infof("The plan is not uploaded as a plan artifact: %s.", s.o.ReviewOnly)
		return nil
	}
	if s.d.Uploader == nil && s.d.NoArtifactService != nil {
		return fmt.Errorf("the plan cannot be kept for the merge: %w", s.d.NoArtifactService)
	}
	if s.d.Uploader == nil {
		// The local plan is the one `promptarena deploy apply` picks up, so
		// it holds the real deploy config, as PromptKit's own saved plans
		// do: applied with fingerprints, an adapter would get them as
		// credentials. It never leaves this machine (0600, like the state);
		// uploads and reports keep the redacted config.
		local := *res.Saved
		req := *res.Saved.Request
		req.DeployConfig = s.configJSON
		local.Request = &req
		store := deploy.NewStateStore(filepath.Join(s.o.WorkDir, deploy.DirName))
		err := store.SavePlan(&local)
		if err == nil {
			err = deploy.WriteFileAtomic(filepath.Join(s.o.WorkDir, deploy.DirName, "deploy.plan.provenance.json"), provJSON)
		}
		if err != nil {
			dir := relTo(s.o.WorkDir, filepath.Join(s.o.WorkDir, deploy.DirName))
			return fail(ReasonInvalidInput, "Make "+dir+" writable (the plan is kept there, as promptarena keeps it), or run from a writable copy of the project.",
				fmt.Errorf("save the plan in %s: %w", dir, err))
		}
		s.d.Report.Infof("Saved plan to %s", store.PlanPath())
		return nil
	}
	var expires time.Time
	if s.o.RetentionDays > 0 {
		expires = s.now().Add(time.Duration(s.o.RetentionDays) * 24 * time.Hour)
	}
	res.ArtifactName = s.target.PlanArtifact(s.headSHA())
	files, planSecret, err := s.planFiles(res, provJSON)
	if err != nil {
		return err
	}
	up, err := s.d.Uploader.UploadAs(ctx, artifacts.Request{Names: artifacts.Names(res.ArtifactName, planNames), Files: files, ExpiresAt: expires})
	if planSecret.Found() {
		// Everything else in it was masked at its source: only the pack,
		// kept byte for byte for apply to verify, can hold it.
		s.d.Report.Warningf("The pack %s holds the value of a secret; it is uploaded with the plan as it is in the repository. Keep secrets out of packs.", relTo(s.o.WorkDir, s.packPath))
	}
	reportUsedUp(s.d.Report, up)
	if err != nil {
		return err
	}
	res.ArtifactName, res.ArtifactID = up.Name, up.ID
	s.d.Report.Infof("Uploaded plan artifact %s (id %d)", res.ArtifactName, res.ArtifactID)
	return nil
}

// planFiles are the plan artifact's files. The saved plan (which embeds
// the pack) and pack.diff (as long as the pack on a first deploy) are read
// while they are compressed and uploaded, never held whole (made again if
// the upload starts over): the saved plan through a detector of secrets
// (the warning above), pack.diff masked as it streams.
func (s *session) planFiles(res *PlanResult, provJSON []byte) ([]artifacts.File, *mask.Detector, error) {
	plan, err := deploy.SavedPlanOpener(res.Saved)
	if err != nil {
		return nil, nil, err
	}
	planSecret := s.masker.Detect(nil)
	files := []artifacts.File{
		{Name: PlanFileName, Open: func() io.Reader { return planSecret.Reading(plan()) }},
		// The summary (up to a megabyte) is masked as it is read, not copied.
		{Name: PlanMarkdownName, Open: func() io.Reader { return s.masker.Reader(strings.NewReader(res.Markdown)) }},
		{Name: ProvenanceFileName, Data: s.masker.Bytes(provJSON)},
		{Name: PlanCommentName, Data: s.masker.Bytes([]byte(res.commentBody))},
	}
	if res.packDiff != nil {
		files = append(files, artifacts.File{Name: PackDiffName, Open: res.packDiff})
	}
	ev, err := s.evalSummaryFile()
	if err != nil {
		return nil, nil, err
	}
	if ev != nil {
		files = append(files, artifacts.File{Name: evalgate.FileName, Data: ev})
	}
	return files, planSecret, nil
}

func (s *session) now() time.Time {
	if s.d.Now != nil {
		return s.d.Now()
	}
	return time.Now()
}

// upsertComment keeps the target's sticky comment current. Not being
// allowed to comment (fork pull requests) is a warning, not a failure.
func (s *session) upsertComment(ctx context.Context, body string) int64 {
	body = s.masker.String(body) // the one way into a comment
	g := s.d.GH
	if !s.o.Comment || s.d.GitHub == nil || g == nil || g.PRNumber == 0 {
		return 0
	}
	if s.sticky == nil { // one per run: it reads the token's identity once
		s.sticky = comment.NewSticky(s.d.GitHub, g.Owner, g.Repo)
	}
	sticky := s.sticky
	upsert := func() (comment.Result, error) {
		if s.commentID != 0 { // found earlier in this run: no need to list again
			return sticky.Update(ctx, s.commentID, body)
		}
		return sticky.Upsert(ctx, g.PRNumber, s.commentMarker(), body)
	}
	// Lists and edits are retried by the client (internal/ghclient); a
	// create is not, since it may have happened without an answer. One more
	// upsert lists first, so such a comment is found, not posted twice.
	res, err := upsert()
	if err != nil && s.commentID == 0 && ghclient.Transient(err) && s.sleep(ctx, time.Second) == nil {
		res, err = upsert()
	}
	switch {
	case errors.Is(err, comment.ErrForbidden):
		s.d.Report.Warningf("The token may not comment on pull request #%d (fork pull requests get a read-only token). "+
			"The plan is in the job summary and the plan artifact. To comment, grant `pull-requests: write`, "+
			"or set comment: false to silence this.", g.PRNumber)
		return 0
	case err != nil:
		s.d.Report.Warningf("Could not update the pull request comment: %s", err)
		return 0
	}
	verb := "unchanged"
	if res.Created {
		verb = "created"
	} else if res.Updated {
		verb = "updated"
	}
	s.d.Report.Infof("Pull request comment %s: %s", verb, res.URL)
	s.commentID = res.ID
	return res.ID
}

func (s *session) planOutputs(res *PlanResult) {
	out := s.d.Report.SetOutput
	c := res.Counts
	out("pack-checksum", s.packChecksum)
	out("plan-id", res.PlanID)
	out("has-changes", strconv.FormatBool(c.HasChanges()))
	out("to-create", strconv.Itoa(c.Create))
	out("to-update", strconv.Itoa(c.Update))
	out("to-delete", strconv.Itoa(c.Delete))
	out("drift", strconv.Itoa(c.Drift))
	out("unchanged", strconv.Itoa(c.NoChange))
	if res.CommentID != 0 {
		out("comment-id", itoa64(res.CommentID))
	}
	if res.ArtifactID != 0 {
		out("artifact-name", res.ArtifactName)
		out("artifact-id", itoa64(res.ArtifactID))
	}
	s.evalOutputs()
}

// reportFailure shows a failed run in the job summary and the comment.
func (s *session) reportFailure(ctx context.Context, err error) {
	reason, hint := ClassifyOn(err, s.o.Surface)
	s.d.Report.SetOutput("failure-reason", reason)
	if reason == ReasonFailOn || reason == ReasonArtifactUpload || reason == ReasonArtifactService {
		return // the plan itself was reported
	}
	view := s.baseView()
	view.Error, view.FailureReason, view.Hint = s.masker.String(errorText(err)), reason, hint
	view.Warnings = s.warnings
	// On the CLI the error is said once, on stderr, by the caller: a
	// summary would only repeat it.
	if s.o.Surface != surface.CLI {
		s.d.Report.AddStepSummary(comment.RenderPlan(view, comment.SummaryBudget))
	}
	if id := s.planComment(ctx, comment.RenderPlan(view, comment.CommentBudget), nil); id != 0 {
		s.d.Report.SetOutput("comment-id", itoa64(id))
	}
}

// errorText is the message without the hint (shown apart).
func errorText(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Err.Error()
	}
	return err.Error()
}

// reportUsedUp says which artifact names an upload found used up.
func reportUsedUp(rep Reporter, up artifacts.Uploaded) {
	for _, n := range up.UsedUp {
		rep.Infof("The artifact name %s is used up in this run: an upload of it never finished, and GitHub keeps the name until the run ends", n)
	}
}

// planComment writes a plan run's comment, then makes sure it shows the
// newest head's plan (keepNewestHead).
func (s *session) planComment(ctx context.Context, body string, outdated func(newer string) string) int64 {
	id := s.upsertComment(ctx, body)
	if id != 0 {
		s.keepNewestHead(ctx, id, outdated)
	}
	return id
}

// keepNewestHead: two plan runs of one pull request can race (outside the
// concurrency group), the older head's write landing last. After its
// write, a run asks the pull request's head (one call). If a newer commit
// was pushed and the comment still shows this run's head, it puts back
// the newer head's plan from that run's artifact (comment.md: that run
// uploads before it comments, so a comment it wrote has one); if there is
// none yet, that run's comment is still to come, and this one is marked
// outdated meanwhile. Either way the comment never promises an older
// plan that merging would not apply.
func (s *session) keepNewestHead(ctx context.Context, id int64, outdated func(newer string) string) {
	g, ours := s.d.GH, s.headSHA()
	if g == nil || g.PRNumber == 0 || ours == "" {
		return
	}
	pr, _, err := s.d.GitHub.PullRequests.Get(ctx, g.Owner, g.Repo, g.PRNumber)
	head := pr.GetHead().GetSHA()
	if err != nil || head == "" || head == ours {
		return
	}
	c, _, err := s.d.GitHub.Issues.GetComment(ctx, g.Owner, g.Repo, id)
	if err != nil || !comment.ShowsHead(c.GetBody(), ours) {
		return // a newer run wrote it since
	}
	// That head is the newer one when its runs came after this one (or
	// are still to come), not when the pull request's answer lags a push.
	runs, err := artifacts.NewFinder(s.d.GitHub, g.Owner, g.Repo, s.d.BlobClient).RunIDs(ctx, "pull_request", head)
	if err != nil {
		return
	}
	newer := len(runs) == 0
	for r := range runs {
		newer = newer || r > g.RunID
	}
	if !newer {
		return
	}
	body := s.newestPlanComment(ctx, head)
	if body == "" && outdated != nil {
		body = outdated(head)
	}
	if body == "" {
		return
	}
	if _, err := s.sticky.Update(ctx, id, s.masker.String(body)); err != nil {
		s.d.Report.Warningf("Pull request #%d's head is now %s, but its comment could not be set back to that head's plan: %s", g.PRNumber, short(head, 7), err)
		return
	}
	s.d.Report.Infof("Pull request #%d's head is now %s: its comment shows that head's plan, not this run's (%s)", g.PRNumber, short(head, 7), short(ours, 7))
}

// newestPlanComment is the comment the plan run of head uploaded with its
// plan ("" when there is none yet): this target's, of that head.
func (s *session) newestPlanComment(ctx context.Context, head string) string {
	g := s.d.GH
	f := artifacts.NewFinder(s.d.GitHub, g.Owner, g.Repo, s.d.BlobClient)
	info, err := f.Latest(ctx, s.target.PlanArtifact(head), head)
	if err != nil {
		return ""
	}
	data, err := f.Download(ctx, info.ID)
	if err != nil {
		return ""
	}
	files, err := artifacts.Unzip(data, artifacts.DefaultLimits)
	if err != nil {
		return ""
	}
	body := string(files[PlanCommentName])
	if !strings.HasPrefix(body, s.target.Marker()) || !comment.ShowsHead(body, head) || len(body) > comment.CommentBudget {
		return ""
	}
	return body
}
