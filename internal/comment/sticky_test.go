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
