package run

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/evalresults"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// evaluation is what the run knows of the evaluation results an earlier
// step of this job wrote: read, bound to this job and pack, compared with
// the baseline, judged by the policy.
type evaluation struct {
	results  *evalresults.Results
	baseline *evalgate.Baseline
	baseNote string
	delta    *evalgate.Delta
	blocks   []evalgate.Block
	override *evalgate.Override
	gate     string // comment.Gate*, in an apply
}

// EvaluationRecord is what a plan's provenance records of the results it
// showed, beside the pack checksum. They are the pull request's: apply
// never gates on them, it evaluates the results of its own run.
type EvaluationRecord struct {
	Source string             `json:"source"`
	Format string             `json:"format"`
	Digest string             `json:"digest"`
	Totals evalresults.Totals `json:"totals"`
	Policy string             `json:"policy"`
	// Blocked is what the policy would block on these results.
	Blocked []string `json:"blocked,omitempty"`
	// BaselineCommit is the apply the results were compared with.
	BaselineCommit string `json:"baseline_commit,omitempty"`
}

// readEvaluations reads the results the evaluations input names, through
// the workspace fence, and binds them to this job and this pack: written
// after the checkout, not committed files, and of this pack's prompts.
func (s *session) readEvaluations(ctx context.Context) error {
	if s.o.Evaluations == "" {
		return nil
	}
	p := s.o.Evaluations
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.o.WorkDir, p)
	}
	res, err := evalresults.Load(s.ws, p, s.ws.Dir())
	if errors.Is(err, workspace.ErrOutside) {
		return fail(ReasonInvalidInput, "Keep "+s.o.Surface.Name("evaluations")+" (relative to "+s.o.Surface.Name("working-directory")+
			") and every results file in it inside the repository: let the evaluation write them into a folder of the checkout, with no symlink leading out of it.",
			fmt.Errorf("evaluations: %w", err))
	}
	if err != nil {
		return fmt.Errorf("evaluations: %w", err)
	}
	at, what := s.checkoutTime()
	// The wall clock, not the run's (s.now, which tests set): file times
	// are the wall clock's.
	if err := evalresults.CheckFresh(res.Read, at, what, time.Now()); err != nil {
		return err
	}
	if g := s.d.GH; g != nil && s.d.GitHub != nil && g.SHA != "" {
		repo := &commitFiles{gh: s.d.GitHub, owner: g.Owner, repo: g.Repo, ref: g.SHA}
		if err := evalresults.CheckNotCommitted(ctx, repo, res.Read); err != nil {
			if errors.Is(err, evalresults.ErrUnbound) {
				return err
			}
			return fail(ReasonGitHubAPI, "Check that the token has contents: read, then re-run.", fmt.Errorf("evaluations: %w", err))
		}
	}
	id := evalresults.PackFromFields(s.packMeta.ID, s.packMeta.Name, s.packMeta.Version, s.packChecksum, s.packParsed.Fields["prompts"])
	if err := evalresults.CheckIdentity(res.Identities, id); err != nil {
		return err
	}
	// Everything shown of the results is masked where it is read: a
	// run's error can echo a credential.
	m := s.masker.String
	for i := range res.Cases {
		c := &res.Cases[i]
		c.Scenario, c.Provider, c.Region, c.Name, c.Message = m(c.Scenario), m(c.Provider), m(c.Region), m(c.Name), m(c.Message)
	}
	s.eval = &evaluation{results: res}
	t := res.Totals
	s.d.Report.Infof("Evaluation results %s (%s, %d files, digest %s): %d passed, %d failed, %d skipped; pass rate %s; %s, %d tokens",
		res.Source, res.Format, res.Files, short(res.Digest, 12), t.Passed, t.Failed, t.Skipped, evalgate.Percent(t.PassRate()), comment.Cost(t.CostUSD), t.Tokens())
	return nil
}

// checkoutTime is when this job checked the repository out: the time git
// last wrote .git/HEAD (actions/checkout writes it last), else, without
// a .git folder, the arena file's.
func (s *session) checkoutTime() (time.Time, string) {
	if fi, err := s.ws.Stat(filepath.Join(s.ws.Dir(), ".git", "HEAD")); err == nil {
		return fi.ModTime(), "the time of .git/HEAD"
	}
	if fi, err := s.ws.Stat(filepath.Join(s.o.WorkDir, s.o.ConfigPath)); err == nil {
		return fi.ModTime(), "the time of " + s.o.ConfigPath
	}
	return time.Time{}, ""
}

// commitFiles lists a folder of the commit being deployed through the
// contents API.
type commitFiles struct {
	gh          *github.Client
	owner, repo string
	ref         string
}

// FilesAt implements evalresults.RepoFiles.
func (c *commitFiles) FilesAt(ctx context.Context, dir string) (map[string]string, error) {
	if dir == "." {
		dir = ""
	}
	out := map[string]string{}
	file, list, resp, err := c.gh.Repositories.GetContents(ctx, c.owner, c.repo, dir, &github.RepositoryContentGetOptions{Ref: c.ref})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	if file != nil {
		return out, nil
	}
	for _, e := range list {
		if e.GetType() == "file" {
			out[e.GetName()] = e.GetSHA()
		}
	}
	return out, nil
}

