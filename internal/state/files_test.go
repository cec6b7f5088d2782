package state

import (
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestFilesBesideTheState: a file written with the state (the evaluation
// baseline) lands in the same commit as deploy.state, is read back, and
// stays when a later write does not give it (a refresh, a status).
func TestFilesBesideTheState(t *testing.T) {
	s := ghemu.New(t)
	b := newBranch(s, dir)
	if _, err := b.LockTarget(ctx, holder(1), 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := b.Save(ctx, &Write{State: st("prod", "s1"), Message: "apply", Commit: "c1", PlanID: "p1",
		Files: map[string][]byte{"evaluations.json": []byte(`{"n":1}`)}}, snap)
	if err != nil {
		t.Fatal(err)
	}
	// One commit holds both: the state and the file.
	if len(s.Parents(ref)) != 1 {
		t.Fatalf("parents %v", s.Parents(ref))
	}
	changed := changedIn(t, s, ref)
	if !changed["deploy.state"] || !changed["evaluations.json"] {
		t.Errorf("the save commit changed %v; want deploy.state and evaluations.json in it", changed)
	}
	got, err := newBranch(s, dir).LoadFile(ctx, "evaluations.json")
	if err != nil || string(got) != `{"n":1}` {
		t.Fatalf("LoadFile: %s %v", got, err)
	}
	// A write without the file keeps it.
	b2 := newBranch(s, dir)
	snap2, err := b2.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Save(ctx, &Write{State: st("prod", "s2"), Message: "refresh"}, snap2); err != nil {
		t.Fatal(err)
	}
	if got, _ := newBranch(s, dir).LoadFile(ctx, "evaluations.json"); string(got) != `{"n":1}` {
		t.Errorf("after a write without it: %q", got)
	}
	if none, err := newBranch(s, dir).LoadFile(ctx, "nothing.json"); none != nil || err != nil {
		t.Errorf("no such file: %q %v", none, err)
	}
}

// changedIn names the files of the target folder a commit changed from
// its parent.
func changedIn(t *testing.T, s *ghemu.Server, sha string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	gh := s.GitHubClient(ghemu.DefaultToken)
	c, _, err := gh.Git.GetCommit(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, sha)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := gh.Git.GetCommit(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, c.Parents[0].GetSHA())
	if err != nil {
		t.Fatal(err)
	}
	blobs := func(tree string) map[string]string {
		tr, _, err := gh.Git.GetTree(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, tree, true)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, e := range tr.Entries {
			m[e.GetPath()] = e.GetSHA()
		}
		return m
	}
	now, before := blobs(c.GetTree().GetSHA()), blobs(p.GetTree().GetSHA())
	for path, sha := range now {
		if before[path] != sha && len(path) > len(dir)+1 && path[:len(dir)+1] == dir+"/" {
			out[path[len(dir)+1:]] = true
		}
	}
	return out
}

// TestArtifactFilesBesideTheState: the state artifact carries the file,
// and a later upload without it (status keeping the artifact alive) keeps
// it; an artifact whose state is gone (destroy) does not.
func TestArtifactFilesBesideTheState(t *testing.T) {
	s := ghemu.New(t)
	a := artifactBackend(t, s, "sha0")
	base, err := a.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Save(ctx, &Write{State: st("prod", "s1"), Message: "apply", Files: map[string][]byte{"evaluations.json": []byte("b1")}}, base); err != nil {
		t.Fatal(err)
	}
	status := artifactBackend(t, s, "sha1")
	snap, err := status.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(snap.Files["evaluations.json"]) != "b1" {
		t.Fatalf("loaded files %v", snap.Files)
	}
	if _, err := status.Save(ctx, &Write{State: snap.State, Message: "status"}, snap); err != nil {
		t.Fatal(err)
	}
	next := artifactBackend(t, s, "sha2")
	if got, err := next.LoadFile(ctx, "evaluations.json"); err != nil || string(got) != "b1" {
		t.Errorf("after a status upload: %q %v", got, err)
	}
	snap, _ = next.Load(ctx)
	if err := next.Delete(ctx, snap, "destroy"); err != nil {
		t.Fatal(err)
	}
	if got, _ := artifactBackend(t, s, "sha3").LoadFile(ctx, "evaluations.json"); got != nil {
		t.Errorf("after a destroy the file stayed: %q", got)
	}
}

// TestCommittedFilesBesideTheState: beside the committed file, a file
// written with the state is <state-path>.<name>, in the same commit.
func TestCommittedFilesBesideTheState(t *testing.T) {
	s := ghemu.New(t)
	s.SetFile("main", "README.md", []byte("hello"))
	b := committed(s)
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Save(ctx, &Write{State: st("prod", "s1"), Message: "apply", Files: map[string][]byte{"evaluations.json": []byte(`{"n":1}`)}}, snap); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.GetFile("main", "app/.promptarena/deploy.state.evaluations.json"); !ok || string(got) != `{"n":1}` {
		t.Fatalf("file beside the state: %q %v", got, ok)
	}
	if got, err := committed(s).LoadFile(ctx, "evaluations.json"); err != nil || string(got) != `{"n":1}` {
		t.Fatalf("LoadFile: %q %v", got, err)
	}
}
