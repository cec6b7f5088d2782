package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/clock"
	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/grace"
	"github.com/arena-deploy/arena-deploy-action/internal/mask"
	"github.com/arena-deploy/arena-deploy-action/internal/mergedpr"
	"github.com/arena-deploy/arena-deploy-action/internal/report"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// ApplyResult is what an apply run did.
type ApplyResult struct {
	PRNumber int
	HeadSHA  string
	Saved    *deploy.SavedPlan
	Prov     *Provenance
	Results  []deploy.ResourceResult
	Notes    []string
	Diff     string
	// ReviewedDiff is the pack diff the reviewed plan showed (pack.diff).
	ReviewedDiff string
	StateRef     string
	Applied      bool
	// ResultsFromPlan: the adapter reported no per-resource results
	// (PromptKit's v1.3.5 SDK sends no events), so Results were made from
	// the reviewed plan it applied.
	ResultsFromPlan bool
	// Links are the deployment-wide links the adapter reports after apply.
	Links []deploy.Link
	// AlreadyApplied: a re-run; the state already records this plan.
	AlreadyApplied bool
	// Attempted: the adapter was asked to apply. A run refused before
	// (a changed pack, no reviewed plan) deployed nothing and counts
	// nothing: it sets no created, updated, deleted or failed.
	Attempted bool
}

// Apply finds the plan reviewed on the merged pull request, proves it still
// holds, applies it under the deploy lock, writes the state back and
// reports on the pull request.
func Apply(ctx context.Context, o *Options, d *Deps) (*ApplyResult, error) {
	s := newSession(o, d)
	defer s.close()
	res := &ApplyResult{}
	err := whenCancelled(ctx, s.runApply(ctx, res), "Anything the adapter did before it was stopped may be missing from the state: "+
		o.Surface.Rerun()+" (the plan is verified again against the state) or run refresh.")
	// Even cancelled, the run reports what it did: no comment stays
	// "applying".
	rctx, cancel := grace.Context(ctx, s.d.Grace)
	defer cancel()
	s.reportApply(rctx, res, err)
	s.reportProtection()
	if err != nil {
		s.notifyApplyFailed(rctx, res, err)
	}
	return res, err
}

func (s *session) runApply(ctx context.Context, res *ApplyResult) error {
	if err := s.load(); err != nil {
		return err
	}
	if err := s.findPlan(ctx, res); err != nil {
		return err
	}
	// The results this run's own job wrote: a pull request's (in its plan
	// artifact) are evidence for the review, never the gate. Read once the
	// pull request is known, so its comment says what is wrong with them.
	if err := s.readEvaluations(ctx); err != nil {
		return err
	}
	if res.Saved != nil {
		if err := s.refuseFailedFailOn(res); err != nil {
			return err
		}
	}
	// find plan → lock → load state → verify → apply: the state is read
	// under the lock, and the lock write proves the store takes writes
	// before the adapter is called.
	s.backend = s.stateBackendFor(true)
	release, err := s.lockState(ctx, s.o.LockWait)
	if err != nil {
		return err
	}
	defer release()
	s.storeProtection(ctx)
	if err := s.loadState(ctx); err != nil {
		return err
	}
	if done, err := s.checkOrder(ctx, res); done || err != nil {
		return err
	}
	// The gate, against what is deployed now (read under the lock), before
	// the adapter starts: a blocked apply deploys nothing.
	if err := s.compareEvaluations(ctx, true); err != nil {
		return err
	}
	if err := s.gateEvaluations(res); err != nil {
		return err
	}
	if res.Prov != nil {
		// The release the plan installed, else the version it reported.
		s.reviewedAdapter = res.Prov.Adapter.Version
		if _, tag, ok := strings.Cut(res.Prov.Adapter.Release, "@"); ok {
			s.reviewedAdapter = strings.TrimPrefix(tag, "v")
		}
	}
	if err := s.startAdapter(ctx); err != nil {
		return err
	}
	prior, err := s.verifyOrPlan(ctx, res)
	if err != nil {
		return err
	}
	for _, w := range res.Saved.Plan.Warnings {
		s.d.Report.Warningf("The reviewed plan warned: %s", s.masker.String(w))
	}
	s.startDeployment(ctx, res)
	s.commentApply(ctx, res, comment.StatusApplying, nil)
	return s.applyAndSave(ctx, res, prior)
}

