package comment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"
)

// ErrForbidden is matched when the token may not write comments (fork pull
// requests, read-only tokens).
var ErrForbidden = errors.New("not allowed to comment")

// ActionsBot is the author of comments written with a workflow's
// GITHUB_TOKEN (an installation token of the GitHub Actions app).
const ActionsBot = "github-actions[bot]"

// Sticky keeps one comment per marker on a pull request. Only comments
// written by the token's own identity are candidates, so a user's comment
// that copies the marker is never edited.
type Sticky struct {
	gh          *github.Client
	owner, repo string

	// login is the token's identity once known; sure says it was read
	// (GET /user, or the author of a comment we made), not assumed.
	login string
	sure  bool
}

// NewSticky returns a Sticky for owner/repo.
func NewSticky(gh *github.Client, owner, repo string) *Sticky {
	return &Sticky{gh: gh, owner: owner, repo: repo}
}

// Result says what Upsert did.
type Result struct {
	ID      int64
	URL     string
	Created bool
	Updated bool // false with Created false: the body was already current
	// Removed counts the duplicates of ours deleted after a race.
	Removed int
}

// Identity is the login comments of this token are written by, read once:
// GET /user answers for a personal access token; installation tokens
// (GITHUB_TOKEN, GitHub Apps) are refused there, and are assumed to be
// github-actions[bot] until a comment we create tells otherwise.
func (s *Sticky) Identity(ctx context.Context) (string, error) {
	if s.login != "" {
		return s.login, nil
	}
	u, _, err := s.gh.Users.Get(ctx, "")
	if err == nil && u.GetLogin() != "" {
		s.login, s.sure = u.GetLogin(), true
		return s.login, nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	// Refused ("Resource not accessible by integration") or not answered:
	// assume GITHUB_TOKEN's bot. A wrong guess costs one comment, made and
	// deleted again once its author tells who we are (see Upsert).
	s.login = ActionsBot
	return s.login, nil
}

// Upsert finds this identity's comment holding marker on pull request
// number (reading every page) and edits it if its body differs, or creates
// it. After a create it looks again: if a run racing with this one made
// the same comment first, the oldest of ours is kept and the one made here
// is deleted, so there is never more than one.
func (s *Sticky) Upsert(ctx context.Context, number int, marker, body string) (Result, error) {
	if _, err := s.Identity(ctx); err != nil {
		return Result{}, err
	}
	ours, err := s.find(ctx, number, marker)
	if err != nil {
		return Result{}, err
	}
	if len(ours) > 0 {
		res, err := s.edit(ctx, ours[0], body)
		if s.sure || !errors.Is(err, ErrForbidden) {
			return res, err
		}
		// Assumed to be github-actions[bot], but not allowed to edit its
		// comment: the token is a GitHub App's. Creating tells which.
	}
	c, _, err := s.gh.Issues.CreateComment(ctx, s.owner, s.repo, number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return Result{}, wrap("create comment", err)
	}
	res := Result{ID: c.GetID(), URL: c.GetHTMLURL(), Created: true}
	if login := c.GetUser().GetLogin(); login != "" {
		// The comment we made says who we are (a GitHub App's own bot,
		// when the token is not GITHUB_TOKEN).
		s.login, s.sure = login, true
	}
	return s.converge(ctx, number, marker, body, res)
}

// converge keeps one comment of ours after a create: the oldest.
func (s *Sticky) converge(ctx context.Context, number int, marker, body string, made Result) (Result, error) {
	ours, err := s.find(ctx, number, marker)
	if err != nil || len(ours) == 0 || ours[0].GetID() == made.ID {
		return made, nil // ours is the oldest (or the look failed: one extra is better than none)
	}
	keep := ours[0]
	if _, err := s.gh.Issues.DeleteComment(ctx, s.owner, s.repo, made.ID); err != nil && !isNotFound(err) {
		return made, wrap("delete duplicate comment", err)
	}
	res, err := s.edit(ctx, keep, body)
	res.Removed = 1
	return res, err
}

func (s *Sticky) edit(ctx context.Context, c *github.IssueComment, body string) (Result, error) {
	res := Result{ID: c.GetID(), URL: c.GetHTMLURL()}
	if c.GetBody() == body {
		return res, nil
	}
	e, _, err := s.gh.Issues.EditComment(ctx, s.owner, s.repo, c.GetID(), &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return res, wrap("update comment", err)
	}
	res.Updated, res.URL = true, e.GetHTMLURL()
	return res, nil
}

// Update edits a comment already found by Upsert (no listing).
func (s *Sticky) Update(ctx context.Context, id int64, body string) (Result, error) {
	c, _, err := s.gh.Issues.EditComment(ctx, s.owner, s.repo, id, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return Result{ID: id}, wrap("update comment", err)
	}
	return Result{ID: id, URL: c.GetHTMLURL(), Updated: true}, nil
}

// find lists the comments of ours that hold marker, oldest first.
func (s *Sticky) find(ctx context.Context, number int, marker string) ([]*github.IssueComment, error) {
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var ours []*github.IssueComment
	for {
		page, resp, err := s.gh.Issues.ListComments(ctx, s.owner, s.repo, number, opt)
		if err != nil {
			return nil, wrap("list comments", err)
		}
		for _, c := range page {
			if !strings.HasPrefix(c.GetBody(), marker) && !strings.Contains(c.GetBody(), "\n"+marker) {
				continue
			}
			if strings.EqualFold(c.GetUser().GetLogin(), s.login) {
				ours = append(ours, c)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	// Comment ids grow with time; created_at has only seconds.
	sort.SliceStable(ours, func(i, j int) bool {
		ti, tj := ours[i].GetCreatedAt().Time, ours[j].GetCreatedAt().Time
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return ours[i].GetID() < ours[j].GetID()
	})
	return ours, nil
}

func isNotFound(err error) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

func wrap(what string, err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%s: %w: %v", what, ErrForbidden, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
