package run

import (
	"context"
	"fmt"
	"io"
	"path"
	"runtime/debug"

	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deployedpack"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// PackDiffName is the plan artifact's full pack diff (a public file name).
const PackDiffName = "pack.diff"

// packDiff compares the pull request's pack with what is deployed: the pack
// recorded at the last apply, else the pack at the base commit, else
// nothing. It returns the report's section and what reads pack.diff (nil
// without a diff). Not being able to read the deployed side costs the
// diff, never the plan: it is a warning.
func (s *session) packDiff(ctx context.Context) (*comment.PackDiff, func() io.Reader) {
	f := &deployedpack.Finder{}
	if r, ok := s.backend.(deployedpack.Recorder); ok {
		f.Recorder = r
	}
	// The CLI's pack applied, beside its state file. Only the CLI reads
	// it: in a workflow the checkout is the pull request's, which could
	// plant one.
	if file, ok := s.backend.(*state.File); ok && s.d.GitHub == nil {
		f.Recorder = localPack{file}
	}
	base := ""
	if g := s.d.GH; g != nil && s.d.GitHub != nil {
		f.GitHub, f.Owner, f.Repo, base = s.d.GitHub, g.Owner, g.Repo, g.BaseSHA
	}
	// Until the diff is made the run holds two packs: the collector keeps
	// less garbage over them than elsewhere in the run.
	defer eagerGC()()
	found, err := f.Find(ctx, base, path.Join(s.o.WorkDirRel, relTo(s.o.WorkDir, s.packPath)))
	if err != nil {
		s.warnf("The pack diff is not shown: %s", s.masker.String(err.Error()))
		return nil, nil
	}
	// Without GitHub (the CLI) and without a state, nothing is deployed:
	// "all new" is then the truth, not a guess.
	nothingDeployed := found.Source == deployedpack.None && f.GitHub == nil && !s.deployed()
	if found.Source == deployedpack.None && (f.GitHub == nil || base == "") && !nothingDeployed {
		return nil, nil // no base commit was looked at: "all new" would be a guess
	}
	// The pull request's pack was validated when it was parsed.
	d, err := packdiff.CompareValidated(found.Pack, s.pack)
	if len(found.Pack) > 1<<20 {
		// The deployed pack is garbage now (a removed prompt keeps only
		// its own bytes alive): its pages go back before the report and
		// the artifact are made, instead of raising the peak under them.
		found.Pack = nil
		debug.FreeOSMemory()
	}
	if err != nil {
		s.warnf("The pack diff is not shown: %s", s.masker.String(err.Error()))
		return nil, nil
	}
	// Masked where pack text shows, before it is escaped for Markdown
	// (escaping would hide a secret from the masker).
	d.Mask(s.masker.String)
	pd := &comment.PackDiff{Diff: d}
	label := "the deployed pack"
	switch found.Source {
	case deployedpack.BaseCommit:
		pd.Base, pd.BaseSHA, pd.BaseURL = comment.BaseCommit, found.SHA, s.repoURL()+"/commit/"+found.SHA
		label = "the pack at base commit " + short(found.SHA, 7)
	case deployedpack.None:
		pd.Base, label = comment.BaseNone, "nothing deployed"
		if nothingDeployed {
			pd.Base = comment.BaseNothingDeployed
		}
	}
	head := "the pull request's pack"
	if s.d.GH == nil || s.d.GH.PRNumber == 0 {
		head = "the pack planned"
	}
	if h := s.headSHA(); h != "" {
		head += " at " + short(h, 7)
	}
	// pack.diff is masked whole too, as it streams into the artifact.
	return pd, func() io.Reader { return s.masker.Reader(d.TextReader(label, head)) }
}

// eagerGC lowers the collector's target (GOGC) to diffGCPercent until the
// function it returns is called, unless it is already as low. The pack
// diff holds the deployed pack beside the pull request's, the run's peak
// (9 MB packs, edited: 4.3x the pack at the run's GOGC of 25), and what
// the diff allocates meanwhile (the prompts it decodes) is collected
// sooner instead of raising that peak.
func eagerGC() (restore func()) {
	old := debug.SetGCPercent(diffGCPercent)
	if old < 0 || old <= diffGCPercent {
		debug.SetGCPercent(old)
		return func() {}
	}
	return func() { debug.SetGCPercent(old) }
}

const diffGCPercent = 10

// localPack is the CLI's state file as the recorder of the pack applied.
type localPack struct{ f *state.File }

func (l localPack) LoadDeployedPack(context.Context) ([]byte, error) { return l.f.DeployedPack() }

// warnf is a warning in the log and in the report.
func (s *session) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.d.Report.Warningf("%s", msg)
	s.warnings = append(s.warnings, msg)
}

// repoURL is the repository's web address ("" without GitHub).
func (s *session) repoURL() string {
	g := s.d.GH
	if g == nil || g.Owner == "" {
		return ""
	}
	return g.ServerURL + "/" + g.Owner + "/" + g.Repo
}