// verifyOrPlan proves the reviewed plan still holds, or plans now when
// there is none and on-missing-plan allows it. It returns the prior state
// to apply against.
func (s *session) verifyOrPlan(ctx context.Context, res *ApplyResult) (string, error) {
	prior := s.refreshed(ctx)
	if res.Saved != nil {
		return prior, s.verify(ctx, res, prior)
	}
	if err := s.planNow(ctx, res, prior); err != nil {
		return "", err
	}
	if err := s.refuseFailedFailOn(res); err != nil {
		return "", err
	}
	res.Notes = append(res.Notes, "No reviewed plan exists for this push: it was planned and applied in this run (on-missing-plan: plan-and-apply).")
	return prior, nil
}

// planNow makes the plan res applies against prior, where no reviewed
// plan is applied (an apply without one, a preview, a rollback).
func (s *session) planNow(ctx context.Context, res *ApplyResult, prior string) error {
	resp, err := s.plan(ctx, prior)
	if err != nil {
		return err
	}
	pr := s.buildPlan(resp, prior)
	res.Saved, res.Prov = pr.Saved, pr.Provenance
	return nil
}

func (s *session) applyAndSave(ctx context.Context, res *ApplyResult, prior string) error {
	req := s.planRequest(prior, false) // the current, unredacted config
	s.d.Report.Group("Apply " + s.env)
	res.Attempted = true
	adapterState, err := s.client.Apply(ctx, req, func(e *deploy.ApplyEvent) error {
		s.logEvent(e)
		if e.Resource != nil {
			res.Results = append(res.Results, *e.Resource)
		}
		return nil
	})
	s.d.Report.EndGroup()
	// What was deployed is recorded even if the run is being cancelled.
	ctx, cancel := grace.Context(ctx, s.d.Grace)
	defer cancel()
	if err != nil {
		applyErr := s.failCall(ReasonApplyFailed, "Nothing after the failure was applied. Fix the cause and "+s.o.Surface.Rerun()+".", err)
		if partial := deploy.PartialState(err); partial != "" {
			if ref, serr := s.saveState(ctx, partial, res); serr == nil {
				res.StateRef = ref
				res.Notes = append(res.Notes, "The adapter reported what it deployed before failing; that partial state was saved, so the next plan starts from what exists.")
			} else {
				return errors.Join(applyErr, serr)
			}
		} else {
			res.Notes = append(res.Notes, "The stored state was left as it was.")
		}
		return applyErr
	}
	res.Applied = true
	if len(res.Results) == 0 {
		res.Results = resultsFromPlan(res.Saved.Plan.Changes)
		res.ResultsFromPlan = len(res.Results) > 0
		if res.ResultsFromPlan {
			s.d.Report.Infof("The adapter reported no per-resource results; the results are the reviewed plan's (%s)", comment.FromPlanNote)
		}
	}
	ref, err := s.saveState(ctx, adapterState, res)
	res.StateRef = ref
	// Only once the state is safe: the links are a courtesy.
	res.Links = s.deploymentLinks(ctx, adapterState)
	if err == nil && s.d.GitHub == nil {
		// A local plan is used up once applied, as with the promptarena CLI.
		_ = deploy.NewStateStore(filepath.Join(s.o.WorkDir, deploy.DirName)).DeletePlan()
	}
	return err
}

// logEvent masks an adapter's event in place, before anything keeps or
// shows it, and logs it.
func (s *session) logEvent(e *deploy.ApplyEvent) {
	e.Message = s.masker.String(e.Message)
	if e.Resource != nil {
		report.Result(s.masker, e.Resource)
	}
	switch {
	case e.Resource != nil:
		s.d.Report.Infof("%s %s/%s %s", e.Resource.Status, e.Resource.Type, e.Resource.Name, e.Resource.Detail)
	case e.Type == deploy.EventError:
		s.d.Report.Warningf("%s", e.Message)
	case e.Message != "":
		s.d.Report.Infof("%s", e.Message)
	}
}

