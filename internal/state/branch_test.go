package state

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

const (
	stateBranch = "arena-deploy-state"
	dir         = "prod-1234abcd"
)

func newBranch(s *ghemu.Server, d string) *Branch {
	return &Branch{GH: s.GitHubClient(ghemu.DefaultToken), Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo,
		Branch: stateBranch, Dir: d, Env: "prod", Lock: LockOptions{Now: s.Now, Sleep: func(context.Context, time.Duration) error { return nil }}}
}

func holder(run int64) Holder {
	return Holder{RunID: run, Attempt: 1, Commit: "abc1234", Actor: "octocat", Target: dir, RunURL: "https://github.com/octo-org/app/actions/runs/1"}
}

// apply is one run's lock, load and save, as an apply does it.
func apply(t *testing.T, b *Branch, run int64, adapterState string, pack []byte) (*Snapshot, string) {
	t.Helper()
	if _, err := b.LockTarget(ctx, holder(run), 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := b.Save(ctx, &Write{State: st("prod", adapterState), Message: "apply", Commit: "c" + adapterState, PlanID: "p" + adapterState, RunID: run, Pack: pack}, snap)
	if err != nil {
		t.Fatal(err)
	}
	return snap, ref
}

func TestBranchApplyCycle(t *testing.T) {
	s := ghemu.New(t)
	b := newBranch(s, dir)
	_, ref := apply(t, b, 1, "s1", []byte(`{"id":"pack-1"}`))
	if s.Head(stateBranch) != ref {
		t.Fatalf("head %s, saved %s", s.Head(stateBranch), ref)
	}
	// The orphan's first commit has no parent; the save's parent is the lock's commit.
	parents := s.Parents(ref)
	if len(parents) != 1 || len(s.Parents(parents[0])) != 0 {
		t.Errorf("history: %v / %v", parents, s.Parents(parents[0]))
	}
	if _, ok := s.GetFile(stateBranch, dir+"/lock.json"); ok {
		t.Error("lock not released by the save")
	}
	raw, _ := s.GetFile(stateBranch, dir+"/deploy.state")
	var ds deploy.State
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields() // PromptKit's format, nothing added
	if err := dec.Decode(&ds); err != nil || ds.State != "s1" {
		t.Fatalf("deploy.state %s: %v", raw, err)
	}
	b2 := newBranch(s, dir)
	snap, ref2 := apply(t, b2, 2, "s2", []byte(`{"id":"pack-2"}`))
	if snap.State.State != "s1" || snap.Record.Serial != 1 || snap.Record.Commit != "cs1" || snap.Record.PlanID != "ps1" {
		t.Errorf("loaded %+v %+v", snap.State, snap.Record)
	}
	pack, err := newBranch(s, dir).LoadDeployedPack(ctx)
	if err != nil || string(pack) != `{"id":"pack-2"}` {
		t.Errorf("deployed pack %s %v", pack, err)
	}
	if none, err := newBranch(s, "other-00000000").LoadDeployedPack(ctx); none != nil || err != nil {
		t.Errorf("no pack: %s %v", none, err)
	}
	// A destroy removes state and pack, keeps the record counting.
	b3 := newBranch(s, dir)
	if _, err := b3.LockTarget(ctx, holder(3), 0); err != nil {
		t.Fatal(err)
	}
	cur, _ := b3.Load(ctx)
	if err := b3.Delete(ctx, cur, "destroy"); err != nil {
		t.Fatal(err)
	}
	gone, _ := newBranch(s, dir).Load(ctx)
	if gone.State != nil || gone.Record.Serial != 3 || gone.Record.Commit != "cs2" {
		t.Errorf("after destroy: %+v %+v", gone.State, gone.Record)
	}
	for _, f := range []string{"deploy.state", "deployed.pack.json", "lock.json"} {
		if _, ok := s.GetFile(stateBranch, dir+"/"+f); ok {
			t.Errorf("%s left after destroy", f)
		}
	}
	_ = ref2
}

func TestBranchLock(t *testing.T) {
	t.Run("held: waits, then names the holder", func(t *testing.T) {
		s := ghemu.New(t)
		if _, err := newBranch(s, dir).LockTarget(ctx, holder(1), 0); err != nil {
			t.Fatal(err)
		}
		polls := 0
		b := newBranch(s, dir)
		b.Lock.Sleep = func(context.Context, time.Duration) error { polls++; s.Advance(time.Second); return nil }
		_, err := b.LockTarget(ctx, holder(2), 10*time.Second)
		if !errors.Is(err, deploy.ErrLocked) || !strings.Contains(err.Error(), "run 1 (attempt 1) by octocat") || !strings.Contains(err.Error(), "actions/runs/1") {
			t.Fatalf("err %v", err)
		}
		if polls < 5 || polls > 12 {
			t.Errorf("%d polls in 10 s", polls)
		}
	})
	t.Run("released while waiting: taken", func(t *testing.T) {
		s := ghemu.New(t)
		first, err := newBranch(s, dir).LockTarget(ctx, holder(1), 0)
		if err != nil {
			t.Fatal(err)
		}
		b := newBranch(s, dir)
		b.Lock.Sleep = func(context.Context, time.Duration) error { return first.Release(ctx) }
		if _, err := b.LockTarget(ctx, holder(2), time.Minute); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("expired: taken over with a warning", func(t *testing.T) {
		s := ghemu.New(t)
		if _, err := newBranch(s, dir).LockTarget(ctx, holder(1), 0); err != nil {
			t.Fatal(err)
		}
		s.Advance(LockTTL + time.Minute)
		var warned string
		b := newBranch(s, dir)
		b.Lock.Warn = func(f string, a ...any) { warned = f }
		if _, err := b.LockTarget(ctx, holder(2), 0); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(warned, "Took over") {
			t.Errorf("warning %q", warned)
		}
		raw, _ := s.GetFile(stateBranch, dir+"/lock.json")
		if !strings.Contains(string(raw), `"run_id": 2`) {
			t.Errorf("lock %s", raw)
		}
	})
	t.Run("lost answer to our lock write: we hold it", func(t *testing.T) {
		s := ghemu.New(t)
		apply(t, newBranch(s, dir), 1, "s1", nil) // the branch exists
		s.Inject("PUT /repos/{owner}/{repo}/contents/{path...}", ghemu.Fault{DropAnswer: true})
		b := newBranch(s, dir)
		if _, err := b.LockTarget(ctx, holder(2), 0); err != nil {
			t.Fatal(err)
		}
		snap, _ := b.Load(ctx)
		if _, err := b.Save(ctx, &Write{State: st("prod", "s2"), Message: "apply"}, snap); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("other targets' locks are theirs", func(t *testing.T) {
		s := ghemu.New(t)
		if _, err := newBranch(s, "staging-00000001").LockTarget(ctx, holder(1), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := newBranch(s, dir).LockTarget(ctx, holder(2), 0); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBranchRefusals(t *testing.T) {
	for _, status := range []int{409, 422, 403} {
		t.Run("protected "+refusalName(status), func(t *testing.T) {
			s := ghemu.New(t)
			apply(t, newBranch(s, dir), 1, "s1", nil)
			s.Protect(stateBranch, status)
			_, err := newBranch(s, dir).LockTarget(ctx, holder(2), time.Minute)
			if !errors.Is(err, ErrNotWritable) {
				t.Fatalf("err %v", err)
			}
		})
	}
	t.Run("read-only token, no branch yet", func(t *testing.T) {
		s := ghemu.New(t)
		s.AddToken("ghs_readonly", "github-actions[bot]", map[string]string{"contents": ghemu.Read, "metadata": ghemu.Read})
		b := newBranch(s, dir)
		b.GH = s.GitHubClient("ghs_readonly")
		if _, err := b.LockTarget(ctx, holder(1), 0); !errors.Is(err, ErrNotWritable) {
			t.Fatalf("err %v", err)
		}
	})
}

func refusalName(status int) string {
	return map[int]string{409: "409 ruleset", 422: "422 protection", 403: "403 token"}[status]
}

func TestBranchSaveRaces(t *testing.T) {
	t.Run("another target moved the branch: retried", func(t *testing.T) {
		s := ghemu.New(t)
		apply(t, newBranch(s, dir), 1, "s1", nil)
		b := newBranch(s, dir)
		if _, err := b.LockTarget(ctx, holder(2), 0); err != nil {
			t.Fatal(err)
		}
		snap, _ := b.Load(ctx)
		apply(t, newBranch(s, "staging-00000001"), 3, "other", nil)
		if _, err := b.Save(ctx, &Write{State: st("prod", "s2"), Message: "apply"}, snap); err != nil {
			t.Fatal(err)
		}
		for d, want := range map[string]string{dir: "s2", "staging-00000001": "other"} {
			got, _ := newBranch(s, d).Load(ctx)
			if got.State.State != want {
				t.Errorf("%s: %q", d, got.State.State)
			}
		}
	})
	t.Run("lost answer to the ref update: success", func(t *testing.T) {
		s := ghemu.New(t)
		apply(t, newBranch(s, dir), 1, "s1", nil)
		s.Inject("PATCH /repos/{owner}/{repo}/git/refs/{ref...}", ghemu.Fault{DropAnswer: true})
		_, ref := apply(t, newBranch(s, dir), 2, "s2", nil)
		if got, _ := newBranch(s, dir).Load(ctx); got.State.State != "s2" || got.Record.Serial != 2 || s.Head(stateBranch) != ref {
			t.Errorf("after lost answer: %+v head %s ref %s", got.Record, s.Head(stateBranch), ref)
		}
	})
	t.Run("our lock taken over while we deployed: conflict, theirs kept", func(t *testing.T) {
		s := ghemu.New(t)
		apply(t, newBranch(s, dir), 1, "s1", nil)
		slow := newBranch(s, dir)
		if _, err := slow.LockTarget(ctx, holder(2), 0); err != nil {
			t.Fatal(err)
		}
		snap, _ := slow.Load(ctx)
		s.Advance(LockTTL + time.Minute)
		apply(t, newBranch(s, dir), 3, "s3", nil)
		_, err := slow.Save(ctx, &Write{State: st("prod", "s2"), Message: "apply"}, snap)
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("err %v", err)
		}
		if got, _ := newBranch(s, dir).Load(ctx); got.State.State != "s3" {
			t.Errorf("state %q", got.State.State)
		}
	})
}

func TestBranchMigratesLegacyState(t *testing.T) {
	s := ghemu.New(t)
	s.SetFile("main", ".promptarena/deploy.state", []byte(`{"version":1,"provider":"local","environment":"prod","state":"old"}`))
	b := newBranch(s, dir)
	b.Legacy = &Git{GH: b.GH, Owner: b.Owner, Repo: b.Repo, Branch: "main", Path: ".promptarena/deploy.state", Env: "prod"}
	if _, err := b.LockTarget(ctx, holder(1), 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil || snap.State.State != "old" || snap.Migrated == "" {
		t.Fatalf("%+v %v", snap, err)
	}
	if _, err := b.Save(ctx, &Write{State: st("prod", "new"), Message: "apply"}, snap); err != nil {
		t.Fatal(err)
	}
	// Read once: the record now exists, the old file is not read again.
	s.ResetLog()
	again := newBranch(s, dir)
	again.Legacy = b.Legacy
	if got, _ := again.Load(ctx); got.State.State != "new" || got.Migrated != "" {
		t.Errorf("%+v", got)
	}
	if n := s.CountRequests("GET /repos/octo-org/app/contents/.promptarena"); n != 0 {
		t.Errorf("legacy read %d times", n)
	}
}

func TestBranchLargeState(t *testing.T) {
	s := ghemu.New(t)
	big := strings.Repeat("x", 1_200_000) // over the contents API's 1 MB
	apply(t, newBranch(s, dir), 1, big, nil)
	got, err := newBranch(s, dir).Load(ctx)
	if err != nil || got.State.State != big {
		t.Fatalf("large state: %v", err)
	}
	if s.CountRequests("GET /repos/octo-org/app/git/blobs/") == 0 {
		t.Error("not read through the blobs API")
	}
}

// TestLockReleaseRetried: a release refused once (another target committed
// at that moment) is tried again, so a failed run does not block deploys
// until its lock expires.
func TestLockReleaseRetried(t *testing.T) {
	s := ghemu.New(t)
	apply(t, newBranch(s, dir), 1, "s1", nil)
	lease, err := newBranch(s, dir).LockTarget(ctx, holder(2), 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Inject("DELETE /repos/{owner}/{repo}/contents/{path...}", ghemu.Fault{Status: 409})
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.GetFile(stateBranch, dir+"/lock.json"); ok {
		t.Error("lock not released")
	}
}

// TestCommittedFileCarriesTheFirstReleasesState: the committed file of the
// first release (the state alone, no record) is read as the state; the
// first write puts the record beside it, in the same commit, with the lock
// released; a merge landing on the branch meanwhile is kept; a destroy
// deletes the state and keeps the record, so nothing older applies after.
func TestCommittedFileCarriesTheFirstReleasesState(t *testing.T) {
	s := ghemu.New(t)
	const p = "app/.promptarena/deploy.state"
	s.SetFile("main", p, []byte(`{"version":1,"provider":"local","environment":"prod","state":"old"}`))
	b := committed(s)
	b.Lock = LockOptions{Now: s.Now}
	if _, err := b.LockTarget(ctx, holder(1), 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil || snap.State.State != "old" || snap.Record != nil {
		t.Fatalf("%+v %v", snap, err)
	}
	s.SetFile("main", "README.md", []byte("a merge meanwhile"))
	ref, err := b.Save(ctx, &Write{State: st("prod", "new"), Message: "apply", Commit: "c1", PlanID: "p1"}, snap)
	if err != nil {
		t.Fatal(err)
	}
	if s.Head("main") != ref {
		t.Fatalf("head %s, saved %s", s.Head("main"), ref)
	}
	if readme, _ := s.GetFile("main", "README.md"); string(readme) != "a merge meanwhile" {
		t.Error("the merge made meanwhile was lost")
	}
	if _, ok := s.GetFile("main", p+".lock"); ok {
		t.Error("lock not released by the save")
	}
	got, err := committed(s).Load(ctx)
	if err != nil || got.State.State != "new" || got.Record == nil || got.Record.Commit != "c1" || got.Record.PlanID != "p1" || got.Record.Serial != 1 {
		t.Fatalf("after the first write: %+v %v", got, err)
	}
	if raw, _ := s.GetFile("main", p); !strings.Contains(string(raw), `"state": "new"`) {
		t.Errorf("deploy.state is not the state: %s", raw)
	}
	if err := committed(s).Delete(ctx, got, "destroy"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.GetFile("main", p); ok {
		t.Error("the state file outlived the destroy")
	}
	gone, err := committed(s).Load(ctx)
	if err != nil || gone.State != nil || gone.Record == nil || gone.Record.Commit != "c1" || gone.Record.PlanID != "" {
		t.Fatalf("after the destroy: %+v %v", gone, err)
	}
}

// TestCommittedFileDestroyOfTheFirstReleasesState: destroying a state
// still in the first release's form deletes that file too.
func TestCommittedFileDestroyOfTheFirstReleasesState(t *testing.T) {
	s := ghemu.New(t)
	const p = "app/.promptarena/deploy.state"
	s.SetFile("main", p, []byte(`{"version":1,"provider":"local","environment":"prod","state":"old"}`))
	snap, err := committed(s).Load(ctx)
	if err != nil || snap.State == nil {
		t.Fatalf("%+v %v", snap, err)
	}
	if err := committed(s).Delete(ctx, snap, "destroy"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.GetFile("main", p); ok {
		t.Error("the state file outlived the destroy")
	}
}

// TestCommittedFileOfTheFirstReleaseRefused: the first release's file is
// checked as any state is: another environment's, a damaged one and a
// newer version's are refused.
func TestCommittedFileOfTheFirstReleaseRefused(t *testing.T) {
	for content, want := range map[string]error{
		`{"version":1,"environment":"staging"}`: ErrOtherEnvironment,
		`{"version":`:                           deploy.ErrCorrupt,
		`{"version":9}`:                         deploy.ErrNewerVersion,
	} {
		s := ghemu.New(t)
		s.SetFile("main", "app/.promptarena/deploy.state", []byte(content))
		if _, err := committed(s).Load(ctx); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", content, err, want)
		}
	}
}
