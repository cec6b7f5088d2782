package run

import (
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// stateTrust is the run's judge of who may have written state, shared by
// every state read of the run so each question is asked of GitHub once.
func (s *session) stateTrust() *state.Trust {
	if s.trust != nil {
		return s.trust
	}
	g := s.d.GH
	runs := &state.GitHubRuns{GH: s.stateGitHub(), Owner: g.Owner, Repo: g.Repo}
	def := defaultBranch(g)
	s.trust = &state.Trust{Runs: runs, History: runs, Repo: g.Owner + "/" + g.Repo, DefaultBranch: def, Known: knownOnDefaultBranch(g, def)}
	return s.trust
}

// knownOnDefaultBranch are the commits this run knows to be in the default
// branch's history without asking GitHub: its own commit when it runs on
// that branch (and a push's before), or a pull request's base there.
func knownOnDefaultBranch(g *GitHubContext, def string) []string {
	switch {
	case g.Ref == "refs/heads/"+def && (g.EventName == "push" || g.EventName == "workflow_dispatch" || g.EventName == "schedule"):
		known := []string{g.SHA}
		if g.EventName == "push" && g.Before != "" && !allZeros(g.Before) {
			known = append(known, g.Before)
		}
		return known
	case g.PRNumber != 0 && g.BaseRef == def && g.BaseSHA != "":
		return []string{g.BaseSHA}
	}
	return nil
}

func allZeros(sha string) bool {
	for _, c := range sha {
		if c != '0' {
			return false
		}
	}
	return true
}