// saveState writes the new state by compare-and-swap; its client retries
// passing errors (the swap is idempotent: same base, same content). If another
// deploy won the race, nothing is overwritten; if the write keeps failing,
// the state is not lost either: it is kept as an artifact (and, failing
// that, printed) and the run fails with the way to recover.
func (s *session) saveState(ctx context.Context, adapterState string, res *ApplyResult) (string, error) {
	// pack_version "" as promptarena writes it (flow.Session.Apply at its
	// newest commit, e90d58d), so the files are byte for byte the same;
	// nothing reads it, and the pack's version is in the pack the state
	// names by checksum.
	st := deploy.NewState(s.arena.Deploy.Provider, s.env, "", deploy.ComputePackChecksum(s.pack), s.info.Version)
	st.State = adapterState
	sha := ""
	if s.d.GH != nil {
		sha = s.d.GH.SHA
	}
	msg := fmt.Sprintf("arena-deploy: %s state after %s", s.env, short(sha, 7))
	if s.eval != nil && s.eval.override != nil {
		// A partial state too: the override let that part of the pack
		// out, and only a whole apply records a baseline to say so.
		msg += " (evaluation gate overridden by " + s.eval.override.By + ")"
	}
	if s.masker.Contains(adapterState) {
		// Committed, the state would publish the secret in the
		// repository's history for good: keep it where it expires.
		kept := s.keepState(ctx, st, sha)
		s.d.Report.Warningf("The adapter's state holds the value of a secret (from the deploy config or the environment), so it was not written to %s; %s. "+
			"The adapter must not put credentials in its state: fix the adapter, then run refresh to write a clean state.", s.backend.Describe(), kept)
		res.Notes = append(res.Notes, "The adapter's state holds the value of a secret, so it was not written to "+s.backend.Describe()+"; "+kept+".")
		return "", nil
	}
	// Passing errors are retried by the client (internal/ghclient). Pack:
	// the exact pack applied, kept beside the state where the backend can
	// (the state branch), for the next plan's pack diff.
	ref, err := s.backend.Save(ctx, s.stateWrite(st, msg, res), s.prior)
	if err == nil {
		if where := s.backend.Describe(); ref == where { // a local file: its path is the ref
			s.d.Report.Infof("State written to %s", where)
		} else {
			s.d.Report.Infof("State written to %s (%s)", where, ref)
		}
		return ref, nil
	}
	kept := s.keepState(ctx, st, sha)
	if errors.Is(err, state.ErrNotWritable) {
		return "", fail(ReasonStateNotWritable, "The deploy happened; its state was not written to "+s.backend.Describe()+" but "+kept+
			". Put it there before the next deploy. "+notWritableHint[len("Nothing was deployed. "):], fmt.Errorf("save state: %w", err))
	}
	if errors.Is(err, state.ErrConflict) {
		return "", failf(ReasonStateConflict,
			"Another deploy wrote the state while this one ran, and its state was not overwritten; "+kept+". "+
				"To recover: run refresh for "+s.env+", compare with the saved state, commit the right one to "+s.backend.Describe()+
				", then re-run the later deploy. A concurrency group per environment prevents this.",
			"state conflict: %v", err)
	}
	if f, local := s.backend.(*state.File); local {
		return "", fail(ReasonStateNotWritable, "The deploy happened but its state could not be written to "+f.Describe()+"; "+kept+
			". Make "+s.localStateDir()+" writable and put that state there before the next deploy.", fmt.Errorf("save state: %w", err))
	}
	return "", fail(ReasonGitHubAPI, "The deploy happened but its state could not be written to "+s.backend.Describe()+"; "+kept+
		". Put that file at "+s.backend.Describe()+" before the next deploy.", fmt.Errorf("save state: %w", err))
}

// stateWrite is what an apply stores: the state, and in the record the
// commit and plan applied (the plan only once all of it was) and the exact
// pack bytes.
func (s *session) stateWrite(st *deploy.State, msg string, res *ApplyResult) *state.Write {
	w := &state.Write{State: st, Message: msg, Pack: s.pack, Now: s.now(), Files: s.baselineFiles(res)}
	if g := s.d.GH; g != nil {
		w.Commit, w.RunID, w.RunAttempt = g.SHA, g.RunID, g.RunAttempt
	}
	if r := s.restored; r != nil {
		// A rollback keeps the applied commit (so an older merge is still
		// superseded, and the next merge goes on), records what it restored,
		// and brings back the files kept beside that state (its baseline).
		w.Commit, w.RolledBack = "", s.rollbackRecord()
		w.Message = fmt.Sprintf("arena-deploy: roll %s back to %s (serial %d) by %s", s.env, short(r.entry.Record.Commit, 7), r.entry.Record.Serial, w.RolledBack.By)
		if len(r.files) > 0 {
			w.Files = r.files
		}
	}
	// The plan id is what makes a re-run "already applied": a partial
	// state (the adapter failed part-way) records the commit, so nothing
	// older is applied after it, but not the plan, so the re-run deploys
	// the rest.
	if res.Prov != nil && res.Applied {
		w.PlanID = res.Prov.PlanID
	}
	return w
}

