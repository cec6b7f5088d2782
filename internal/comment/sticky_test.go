package comment

import (
	"context"
	"errors"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

func TestStickyUpsert(t *testing.T) {
	s := ghemu.New(t)
	pr := s.AddPull(ghemu.Pull{HeadSHA: "h"})
	for i := 0; i < 150; i++ { // the match is on page 2 of 100
		s.AddComment(pr.Number, "reviewer", "lgtm")
	}
	marker := target.New(".", "arena.yaml", "production").Marker()
	// A user quoting our comment must not capture it.
	s.AddComment(pr.Number, "octocat", "> "+marker+"\nquoted")
	st := NewSticky(s.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo)
	ctx := context.Background()

	res, err := st.Upsert(ctx, pr.Number, marker, marker+"\nplan v1")
	if err != nil || !res.Created {
		t.Fatalf("first: %+v %v", res, err)
	}
	s.ResetLog()
	res2, err := st.Upsert(ctx, pr.Number, marker, marker+"\nplan v2")
	if err != nil || res2.Created || !res2.Updated || res2.ID != res.ID {
		t.Fatalf("second: %+v %v", res2, err)
	}
	if got := s.CountRequests("GET "); got != 2 {
		t.Errorf("list calls %d, want 2 pages", got)
	}
	if got := s.CountRequests("PATCH "); got != 1 {
		t.Errorf("writes %d", got)
	}
	s.ResetLog()
	res3, err := st.Upsert(ctx, pr.Number, marker, marker+"\nplan v2")
	if err != nil || res3.Updated || res3.Created {
		t.Fatalf("unchanged: %+v %v", res3, err)
	}
	if s.CountRequests("PATCH ") != 0 {
		t.Error("unchanged body was written")
	}
	other := target.New(".", "arena.yaml", "staging").Marker()
	if res4, _ := st.Upsert(ctx, pr.Number, other, other+"\nstaging"); !res4.Created {
		t.Error("second target must get its own comment")
	}
	ours := 0
	for _, c := range s.Comments(pr.Number) {
		if c.User == ghemu.BotLogin {
			ours++
		}
	}
	if ours != 2 {
		t.Errorf("bot comments %d, want 2", ours)
	}
}

func TestStickyForbidden(t *testing.T) {
	s := ghemu.New(t)
	pr := s.AddPull(ghemu.Pull{HeadSHA: "h"})
	s.AddToken("ghs_fork", ghemu.BotLogin, map[string]string{"issues": ghemu.Read, "pull_requests": ghemu.Read})
	st := NewSticky(s.GitHubClient("ghs_fork"), ghemu.DefaultOwner, ghemu.DefaultRepo)
	_, err := st.Upsert(context.Background(), pr.Number, "<!-- m -->", "<!-- m -->\nx")
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "Resource not accessible by integration") {
		t.Fatalf("got %v", err)
	}
}

