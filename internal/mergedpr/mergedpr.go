// Package mergedpr finds the pull request that a pushed commit merged.
//
// GET /repos/{o}/{r}/commits/{sha}/pulls lists every pull request that
// holds the commit, across the fork network: a fork's pull request into its
// own default branch, or a pull request of another base, can be in the
// answer, and their numbers mean nothing in this repository. Right after a
// push the list can also still be empty (GitHub associates commits with
// pull requests asynchronously). So only pull requests whose base is this
// repository count, the merge commit must be the pushed sha (else the head
// is the pushed sha: a fast-forward), and an empty answer is asked again
// before the "#N" of the commit message is tried, loudly.
package mergedpr

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/clock"
)

// Result is the pull request found; Number 0 means none.
type Result struct {
	Number  int
	HeadSHA string
	// HeadRepo is the head's repository; FromFork says it is not this one
	// (or was deleted).
	HeadRepo string
	FromFork bool
	// How says how it was found, for the log.
	How string
}

// Finder looks pull requests up in one repository.
type Finder struct {
	GH          *github.Client
	Owner, Repo string
	// Tries is how often the association is asked for (default 4), with
	// Delay (default 2s) doubling in between.
	Tries int
	Delay time.Duration
	// Sleep waits between tries (tests make it instant).
	Sleep func(context.Context, time.Duration) error
	// Warn reports a fallback or a skipped candidate.
	Warn func(format string, args ...any)
}

var prRef = regexp.MustCompile(`#(\d+)`)

// Find returns the pull request of this repository that merged sha.
// message is the pushed head commit's message, for the "#N" fallback.
func (f *Finder) Find(ctx context.Context, sha, message string) (Result, error) {
	tries, delay := f.Tries, f.Delay
	if tries <= 0 {
		tries = 4
	}
	if delay <= 0 {
		delay = 2 * time.Second
	}
	for try := 1; ; try++ {
		prs, err := f.list(ctx, sha)
		if err != nil {
			return Result{}, err
		}
		if r, ok := f.pick(prs, sha); ok {
			return r, nil
		}
		if try == tries {
			break
		}
		if err := f.sleep(ctx, delay); err != nil {
			return Result{}, err
		}
		delay *= 2
	}
	return f.fromMessage(ctx, sha, message)
}

func (f *Finder) list(ctx context.Context, sha string) ([]*github.PullRequest, error) {
	var all []*github.PullRequest
	opt := &github.ListOptions{PerPage: 100}
	for {
		prs, resp, err := f.GH.PullRequests.ListPullRequestsWithCommit(ctx, f.Owner, f.Repo, sha, opt)
		if err != nil {
			return nil, fmt.Errorf("find the pull request of %s: %w", sha, err)
		}
		all = append(all, prs...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opt.Page = resp.NextPage
	}
}

// ours is a merged pull request whose base is this repository.
func (f *Finder) ours(pr *github.PullRequest) bool {
	base := pr.GetBase().GetRepo().GetFullName()
	return pr.GetMergedAt() != (github.Timestamp{}) && strings.EqualFold(base, f.Owner+"/"+f.Repo)
}

// pick prefers the pull request whose merge commit is sha, then one whose
// head is sha; others are skipped, and said so.
func (f *Finder) pick(prs []*github.PullRequest, sha string) (Result, bool) {
	var byHead *github.PullRequest
	for _, pr := range prs {
		if base := pr.GetBase().GetRepo().GetFullName(); !strings.EqualFold(base, f.Owner+"/"+f.Repo) {
			f.warn("Ignoring pull request %s#%d, which GitHub associates with %s: its base is another repository", base, pr.GetNumber(), short(sha))
			continue
		}
		if !f.ours(pr) {
			continue // an open pull request that holds the commit too
		}
		if pr.GetMergeCommitSHA() == sha {
			return f.result(pr, "its merge commit is "+short(sha)), true
		}
		if byHead == nil && pr.GetHead().GetSHA() == sha {
			byHead = pr
		}
	}
	if byHead != nil {
		return f.result(byHead, "its head is "+short(sha)+" (fast-forward)"), true
	}
	return Result{}, false
}

// fromMessage is the last resort: "#N" in the commit message, accepted
// only if N is a merged pull request of this repository that merged sha.
func (f *Finder) fromMessage(ctx context.Context, sha, message string) (Result, error) {
	seen := map[int]bool{}
	for _, m := range prRef.FindAllStringSubmatch(message, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil || seen[n] {
			continue
		}
		seen[n] = true
		pr, _, err := f.GH.PullRequests.Get(ctx, f.Owner, f.Repo, n)
		if err != nil {
			f.warn("The commit message names #%d, which could not be read: %v", n, err)
			continue
		}
		if !f.ours(pr) || (pr.GetMergeCommitSHA() != sha && pr.GetHead().GetSHA() != sha) {
			f.warn("The commit message names #%d, but it did not merge %s: ignored", n, short(sha))
			continue
		}
		f.warn("GitHub does not associate %s with a pull request yet; using #%d named in the commit message", short(sha), n)
		return f.result(pr, "the commit message names it"), nil
	}
	return Result{}, nil
}

func (f *Finder) result(pr *github.PullRequest, how string) Result {
	head := pr.GetHead().GetRepo().GetFullName()
	return Result{Number: pr.GetNumber(), HeadSHA: pr.GetHead().GetSHA(), How: how,
		HeadRepo: head, FromFork: !strings.EqualFold(head, f.Owner+"/"+f.Repo)}
}

func (f *Finder) sleep(ctx context.Context, d time.Duration) error {
	return clock.Sleep(ctx, d, f.Sleep)
}

func (f *Finder) warn(format string, args ...any) {
	if f.Warn != nil {
		f.Warn(format, args...)
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