// keepState keeps a state that could not be written where it belongs, and
// says where it went.
func (s *session) keepState(ctx context.Context, st *deploy.State, sha string) string {
	raw, _ := deploy.MarshalFile(st)
	name := s.target.KeptStateArtifact(sha)
	if s.d.Uploader != nil {
		up, err := s.d.Uploader.UploadAs(ctx, artifacts.Request{Names: artifacts.Names(name, 2), Files: []artifacts.File{{Name: deploy.StateFile, Data: raw}}})
		reportUsedUp(s.d.Report, up)
		if err == nil {
			s.d.Report.SetOutput("state-artifact", up.Name)
			return "it was saved as the artifact " + up.Name
		}
	}
	s.d.Report.Group("The deploy state that could not be saved")
	s.d.Report.Infof("%s", s.masker.String(string(raw)))
	s.d.Report.EndGroup()
	return "it is printed in the log group \"The deploy state that could not be saved\""
}

// --- finding the plan

// findPlan locates the reviewed plan: the merged pull request, then its
// artifact for this environment and head SHA.
func (s *session) findPlan(ctx context.Context, res *ApplyResult) error {
	if s.d.GitHub == nil || s.d.GH == nil {
		return s.localPlan(res)
	}
	merged, err := s.mergedPR(ctx)
	if err != nil {
		return err
	}
	n, head := merged.Number, merged.HeadSHA
	if n == 0 {
		if s.o.OnMissingPlan == "plan-and-apply" {
			return nil
		}
		return failf(ReasonPlanNotFound, "Deploy through a pull request, or "+s.o.Surface.SetLower("on-missing-plan", "plan-and-apply")+" to plan and apply direct pushes.",
			"no merged pull request is associated with %s, so there is no reviewed plan to apply", s.d.GH.SHA)
	}
	res.PRNumber, res.HeadSHA, s.reviewedHead = n, head, head
	finder := artifacts.NewFinder(s.d.GitHub, s.d.GH.Owner, s.d.GH.Repo, s.d.BlobClient)
	name, info, err := s.latestPlan(ctx, finder, head)
	switch {
	case errors.Is(err, artifacts.ErrExpired):
		return fail(ReasonPlanExpired, "Re-run the plan job of pull request #"+strconv.Itoa(n)+" (or raise retention-days), then re-run this job.", err)
	case errors.Is(err, artifacts.ErrNotFound) && merged.FromFork:
		return fail(ReasonPlanNotFound, fmt.Sprintf("Pull request #%d came from a fork (%s), whose plans are never applied: push its change to a branch of this repository, review that plan, and merge it.", n, merged.HeadRepo), err)
	case errors.Is(err, artifacts.ErrNotFound):
		return fail(ReasonPlanNotFound, fmt.Sprintf("Pull request #%d has no plan for %s at %s: check that its plan job ran with the same environment, working-directory and config, and succeeded, then re-run this job.", n, s.target, short(head, 7)), err)
	case err != nil:
		return githubFail("Check that the token has actions: read.", err)
	}
	data, err := finder.Download(ctx, info.ID)
	if errors.Is(err, artifacts.ErrExpired) {
		return fail(ReasonPlanExpired, "Re-run the plan job of pull request #"+strconv.Itoa(n)+", then re-run this job.", err)
	}
	if err != nil {
		return githubFail("", err)
	}
	files, err := artifacts.Unzip(data, artifacts.DefaultLimits)
	if err != nil {
		return fail(ReasonPlanNotFound, "The plan artifact is damaged; re-run the plan job.", err)
	}
	s.d.Report.Infof("Reviewed plan: %s (artifact %d) from pull request #%d", name, info.ID, n)
	res.ReviewedDiff = string(files[PackDiffName])
	return decodePlan(files[PlanFileName], files[ProvenanceFileName], res)
}