// fileLoader is a state backend that keeps files beside the state (the
// state branch, the state artifact).
type fileLoader interface {
	LoadFile(ctx context.Context, name string) ([]byte, error)
}

// compareEvaluations reads the baseline (the results recorded when the
// deployed pack was applied), compares, and judges by the policy. must
// says a baseline that cannot be read is an error (apply, with rules
// that compare), not a warning.
func (s *session) compareEvaluations(ctx context.Context, must bool) error {
	e := s.eval
	if e == nil {
		return nil
	}
	defer func() {
		e.blocks = s.o.EvaluationPolicy.Evaluate(&e.results.Summary, e.delta)
	}()
	loader, ok := s.backend.(fileLoader)
	switch {
	case !s.deployed():
		e.baseNote = "nothing is deployed to " + s.env + " yet"
		return nil
	case !ok:
		e.baseNote = "the state backend (" + s.backend.Describe() + ") keeps no baseline; the state branch and state-backend: artifact do"
		return nil
	}
	raw, err := loader.LoadFile(ctx, evalgate.FileName)
	if err == nil {
		e.baseline, err = evalgate.DecodeBaseline(raw)
	}
	if err != nil {
		e.baseline = nil
		if must && (s.o.EvaluationPolicy.NoRegressions || s.o.EvaluationPolicy.MaxCostGrowth >= 0) {
			err = fmt.Errorf("read the evaluation baseline %s in %s: %w", evalgate.FileName, s.backend.Describe(), err)
			if errors.Is(err, state.ErrUntrusted) {
				// The record is proven: adopt has nothing to adopt.
				return fail(ReasonStateUntrusted, "Nothing was deployed. Put back the baseline the message names, from the state branch's history; "+
					"or, to deploy without comparing, run once with evaluation-policy without no-regressions and max-cost-growth: that apply records a new baseline.", err)
			}
			return err
		}
		s.warnf("The evaluation baseline could not be read, so the results are not compared with it: %s", s.masker.String(err.Error()))
		e.baseNote = "it could not be read"
		return nil
	}
	if e.baseline == nil {
		e.baseNote = "no results were recorded when " + s.env + "'s pack was applied (evaluations were not set then)"
		return nil
	}
	if s.rolledBackFrom(e.baseline) {
		e.baseNote = "the results recorded were the rolled-back pack's (" + short(e.baseline.Commit, 7) + "), and the apply " + s.env +
			" was rolled back to recorded none"
		e.baseline = nil
		return nil
	}
	if st := s.prior.State; st != nil && e.baseline.PackChecksum != "" && st.PackChecksum != "" && e.baseline.PackChecksum != st.PackChecksum {
		e.baseNote = "the baseline was recorded for the pack " + short(e.baseline.PackChecksum, 12) + "; the deployed pack " +
			short(st.PackChecksum, 12) + " was applied later without evaluations"
	}
	e.delta = evalgate.Compare(&e.results.Summary, &e.baseline.Results)
	return nil
}

// rolledBackFrom says the baseline is the results of the apply the
// deployed state was rolled back from: a rollback restores the baseline
// its restored apply recorded, and when that apply recorded none, the
// rolled-back apply's stays beside the state (the record keeps its
// commit). Those results are of a pack no longer deployed, the very one
// taken back: no baseline of what is deployed.
func (s *session) rolledBackFrom(b *evalgate.Baseline) bool {
	if s.prior == nil || s.prior.Record == nil || s.prior.Record.RolledBack == nil || s.prior.State == nil {
		return false
	}
	return b.Commit != "" && b.Commit == s.prior.Record.Commit && b.PackChecksum != s.prior.State.PackChecksum
}

// recordedBaseline is the evaluation the last apply recorded, for status
// and refresh (nil: none, or not readable, which is a warning).
func (s *session) recordedBaseline(ctx context.Context) *evalgate.Baseline {
	loader, ok := s.backend.(fileLoader)
	if !ok {
		return nil
	}
	raw, err := loader.LoadFile(ctx, evalgate.FileName)
	if err == nil {
		var b *evalgate.Baseline
		if b, err = evalgate.DecodeBaseline(raw); err == nil {
			if b != nil && s.rolledBackFrom(b) {
				return nil
			}
			return b
		}
	}
	s.d.Report.Warningf("The evaluation baseline could not be read: %s", s.masker.String(err.Error()))
	return nil
}

