package state

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// ErrSuperseded is matched when a newer commit than this run's is already
// applied: applying would roll the target back.
var ErrSuperseded = errors.New("a newer commit is already applied")

// Verdict is what the record says of an apply.
type Verdict int

// Verdicts.
const (
	Proceed        Verdict = iota
	AlreadyApplied         // the record holds this commit and plan
	Superseded             // the record holds a commit after this one
	RolledBack             // this commit's apply was rolled back since
)

// Order compares an apply of commit (with plan planID; before is the
// branch's commit before the push, when known) with what the record says
// was applied last. The compare API is asked only when the answer is not
// plain: the record holds the commit the push came after in the common
// case of one merge after another.
func Order(ctx context.Context, gh *github.Client, owner, repo string, rec *Record, commit, before, planID string) (Verdict, string, error) {
	if rec == nil || rec.Commit == "" || commit == "" {
		return Proceed, "", nil
	}
	if rec.Commit == commit {
		if rec.RolledBack != nil {
			return RolledBack, "", nil
		}
		if planID != "" && rec.PlanID == planID {
			return AlreadyApplied, "", nil
		}
		return Proceed, "", nil
	}
	if rec.Commit == before {
		return Proceed, "", nil
	}
	cmp, resp, err := gh.Repositories.CompareCommits(ctx, owner, repo, rec.Commit, commit, &github.ListOptions{PerPage: 1})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return Proceed, fmt.Sprintf("The commit applied last (%s) is not in this repository's history any more (a force push?); it could not be ordered with %s.", short(rec.Commit), short(commit)), nil
	}
	if err != nil {
		return Proceed, "", fmt.Errorf("compare the applied commit %s with %s: %w", short(rec.Commit), short(commit), err)
	}
	switch cmp.GetStatus() {
	case "behind":
		return Superseded, "", nil
	case "diverged":
		return Proceed, fmt.Sprintf("This commit (%s) and the one applied last (%s) have diverged; neither contains the other.", short(commit), short(rec.Commit)), nil
	}
	return Proceed, "", nil
}

func short(sha string) string {
	if len(sha) > 7 && !strings.Contains(sha, " ") {
		return sha[:7]
	}
	return sha
}