// latestPlan finds the plan artifact of this target for head: by its name
// (which holds the target), else by the name plans had before targets were
// in it, so a pull request planned before an upgrade still applies after
// it. verify then checks that such a plan is this target's.
func (s *session) latestPlan(ctx context.Context, finder *artifacts.Finder, head string) (string, *artifacts.Info, error) {
	name := s.target.PlanArtifact(head)
	info, err := finder.Latest(ctx, name, head)
	if !errors.Is(err, artifacts.ErrNotFound) {
		return name, info, err
	}
	legacy := s.target.LegacyPlanArtifact(head)
	if linfo, lerr := finder.Latest(ctx, legacy, head); !errors.Is(lerr, artifacts.ErrNotFound) {
		if lerr == nil {
			s.d.Report.Infof("No plan artifact %s; using %s, made before plan names held the target", name, legacy)
		}
		return legacy, linfo, lerr
	}
	return name, info, err
}

func decodePlan(planJSON, provJSON []byte, res *ApplyResult) error {
	var saved deploy.SavedPlan
	var prov Provenance
	if err := json.Unmarshal(planJSON, &saved); err != nil || saved.Plan == nil || saved.Request == nil {
		return failf(ReasonPlanNotFound, "The plan artifact is damaged; re-run the plan job.", "the plan artifact has no valid %s (%v)", PlanFileName, err)
	}
	if saved.Version > deploy.SavedPlanVersion {
		return failf(ReasonPlanNotFound, "Use the same version of the action for plan and apply.", "the saved plan is version %d; this action reads up to %d", saved.Version, deploy.SavedPlanVersion)
	}
	if err := json.Unmarshal(provJSON, &prov); err != nil {
		return failf(ReasonPlanNotFound, "The plan artifact is damaged; re-run the plan job.", "the plan artifact has no valid %s (%v)", ProvenanceFileName, err)
	}
	res.Saved, res.Prov = &saved, &prov
	return nil
}

