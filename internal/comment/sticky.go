package comment

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// ErrForbidden is matched when the token may not write comments (fork pull
// requests, read-only tokens).
var ErrForbidden = errors.New("not allowed to comment")

// Sticky keeps one comment per marker on a pull request.
type Sticky struct {
	gh          *github.Client
	owner, repo string
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
}

// Upsert finds the comment holding marker on pull request number (reading
// every page) and edits it if its body differs, or creates it. Among several
// matches it prefers one written by a bot, as ours are, so a user quoting
// our comment never captures it.
func (s *Sticky) Upsert(ctx context.Context, number int, marker, body string) (Result, error) {
	existing, err := s.find(ctx, number, marker)
	if err != nil {
		return Result{}, err
	}
	if existing != nil {
		res := Result{ID: existing.GetID(), URL: existing.GetHTMLURL()}
		if existing.GetBody() == body {
			return res, nil
		}
		c, _, err := s.gh.Issues.EditComment(ctx, s.owner, s.repo, existing.GetID(), &github.IssueComment{Body: github.String(body)})
		if err != nil {
			return res, wrap("update comment", err)
		}
		res.Updated, res.URL = true, c.GetHTMLURL()
		return res, nil
	}
	c, _, err := s.gh.Issues.CreateComment(ctx, s.owner, s.repo, number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return Result{}, wrap("create comment", err)
	}
	return Result{ID: c.GetID(), URL: c.GetHTMLURL(), Created: true}, nil
}

// Update edits a comment already found by Upsert (no listing).
func (s *Sticky) Update(ctx context.Context, id int64, body string) (Result, error) {
	c, _, err := s.gh.Issues.EditComment(ctx, s.owner, s.repo, id, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return Result{ID: id}, wrap("update comment", err)
	}
	return Result{ID: id, URL: c.GetHTMLURL(), Updated: true}, nil
}

func (s *Sticky) find(ctx context.Context, number int, marker string) (*github.IssueComment, error) {
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var found *github.IssueComment
	for {
		page, resp, err := s.gh.Issues.ListComments(ctx, s.owner, s.repo, number, opt)
		if err != nil {
			return nil, wrap("list comments", err)
		}
		for _, c := range page {
			if !strings.HasPrefix(c.GetBody(), marker) && !strings.Contains(c.GetBody(), "\n"+marker) {
				continue
			}
			isBot := c.GetUser().GetType() == "Bot"
			if found == nil || (isBot && found.GetUser().GetType() != "Bot") {
				found = c
			}
		}
		if resp.NextPage == 0 {
			return found, nil
		}
		opt.Page = resp.NextPage
	}
}

func wrap(what string, err error) error {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%s: %w: %v", what, ErrForbidden, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