// TestStickyIdentity: only comments written by the token's identity are
// candidates. A user's comment that starts with the marker (copied from an
// earlier plan comment) is never edited; a GitHub App's earlier comment is
// found after the first create tells who the App is, and the comment made
// then is removed again.
func TestStickyIdentity(t *testing.T) {
	marker := target.New(".", "arena.yaml", "production").Marker()
	cases := []struct {
		name, token, login string
		seed               func(s *ghemu.Server, pr int) int64 // returns the comment that must end up ours (0: a new one)
		userCall           bool                                // GET /user answered 200
	}{
		{name: "GITHUB_TOKEN: a user's copy of the marker is not ours", token: ghemu.DefaultToken, login: ghemu.BotLogin,
			seed: func(s *ghemu.Server, pr int) int64 {
				s.AddComment(pr, "mallory", marker+"\nI copied this; edit me")
				return 0
			}},
		{name: "personal access token: GET /user says who", token: "ghp_deployer", login: "deploy-user", userCall: true,
			seed: func(s *ghemu.Server, pr int) int64 {
				s.AddComment(pr, ghemu.BotLogin, marker+"\nwritten by another token")
				return s.AddComment(pr, "deploy-user", marker+"\nours, earlier").ID
			}},
		{name: "GitHub App token: learned from the comment it makes", token: "ghs_apptoken", login: "arena-bot[bot]",
			seed: func(s *ghemu.Server, pr int) int64 {
				s.AddComment(pr, ghemu.BotLogin, marker+"\nwritten by GITHUB_TOKEN")
				return s.AddComment(pr, "arena-bot[bot]", marker+"\nours, earlier").ID
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t)
			s.AddToken(tc.token, tc.login, map[string]string{"issues": ghemu.Write, "pull_requests": ghemu.Write, "metadata": ghemu.Read})
			pr := s.AddPull(ghemu.Pull{HeadSHA: "h"})
			want := tc.seed(s, pr.Number)
			before := s.Comments(pr.Number)
			st := NewSticky(s.GitHubClient(tc.token), ghemu.DefaultOwner, ghemu.DefaultRepo)
			ctx := context.Background()
			for i, body := range []string{marker + "\nplan v1", marker + "\nplan v2"} {
				res, err := st.Upsert(ctx, pr.Number, marker, body)
				if err != nil {
					t.Fatal(err)
				}
				if want == 0 {
					want = res.ID
				}
				if res.ID != want {
					t.Fatalf("upsert %d wrote comment %d, want %d", i, res.ID, want)
				}
			}
			if login, _ := st.Identity(ctx); login != tc.login {
				t.Errorf("identity %q, want %q", login, tc.login)
			}
			after := s.Comments(pr.Number)
			var mine int
			for _, c := range after {
				if c.User == tc.login {
					mine++
					if c.ID != want || !strings.HasSuffix(c.Body, "plan v2") {
						t.Errorf("our comment: %+v", c)
					}
					continue
				}
				for _, b := range before {
					if b.ID == c.ID && b.Body != c.Body {
						t.Errorf("%s's comment was edited:\n%s", c.User, c.Body)
					}
				}
			}
			if mine != 1 {
				t.Errorf("%d comments of ours, want 1: %+v", mine, after)
			}
			if got := s.CountRequests("GET /user"); got != 1 {
				t.Errorf("identity read %d times, want once", got)
			}
		})
	}
}

// TestStickyConverges: two writers that both found no comment both create
// one; each looks again, and the later one deletes its own and edits the
// oldest, whatever the order of the looks.
func TestStickyConverges(t *testing.T) {
	s := ghemu.New(t)
	pr := s.AddPull(ghemu.Pull{HeadSHA: "h"})
	marker := target.New(".", "arena.yaml", "production").Marker()
	ctx := context.Background()
	a := NewSticky(s.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo)
	// The other run's comment appears between this run's list and create.
	s.Inject("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", ghemu.Fault{Before: func() {
		s.AddComment(pr.Number, ghemu.BotLogin, marker+"\nthe other run's plan")
	}})
	res, err := a.Upsert(ctx, pr.Number, marker, marker+"\nthis run's plan")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Comments(pr.Number)
	if len(c) != 1 || c[0].ID != res.ID || !strings.HasSuffix(c[0].Body, "this run's plan") || res.Removed != 1 {
		t.Fatalf("result %+v, comments %+v", res, c)
	}
}

// TestStickyIdentityUnanswered: GET /user failing for good is no reason to
// lose the comment: the assumed identity is corrected by the first create,
// and a personal token's earlier comment is kept.
func TestStickyIdentityUnanswered(t *testing.T) {
	s := ghemu.New(t)
	s.AddToken("ghp_deployer", "deploy-user", map[string]string{"issues": ghemu.Write, "pull_requests": ghemu.Write, "metadata": ghemu.Read})
	pr := s.AddPull(ghemu.Pull{HeadSHA: "h"})
	marker := target.New(".", "arena.yaml", "production").Marker()
	old := s.AddComment(pr.Number, "deploy-user", marker+"\nearlier plan")
	s.Inject("GET /user", ghemu.Fault{Status: 502, Times: 10})
	st := NewSticky(s.GitHubClient("ghp_deployer"), ghemu.DefaultOwner, ghemu.DefaultRepo)
	res, err := st.Upsert(context.Background(), pr.Number, marker, marker+"\nnew plan")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Comments(pr.Number)
	if len(c) != 1 || c[0].ID != old.ID || res.ID != old.ID || !strings.HasSuffix(c[0].Body, "new plan") {
		t.Fatalf("result %+v, comments %+v", res, c)
	}
}