// gateEvaluations blocks an apply the policy blocks, unless overridden.
func (s *session) gateEvaluations(res *ApplyResult) error {
	e := s.eval
	if e == nil {
		return nil
	}
	if len(e.blocks) == 0 {
		e.gate = comment.GatePassed
		s.d.Report.Infof("The evaluation gate passed (evaluation-policy: %s)", s.o.EvaluationPolicy)
		return nil
	}
	lines := make([]string, len(e.blocks))
	for i, b := range e.blocks {
		lines[i] = b.String()
	}
	if reason := strings.TrimSpace(s.o.EvaluationOverride); reason != "" {
		e.gate = comment.GateOverridden
		e.override = &evalgate.Override{By: s.overrider(), Reason: s.masker.String(reason), Blocked: lines}
		msg := fmt.Sprintf("The evaluation gate was overridden by %s (%q); it blocked: %s", e.override.By, e.override.Reason, strings.Join(lines, "; "))
		s.d.Report.Warningf("%s", msg)
		res.Notes = append(res.Notes, msg)
		return nil
	}
	e.gate = comment.GateBlocked
	return failf(ReasonEvalBlocked, "",
		"the evaluation results of this run block the deploy of %s (evaluation-policy: %s); nothing was deployed:\n- %s",
		s.env, s.o.EvaluationPolicy, strings.Join(lines, "\n- "))
}

// overrider is who overrode the gate: who started this attempt.
func (s *session) overrider() string {
	if g := s.d.GH; g != nil {
		if g.TriggeringActor != "" {
			return g.TriggeringActor
		}
		if g.Actor != "" {
			return g.Actor
		}
	}
	if s.o.LocalUser != "" {
		return s.o.LocalUser + " (outside GitHub Actions)"
	}
	return "unknown (outside GitHub Actions)"
}

// evalView is the report's evaluation section (nil without results);
// plan says it is a plan's, whose results are a pull request's when it
// plans one.
func (s *session) evalView(plan bool) *comment.Evaluation {
	e := s.eval
	if e == nil {
		return nil
	}
	v := &comment.Evaluation{Results: &e.results.Summary, Baseline: e.baseline, Delta: e.delta, BaseNote: e.baseNote,
		Policy: s.o.EvaluationPolicy.String(), Blocks: e.blocks, Override: e.override, Gate: e.gate}
	if g := s.d.GH; plan && g != nil && g.PRNumber != 0 {
		v.FromPullRequest = true
	}
	return v
}

// evalRecord is the provenance's record of the results.
func (s *session) evalRecord() *EvaluationRecord {
	e := s.eval
	if e == nil {
		return nil
	}
	r := &EvaluationRecord{Source: e.results.Source, Format: e.results.Format, Digest: e.results.Digest, Totals: e.results.Totals,
		Policy: s.o.EvaluationPolicy.String()}
	for _, b := range e.blocks {
		r.Blocked = append(r.Blocked, s.masker.String(b.String()))
	}
	if e.baseline != nil {
		r.BaselineCommit = e.baseline.Commit
	}
	return r
}

// evalSummaryFile is the results' summary as the plan artifact keeps it.
func (s *session) evalSummaryFile() ([]byte, error) {
	if s.eval == nil {
		return nil, nil
	}
	b := &evalgate.Baseline{Policy: s.o.EvaluationPolicy.String(), PackChecksum: s.packChecksum, Results: s.eval.results.Summary}
	raw, err := b.Encode()
	return s.masker.Bytes(raw), err
}

// baselineFiles are the files an apply writes beside the state: the
// results it was gated by, the next pull request's baseline.
func (s *session) baselineFiles(res *ApplyResult) map[string][]byte {
	e := s.eval
	if e == nil || !res.Applied {
		return nil
	}
	b := &evalgate.Baseline{PackChecksum: s.packChecksum, RecordedAt: s.now().UTC().Format(time.RFC3339),
		Policy: s.o.EvaluationPolicy.String(), Override: e.override, Results: e.results.Summary}
	if g := s.d.GH; g != nil {
		b.Commit, b.RunID = g.SHA, g.RunID
	}
	if res.Prov != nil {
		b.PlanID = res.Prov.PlanID
	}
	raw, err := b.Encode()
	if err != nil {
		return nil
	}
	return map[string][]byte{evalgate.FileName: s.masker.Bytes(raw)}
}

// evalOutputs are the step outputs of the results.
func (s *session) evalOutputs() {
	e := s.eval
	if e == nil {
		return
	}
	out := s.d.Report.SetOutput
	t := e.results.Totals
	out("evaluation-passed", strconv.Itoa(t.Passed))
	out("evaluation-failed", strconv.Itoa(t.Failed))
	out("evaluation-skipped", strconv.Itoa(t.Skipped))
	out("evaluation-total", strconv.Itoa(t.Cases))
	out("evaluation-pass-rate", strconv.FormatFloat(t.PassRate(), 'f', 4, 64))
	out("evaluation-cost", strconv.FormatFloat(t.CostUSD, 'f', 6, 64))
	out("evaluation-tokens", strconv.Itoa(t.Tokens()))
	out("evaluation-digest", e.results.Digest)
	verdict := "pass"
	switch {
	case e.gate == comment.GateOverridden:
		verdict = "overridden"
	case len(e.blocks) > 0:
		verdict = "blocked"
	}
	out("evaluation-verdict", verdict)
	if e.delta != nil {
		out("evaluation-newly-failing", strconv.Itoa(len(e.delta.NewlyFailing)))
		out("evaluation-fixed", strconv.Itoa(len(e.delta.Fixed)))
	}
}
