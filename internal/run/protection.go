package run

import (
	"context"

	"github.com/arena-deploy/arena-deploy-action/internal/branchrules"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// storeProtection reads the rules GitHub applies to the branch holding the
// state (one call) and who this run writes it as, for the job summary and
// the state-protection output. Not being able to read them is said, never
// a failure.
func (s *session) storeProtection(ctx context.Context) {
	b, ok := s.backend.(*state.Branch)
	g := s.d.GH
	if !ok || s.d.GitHub == nil || g == nil {
		return
	}
	rules, err := branchrules.Get(ctx, s.stateGitHub(), g.Owner, g.Repo, b.Branch)
	s.protection = &branchrules.Protection{Branch: b.Branch, Rules: rules, Writer: b.Writer(), Err: err}
}

// protectionTitles head the job summary's section, per level.
var protectionTitles = map[string]string{
	branchrules.DeployIdentity: "🔒 State store: written by the deploy identity alone",
	branchrules.Restricted:     "🔒 State store: restricted",
	branchrules.WorkflowToken:  "⚠️ State store: written with the workflow token",
	branchrules.Open:           "⚠️ State store: open to every writer",
	branchrules.Unknown:        "State store: protection not known",
}

// reportProtection says in the job summary (and the state-protection
// output) who may write the state branch.
func (s *session) reportProtection() {
	p := s.protection
	if p == nil {
		return
	}
	level := p.Level()
	s.d.Report.SetOutput("state-protection", level)
	s.d.Report.AddStepSummary("#### " + protectionTitles[level] + "\n\n" + s.masker.String(p.Sentence()) + "\n")
}
