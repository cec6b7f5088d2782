package mergedpr

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

func TestFind(t *testing.T) {
	const sha = "merge0001"
	cases := []struct {
		name    string
		setup   func(s *ghemu.Server)
		message string
		want    int
		lookups int    // calls to commits/{sha}/pulls
		warned  string // in the warnings
	}{
		{name: "merge commit of our pull request", setup: func(s *ghemu.Server) {
			s.MergePull(s.AddPull(ghemu.Pull{HeadSHA: "head1"}).Number, sha)
		}, want: 1, lookups: 1},
		{name: "a fork's and another base's pull requests are never taken", setup: func(s *ghemu.Server) {
			s.AddPull(ghemu.Pull{HeadSHA: "unrelated"}) // #1 here, open
			s.AddForeignPull(sha, ghemu.Pull{Number: 1, BaseRepo: "contributor/app", HeadSHA: "forkhead", Merged: true, State: "closed", MergeCommitSHA: sha})
			s.AddForeignPull(sha, ghemu.Pull{Number: 7, BaseRepo: "octo-org/app-mirror", HeadSHA: "mirrorhd", Merged: true, State: "closed", MergeCommitSHA: sha})
		}, message: "Sync from upstream", want: 0, lookups: 4, warned: "Ignoring pull request contributor/app#1"},
		{name: "ours after foreign ones", setup: func(s *ghemu.Server) {
			s.AddForeignPull(sha, ghemu.Pull{Number: 3, BaseRepo: "contributor/app", HeadSHA: "forkhead", Merged: true, State: "closed", MergeCommitSHA: sha})
			s.AddPull(ghemu.Pull{HeadSHA: "other"})
			s.MergePull(s.AddPull(ghemu.Pull{HeadSHA: "head2"}).Number, sha)
		}, want: 2, lookups: 1},
		{name: "an open pull request holding the commit is not the merged one", setup: func(s *ghemu.Server) {
			s.AddPull(ghemu.Pull{HeadSHA: sha})
		}, want: 0, lookups: 4},
		{name: "fast-forward: head is the pushed sha", setup: func(s *ghemu.Server) {
			p := s.AddPull(ghemu.Pull{HeadSHA: sha})
			s.MergePull(p.Number, "elsewhere") // AddPull associated its head
		}, want: 1, lookups: 1},
		{name: "association lags: asked again", setup: func(s *ghemu.Server) {
			s.MergePull(s.AddPull(ghemu.Pull{HeadSHA: "head1"}).Number, sha)
			s.LagAssociation(sha, 2)
		}, want: 1, lookups: 3},
		{name: "association lags too long: #N of the message, loudly", setup: func(s *ghemu.Server) {
			s.MergePull(s.AddPull(ghemu.Pull{HeadSHA: "head1"}).Number, sha)
			s.LagAssociation(sha, 10)
		}, message: "Add a prompt (#1)", want: 1, lookups: 4, warned: "using #1 named in the commit message"},
		{name: "#N of the message that merged something else", setup: func(s *ghemu.Server) {
			s.MergePull(s.AddPull(ghemu.Pull{HeadSHA: "head1"}).Number, "another1")
		}, message: "Revert \"Add a prompt (#1)\"", want: 0, lookups: 4, warned: "did not merge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t)
			tc.setup(s)
			var warnings []string
			var slept time.Duration
			f := &Finder{GH: s.GitHubClient(ghemu.DefaultToken), Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo,
				Sleep: func(_ context.Context, d time.Duration) error { slept += d; return nil },
				Warn:  func(format string, a ...any) { warnings = append(warnings, fmt.Sprintf(format, a...)) }}
			got, err := f.Find(context.Background(), sha, tc.message)
			if err != nil {
				t.Fatal(err)
			}
			if got.Number != tc.want {
				t.Errorf("found #%d (%s), want #%d", got.Number, got.How, tc.want)
			}
			if n := s.CountRequests("GET /repos/octo-org/app/commits/"); n != tc.lookups {
				t.Errorf("%d lookups, want %d", n, tc.lookups)
			}
			if tc.lookups == 4 && slept != 14*time.Second {
				t.Errorf("waited %s in all, want 2+4+8s", slept)
			}
			if all := strings.Join(warnings, "\n"); !strings.Contains(all, tc.warned) {
				t.Errorf("warnings lack %q:\n%s", tc.warned, all)
			}
		})
	}
}
