package targets

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/google/go-github/v60/github"
)

// compareFileLimit is how many files the compare API lists at most: "The
// list of changed files is only shown on the first page of results, and it
// includes up to 300 changed files for the entire comparison" (GitHub's
// description of GET /repos/{owner}/{repo}/compare/{basehead}).
const compareFileLimit = 300

// Change is what a pull request or push changed.
type Change struct {
	// All, when set, says why every target counts as changed (no base to
	// compare with, a tree too large to list, the all-targets input).
	All string
	// Files are the paths that changed (slash-separated, from the
	// repository root; a rename lists both names).
	Files map[string]bool
	// Calls is how many API requests finding them took.
	Calls int
}

// Changed asks GitHub which files changed from base to head (three-dot:
// from their merge base, as a pull request's diff). One compare request
// answers up to 300 files; past that, the two commits' trees are listed
// (two requests) and compared by blob, so no change is missed.
func Changed(ctx context.Context, gh *github.Client, owner, repo, base, head string) (*Change, error) {
	return changed(ctx, gh, owner, repo, base, head, false)
}

// Pushed asks GitHub which files differ between the commit a branch
// pointed to before a push and the one pushed: what is deployed from
// before against what is there now. A fast-forward is Changed; a push
// that is not one (a force push, a reset to an older commit) compares
// the two commits' trees (two more requests), since their merge base
// would leave out every change the push took away.
func Pushed(ctx context.Context, gh *github.Client, owner, repo, before, after string) (*Change, error) {
	return changed(ctx, gh, owner, repo, before, after, true)
}

func changed(ctx context.Context, gh *github.Client, owner, repo, base, head string, direct bool) (*Change, error) {
	c := &Change{Files: map[string]bool{}}
	if base == "" || strings.Trim(base, "0") == "" {
		c.All = "there is no earlier commit to compare with (a new branch, or an event without one)"
		return c, nil
	}
	// per_page=1: the files come on the first page whatever its size, and
	// a long history's commits are not worth downloading.
	cmp, _, err := gh.Repositories.CompareCommits(ctx, owner, repo, base, head, &github.ListOptions{PerPage: 1})
	c.Calls++
	if err != nil {
		return nil, fmt.Errorf("compare %s...%s: %w", short(base), short(head), err)
	}
	from := cmp.GetMergeBaseCommit().GetSHA()
	if from == "" {
		from = base
	}
	why := fmt.Sprintf("more than %d files changed", compareFileLimit)
	if direct && from != base {
		// Not a fast-forward: base's tree against head's.
		from, why = base, "the push is not a fast-forward"
	} else if len(cmp.Files) < compareFileLimit {
		for _, f := range cmp.Files {
			c.Files[f.GetFilename()] = true
			if p := f.GetPreviousFilename(); p != "" {
				c.Files[p] = true
			}
		}
		return c, nil
	}
	old, truncated, err := tree(ctx, gh, owner, repo, from)
	c.Calls++
	if err != nil {
		return nil, err
	}
	cur, truncated2, err := tree(ctx, gh, owner, repo, head)
	c.Calls++
	if err != nil {
		return nil, err
	}
	if truncated || truncated2 {
		c.All = why + " and the repository's tree is too large for GitHub to list whole"
		return c, nil
	}
	for p, sha := range cur {
		if old[p] != sha {
			c.Files[p] = true
		}
	}
	for p := range old {
		if _, ok := cur[p]; !ok {
			c.Files[p] = true
		}
	}
	return c, nil
}

// tree lists a commit's files (path → blob sha).
func tree(ctx context.Context, gh *github.Client, owner, repo, commit string) (map[string]string, bool, error) {
	t, _, err := gh.Git.GetTree(ctx, owner, repo, commit, true)
	if err != nil {
		return nil, false, fmt.Errorf("list the files of %s: %w", short(commit), err)
	}
	files := make(map[string]string, len(t.Entries))
	for _, e := range t.Entries {
		if e.GetType() == "blob" {
			files[e.GetPath()] = e.GetSHA()
		}
	}
	return files, t.GetTruncated(), nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// Select keeps the targets the change touched, each with the reason; every
// file matching a shared glob touches every target. With change.All, all
// are kept.
func Select(ts []Target, change *Change, shared []string) []Target {
	var sharedHit []string
	if change.All == "" {
		for f := range change.Files {
			for _, g := range shared {
				if ok, _ := doublestar.Match(fromRoot(g), f); ok {
					sharedHit = append(sharedHit, f)
					break
				}
			}
		}
		sort.Strings(sharedHit)
	}
	var out []Target
	for _, t := range ts {
		switch {
		case change.All != "":
			t.Reason = "every target: " + change.All
		case len(sharedHit) > 0:
			t.Reason = listed(sharedHit) + " changed (shared by every target)"
		default:
			hits := t.touched(change.Files)
			if len(hits) == 0 {
				continue
			}
			t.Reason = listed(hits) + " changed"
		}
		out = append(out, t)
	}
	return out
}

// touched lists the target's inputs that changed; an input ending in /
// is a folder.
func (t Target) touched(files map[string]bool) []string {
	var hits []string
	for _, in := range t.Inputs {
		if strings.HasSuffix(in, "/") {
			var under []string
			for f := range files {
				if strings.HasPrefix(f, in) {
					under = append(under, f)
				}
			}
			sort.Strings(under)
			hits = append(hits, under...)
			continue
		}
		if files[in] {
			hits = append(hits, in)
		}
	}
	if t.PacksIn != "" {
		var packs []string
		for f := range files {
			if path.Dir(f) == t.PacksIn && strings.HasSuffix(f, ".pack.json") && !slices.Contains(t.Inputs, f) {
				packs = append(packs, f)
			}
		}
		sort.Strings(packs)
		hits = append(hits, packs...)
	}
	return hits
}

// listed names up to three paths, relative where they share a folder.
func listed(paths []string) string {
	const show = 3
	names := make([]string, 0, show)
	for i, p := range paths {
		if i == show {
			break
		}
		names = append(names, path.Clean(p))
	}
	s := strings.Join(names, ", ")
	if n := len(paths) - show; n > 0 {
		s += fmt.Sprintf(" and %d more", n)
	}
	return s
}
