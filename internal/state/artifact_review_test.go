package state

import (
	"errors"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// artifactBackend is the artifact backend of one trusted run (a push on
// main) against s, as apply, status and refresh build it.
func artifactBackend(t *testing.T, s *ghemu.Server, sha string) *Artifact {
	t.Helper()
	run := s.AddRun(ghemu.Run{Event: "push", HeadSHA: sha, HeadBranch: "main"})
	up, err := artifacts.NewUploader(s.ResultsURL(), s.RuntimeToken(run), s.Client())
	if err != nil {
		t.Fatal(err)
	}
	gh := s.GitHubClient(ghemu.DefaultToken)
	return &Artifact{Finder: artifacts.NewFinder(gh, ghemu.DefaultOwner, ghemu.DefaultRepo, s.Client()),
		Trust:    &Trust{Runs: &GitHubRuns{GH: gh, Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo}, DefaultBranch: "main", Repo: ghemu.DefaultOwner + "/" + ghemu.DefaultRepo},
		Uploader: up, Name: "arena-state-prod", Env: "prod", Now: s.Now}
}

// TestArtifactLoserIsNotTheNextState: two runs save from the same state
// without a lock; the one that uploads last finds the other's upload and
// fails ErrConflict. Its artifact is nonetheless the newest: the next run
// must not load it as the state (that silently drops the winner's update),
// it must fail ErrConflict naming both, until one is deleted.
func TestArtifactLoserIsNotTheNextState(t *testing.T) {
	s := ghemu.New(t)
	first := artifactBackend(t, s, "sha0")
	base, err := first.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Save(ctx, &Write{State: st("prod", "s1"), Message: "apply"}, base); err != nil {
		t.Fatal(err)
	}
	winner, loser := artifactBackend(t, s, "sha1"), artifactBackend(t, s, "sha2")
	wbase, err := winner.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lbase, err := loser.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The loser (a status run re-uploading s1, say) has checked that s1 is
	// still the newest; the winner's apply saves s2 before its upload.
	s.Inject("POST "+ghemu.TwirpPrefix+"CreateArtifact", ghemu.Fault{Before: func() {
		if _, err := winner.Save(ctx, &Write{State: st("prod", "s2"), Message: "apply", Commit: "sha1", PlanID: "p2"}, wbase); err != nil {
			t.Errorf("winner: %v", err)
		}
	}})
	if _, err := loser.Save(ctx, &Write{State: lbase.State, Message: "status"}, lbase); !errors.Is(err, ErrConflict) {
		t.Fatalf("loser: %v, want ErrConflict", err)
	}
	next, err := artifactBackend(t, s, "sha3").Load(ctx)
	if err == nil && next.State.State == "s1" {
		t.Fatalf("the next run loaded the loser's state s1 (serial %d): the winner's s2 is lost", next.Serial())
	}
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("next load: %v, want ErrConflict", err)
	}
}