// localPlan reads the CLI's .promptarena/deploy.plan and its provenance.
func (s *session) localPlan(res *ApplyResult) error {
	store := deploy.NewStateStore(filepath.Join(s.o.WorkDir, deploy.DirName))
	saved, err := store.LoadPlan()
	if err != nil {
		return err
	}
	if saved == nil {
		if s.o.OnMissingPlan == "plan-and-apply" {
			return nil
		}
		return failf(ReasonPlanNotFound, "Run plan first, or pass --on-missing-plan plan-and-apply.", "no saved plan at %s", store.PlanPath())
	}
	// The local plan holds the real deploy config (the CLI applies it);
	// it is verified, like an artifact's, by its redacted form.
	saved.Request.DeployConfig, _ = mask.RedactJSON(saved.Request.DeployConfig)
	planJSON, _ := deploy.MarshalFile(saved)
	prov, err := os.ReadFile(filepath.Join(s.o.WorkDir, deploy.DirName, "deploy.plan.provenance.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return s.promptarenaPlan(store.PlanPath(), planJSON, res)
	}
	if err != nil {
		return failf(ReasonPlanNotFound, "Make the plan's provenance readable, or run plan again.", "read the provenance of %s: %w", store.PlanPath(), err)
	}
	return decodePlan(planJSON, prov, res)
}

// promptarenaPlan takes a saved plan with no provenance of ours: one that
// `promptarena deploy plan` made on this machine. It is the user's own, so
// the CLI applies it, as promptarena would, after the checks it allows: the
// pack, environment, config and adapter (verify), and, since it records no
// state digest, planning again must give the same changes (verifyState).
// Only the CLI reads a local plan: in GitHub Actions a plan is an artifact
// and needs its provenance.
func (s *session) promptarenaPlan(path string, planJSON []byte, res *ApplyResult) error {
	var saved deploy.SavedPlan
	if err := json.Unmarshal(planJSON, &saved); err != nil || saved.Plan == nil || saved.Request == nil {
		return failf(ReasonPlanNotFound, "Run plan again: the saved plan is damaged.", "%s is not a saved plan (%v)", path, err)
	}
	if saved.Version > deploy.SavedPlanVersion {
		return failf(ReasonPlanNotFound, "Run plan again with this tool.", "%s is version %d; this tool reads up to %d", path, saved.Version, deploy.SavedPlanVersion)
	}
	res.Saved = &saved
	res.Prov = &Provenance{Version: 1, PlanID: strings.TrimPrefix(digestString(string(planJSON)), "sha256:"), Environment: saved.Environment,
		PackChecksum: saved.PackChecksum, CreatedAt: saved.CreatedAt}
	msg := fmt.Sprintf("Applying promptarena's saved plan %s (made %s): it has no provenance of this tool, so it is checked by its pack, environment, config and adapter, and by planning again.",
		relTo(s.o.WorkDir, path), saved.CreatedAt)
	s.d.Report.Infof("%s", msg)
	res.Notes = append(res.Notes, msg)
	return nil
}

// mergedPR finds the pull request of this repository that the pushed
// commit merged, and its head (internal/mergedpr says how).
func (s *session) mergedPR(ctx context.Context) (mergedpr.Result, error) {
	g := s.d.GH
	f := &mergedpr.Finder{GH: s.d.GitHub, Owner: g.Owner, Repo: g.Repo, Sleep: s.sleep, Warn: s.d.Report.Warningf}
	r, err := f.Find(ctx, g.SHA, g.HeadCommitMsg)
	if err != nil {
		return r, githubFail("Check that the token has pull-requests: read (or contents: read).", err)
	}
	if r.Number != 0 {
		s.d.Report.Infof("%s merged pull request #%d (%s)", short(g.SHA, 7), r.Number, r.How)
	}
	return r, nil
}

func (s *session) sleep(ctx context.Context, d time.Duration) error {
	return clock.Sleep(ctx, d, s.d.Sleep)
}

// defaultBranch is the repository's default branch: the event says so;
// else the branch a push, dispatch or schedule run is on, or a pull
// request's base.
func defaultBranch(g *GitHubContext) string {
	if g.DefaultBranch != "" {
		return g.DefaultBranch
	}
	if b, ok := strings.CutPrefix(g.Ref, "refs/heads/"); ok && g.PRNumber == 0 {
		return b
	}
	if g.BaseRef != "" {
		return g.BaseRef
	}
	return "main"
}

// stateBackendFor picks the state backend; write says whether this run may
// write state (apply, status, refresh, destroy) or only read it (plan).
func (s *session) stateBackendFor(write bool) state.Backend {
	rel := s.o.StatePath
	if rel == "" {
		rel = path.Join(deploy.DirName, deploy.StateFile)
	}
	local := &state.File{Path: filepath.Join(s.o.WorkDir, rel), Env: s.env}
	g := s.d.GH
	if s.d.GitHub == nil || g == nil || s.o.StateBackend == "file" {
		return local
	}
	lockOpts := state.LockOptions{TTL: s.lockTTL(), Now: s.now, Sleep: s.d.Sleep, Warn: s.d.Report.Warningf}
	switch s.o.StateBackend {
	case "artifact":
		a := &state.Artifact{Finder: artifacts.NewFinder(s.stateGitHub(), g.Owner, g.Repo, s.d.BlobClient), Name: s.target.StateArtifact(), LegacyName: s.target.LegacyStateArtifact(),
			Env: s.env, RetentionDays: s.o.RetentionDays, Now: s.now, Warn: s.d.Report.Warningf, Trust: s.stateTrust()}
		if write && s.d.Uploader != nil {
			a.Uploader = s.d.Uploader
		}
		return a
	default: // git
		checkedOut := strings.TrimPrefix(g.Ref, "refs/heads/")
		if checkedOut == "" || strings.HasPrefix(checkedOut, "refs/") {
			checkedOut = g.BaseRef
		}
		file := path.Clean(path.Join(s.o.WorkDirRel, rel))
		// Writes go through the state's own client (StateGitHub), reads
		// too, so they agree.
		gh := s.stateGitHub()
		if s.o.StateBranch == "" {
			if !write { // plans read the checkout; writers go through the API
				return local
			}
			// The committed file: the state, its record beside it (one
			// commit), and the first release's file (the state alone) read
			// until a write adds the record.
			return &state.Branch{GH: gh, Owner: g.Owner, Repo: g.Repo, Branch: checkedOut, StatePath: file, Env: s.env, Lock: lockOpts,
				Legacy: &state.Git{GH: gh, Owner: g.Owner, Repo: g.Repo, Branch: checkedOut, Path: file, Env: s.env}, Witness: s.witness(write)}
		}
		// The state of earlier versions, carried over once: writers read it
		// from the branch, plans from the checkout.
		var legacy state.Loader = local
		if write {
			legacy = &state.Git{GH: gh, Owner: g.Owner, Repo: g.Repo, Branch: checkedOut, Path: file, Env: s.env}
		}
		return &state.Branch{GH: gh, Owner: g.Owner, Repo: g.Repo, Branch: s.o.StateBranch, Dir: s.target.StateDir(), Env: s.env,
			Legacy: legacy, Lock: lockOpts, Witness: s.witness(write), CheckPack: write}
	}
}
