package state

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

const witnessName = "arena-witness-prod-1234abcd"

// runOf is the context of one workflow run against s: its uploader, as
// that run's own steps (ours or anyone's) upload artifacts.
func runOf(t *testing.T, s *ghemu.Server, r ghemu.Run) *artifacts.Uploader {
	t.Helper()
	run := s.AddRun(r)
	up, err := artifacts.NewUploader(s.ResultsURL(), s.RuntimeToken(run), s.Client())
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func witnessOf(s *ghemu.Server, up *artifacts.Uploader, known ...string) *Witness {
	gh := s.GitHubClient(ghemu.DefaultToken)
	runs := &GitHubRuns{GH: gh, Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo}
	w := &Witness{Finder: artifacts.NewFinder(gh, ghemu.DefaultOwner, ghemu.DefaultRepo, s.Client()), Name: witnessName, Now: s.Now,
		Trust: &Trust{Runs: runs, History: runs, DefaultBranch: "main", Repo: ghemu.DefaultOwner + "/" + ghemu.DefaultRepo, Known: known}}
	if up != nil {
		w.Uploader = up
	}
	return w
}

// trusted is the state branch as a push run of sha on main uses it.
func trusted(t *testing.T, s *ghemu.Server, sha string) *Branch {
	t.Helper()
	s.Mainline(sha)
	b := newBranch(s, dir)
	b.Witness = witnessOf(s, runOf(t, s, ghemu.Run{Event: "push", HeadSHA: sha, HeadBranch: "main"}))
	return b
}

func mustUntrusted(t *testing.T, err error, why string) *UntrustedError {
	t.Helper()
	var u *UntrustedError
	if !errors.As(err, &u) || !errors.Is(err, ErrUntrusted) {
		t.Fatalf("%s: %v, want ErrUntrusted", why, err)
	}
	return u
}

func TestWitnessProvesTrustedWrites(t *testing.T) {
	s := ghemu.New(t)
	apply(t, trusted(t, s, "sha1"), 1, "s1", []byte(`{"id":"pack-1"}`))
	apply(t, trusted(t, s, "sha2"), 2, "s2", []byte(`{"id":"pack-2"}`))
	b := trusted(t, s, "sha3")
	s.ResetLog()
	snap, err := b.Load(ctx)
	if err != nil || snap.State.State != "s2" || snap.Proof == nil || snap.Proof.Commit != "sha2" {
		t.Fatalf("%+v %v", snap, err)
	}
	// One read of the record, one listing of the witnesses, one list of
	// the runs of the witness's commit, and a compare (sha2 is not a
	// commit this run knows).
	var calls []string
	for _, r := range s.Requests() {
		calls = append(calls, r.Method+" "+r.Route)
	}
	if len(calls) != 4 {
		t.Errorf("%d calls: %v", len(calls), calls)
	}
	if pack, err := b.LoadDeployedPack(ctx); err != nil || string(pack) != `{"id":"pack-2"}` {
		t.Errorf("pack %q %v", pack, err)
	}
	// A run that knows sha2 is the default branch's (a push after it)
	// does not compare.
	known := newBranch(s, dir)
	known.Witness = witnessOf(s, nil, "sha3", "sha2")
	s.ResetLog()
	if _, err := known.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.CountRequests("GET /repos/octo-org/app/compare"); n != 0 {
		t.Errorf("%d compares for a known commit", n)
	}
}

// TestWitnessRefusesPlantedStates: whoever can push to the state branch
// writes a record (a ghost resource, an "already applied" plan), and
// uploads a witness for it from every run it can start: a pull request's,
// a branch's push or dispatch, a tag named main's. None proves it.
func TestWitnessRefusesPlantedStates(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  *ghemu.Run // the run uploading a witness; nil: none
	}{
		{"no witness", nil},
		{"a pull request's witness", &ghemu.Run{Event: "pull_request", HeadSHA: "prhead", HeadBranch: "feature"}},
		{"a pull request from a branch named main", &ghemu.Run{Event: "pull_request", HeadSHA: "prhead", HeadBranch: "main"}},
		{"pull_request_target", &ghemu.Run{Event: "pull_request_target", HeadSHA: "sha1", HeadBranch: "main"}},
		{"a push to another branch", &ghemu.Run{Event: "push", HeadSHA: "branchhead", HeadBranch: "feature"}},
		{"a dispatch on another branch", &ghemu.Run{Event: "workflow_dispatch", HeadSHA: "branchhead", HeadBranch: "feature"}},
		{"a tag named main", &ghemu.Run{Event: "push", HeadSHA: "tagged", HeadBranch: "main"}},
		{"a dispatch on a tag named main", &ghemu.Run{Event: "workflow_dispatch", HeadSHA: "tagged", HeadBranch: "main"}},
		{"a fork", &ghemu.Run{Event: "push", HeadSHA: "forkhead", HeadBranch: "main", HeadRepo: "mallory/app"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t)
			apply(t, trusted(t, s, "sha1"), 1, "s1", []byte(`{"id":"pack-1"}`))
			rec := Record{Version: 1, Serial: 2, Commit: "sha9", PlanID: "reviewed-plan",
				State: `{"version":1,"provider":"local","environment":"prod","state":"ghost"}`}
			raw, _ := json.MarshalIndent(rec, "", "  ")
			planted := s.SetFileAs(stateBranch, dir+"/record.json", raw, "mallory")
			if tc.run != nil {
				w := witnessOf(s, runOf(t, s, *tc.run))
				if _, err := w.Vouch(ctx, newBranch(s, dir).Describe(), BlobSHA(raw)); err != nil {
					t.Fatal(err)
				}
			}
			b := trusted(t, s, "sha2")
			_, err := b.Load(ctx)
			u := mustUntrusted(t, err, "planted record")
			if u.Commit != planted || u.Author != "mallory" || u.Snapshot == nil || u.Snapshot.State.State != "ghost" || u.Legacy {
				t.Errorf("untrusted: %+v", u)
			}
			if _, err := b.LoadDeployedPack(ctx); !errors.Is(err, ErrUntrusted) {
				t.Errorf("the pack of a planted record: %v", err)
			}
		})
	}
}

// TestWitnessRefusesRollbacks: an older record, proven once, written back
// over a newer one (to undo a deploy in the store), is refused: the newest
// trusted witness names the newer record. So is a removed record.
func TestWitnessRefusesRollbacks(t *testing.T) {
	s := ghemu.New(t)
	apply(t, trusted(t, s, "sha1"), 1, "s1", nil)
	old, _ := s.GetFile(stateBranch, dir+"/record.json")
	apply(t, trusted(t, s, "sha2"), 2, "s2", nil)
	s.SetFileAs(stateBranch, dir+"/record.json", old, "mallory")
	_, err := trusted(t, s, "sha3").Load(ctx)
	if u := mustUntrusted(t, err, "rolled back"); !strings.Contains(u.Reason, "names another record") {
		t.Errorf("reason: %s", u.Reason)
	}

	s2 := ghemu.New(t)
	apply(t, trusted(t, s2, "sha1"), 1, "s1", nil)
	gh := s2.GitHubClient(ghemu.DefaultToken)
	cur, _ := s2.GetFile(stateBranch, dir+"/record.json")
	if _, _, err := gh.Repositories.DeleteFile(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, dir+"/record.json", &github.RepositoryContentFileOptions{
		Message: github.String("gone"), SHA: github.String(BlobSHA(cur)), Branch: github.String(stateBranch)}); err != nil {
		t.Fatal(err)
	}
	_, err = trusted(t, s2, "sha2").Load(ctx)
	if u := mustUntrusted(t, err, "record removed"); !strings.Contains(u.Reason, "removed") {
		t.Errorf("reason: %s", u.Reason)
	}
}

// TestWitnessRefusesRewrittenFiles: deployed.pack.json (or a file kept
// beside the state) rewritten under a proven record is refused; a file the
// record does not name is ignored.
func TestWitnessRefusesRewrittenFiles(t *testing.T) {
	s := ghemu.New(t)
	b := trusted(t, s, "sha1")
	if _, err := b.LockTarget(ctx, holder(1), 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Save(ctx, &Write{State: st("prod", "s1"), Message: "apply", Pack: []byte(`{"id":"reviewed"}`),
		Files: map[string][]byte{"evaluations.json": []byte(`{"score":1}`)}}, snap); err != nil {
		t.Fatal(err)
	}
	s.SetFileAs(stateBranch, dir+"/deployed.pack.json", []byte(`{"id":"rewritten"}`), "mallory")
	s.SetFileAs(stateBranch, dir+"/evaluations.json", []byte(`{"score":99}`), "mallory")
	s.SetFileAs(stateBranch, dir+"/other.json", []byte(`{}`), "mallory")
	next := trusted(t, s, "sha2")
	if _, err := next.Load(ctx); err != nil {
		t.Fatalf("the record itself is proven: %v", err)
	}
	if _, err := next.LoadDeployedPack(ctx); !errors.Is(err, ErrUntrusted) {
		t.Errorf("rewritten pack: %v", err)
	}
	if _, err := next.LoadFile(ctx, "evaluations.json"); !errors.Is(err, ErrUntrusted) {
		t.Errorf("rewritten file: %v", err)
	}
	if got, err := next.LoadFile(ctx, "other.json"); got != nil || err != nil {
		t.Errorf("a file the record does not name: %q %v", got, err)
	}
}

// TestWitnessOfEarlierVersions: a record written before witnesses (or the
// first release's committed file carried over) is untrusted as legacy, with
// its state for adopt; a target never deployed is no error.
func TestWitnessOfEarlierVersions(t *testing.T) {
	s := ghemu.New(t)
	if snap, err := trusted(t, s, "sha0").Load(ctx); err != nil || snap.State != nil {
		t.Fatalf("nothing deployed: %+v %v", snap, err)
	}
	apply(t, newBranch(s, dir), 1, "s1", nil) // an earlier version: no witness
	_, err := trusted(t, s, "sha1").Load(ctx)
	if u := mustUntrusted(t, err, "before witnesses"); !u.Legacy || u.Snapshot.State.State != "s1" || u.Commit == "" {
		t.Errorf("%+v", u)
	}

	s2 := ghemu.New(t)
	s2.SetFile("main", "app/.promptarena/deploy.state", []byte(`{"version":1,"provider":"local","environment":"prod","state":"old"}`))
	c := committed(s2)
	c.Witness = witnessOf(s2, nil)
	_, err = c.Load(ctx)
	if u := mustUntrusted(t, err, "the first release's file"); !u.Legacy || u.Snapshot.State.State != "old" || u.Commit != s2.Head("main") {
		t.Errorf("%+v (head %s)", u, s2.Head("main"))
	}
}

// TestWitnessOutlivesItsArtifact: a witness that expired still proves (the
// listing keeps its run and digest); Renew uploads it again from this run.
func TestWitnessOutlivesItsArtifact(t *testing.T) {
	s := ghemu.New(t)
	apply(t, trusted(t, s, "sha1"), 1, "s1", nil)
	s.Advance(100 * 24 * time.Hour)
	b := trusted(t, s, "sha2")
	snap, err := b.Load(ctx)
	if err != nil || !snap.Proof.Expired || !snap.Proof.Due(s.Now()) {
		t.Fatalf("%+v %v", snap, err)
	}
	if renewed, err := b.Renew(ctx, s.Now()); !renewed || err != nil {
		t.Fatalf("renew: %v %v", renewed, err)
	}
	again, err := trusted(t, s, "sha3").Load(ctx)
	if err != nil || again.Proof.Commit != "sha2" || again.Proof.Due(s.Now()) {
		t.Fatalf("after the renewal: %+v %v", again.Proof, err)
	}
	if renewed, _ := trusted(t, s, "sha4").Renew(ctx, s.Now()); renewed {
		t.Error("renewed with nothing loaded")
	}
}

// TestWitnessFloodIsBounded: witnesses uploaded by untrusted runs newer
// than the trusted one cost one run list each, up to a bound; past it the
// state is refused instead of spending the API.
func TestWitnessFloodIsBounded(t *testing.T) {
	s := ghemu.New(t)
	apply(t, trusted(t, s, "sha1"), 1, "s1", nil)
	raw, _ := s.GetFile(stateBranch, dir+"/record.json")
	for i := 0; i < 3; i++ {
		w := witnessOf(s, runOf(t, s, ghemu.Run{Event: "pull_request", HeadSHA: "pr" + string(rune('a'+i)), HeadBranch: "main"}))
		if _, err := w.Vouch(ctx, "elsewhere", BlobSHA(raw)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := trusted(t, s, "sha2").Load(ctx); err != nil {
		t.Fatalf("a few untrusted witnesses: %v", err)
	}
	for i := 0; i < maxUntrustedWitnesses+1; i++ {
		w := witnessOf(s, runOf(t, s, ghemu.Run{Event: "pull_request", HeadSHA: "flood" + string(rune('a'+i)), HeadBranch: "main"}))
		if _, err := w.Vouch(ctx, "elsewhere", BlobSHA(raw)); err != nil {
			t.Fatal(err)
		}
	}
	s.ResetLog()
	_, err := trusted(t, s, "sha3").Load(ctx)
	mustUntrusted(t, err, "a flood")
	if n := s.CountRequests("GET /repos/octo-org/app/actions/runs"); n > maxUntrustedWitnesses+1 {
		t.Errorf("%d run lists", n)
	}
}

// TestWitnessOfAWriteThatDidNotLand: a write whose witness cannot be
// uploaded is not committed (a record no run can prove never lands); a
// witness whose write then failed is withdrawn. Either way the state
// before stays proven, so the run's re-run deploys again.
func TestWitnessOfAWriteThatDidNotLand(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route string
		fault ghemu.Fault
		want  error
	}{
		{"the witness upload fails", "POST " + ghemu.TwirpPrefix + "FinalizeArtifact", ghemu.Fault{Status: 502, Times: 99}, ErrUnwitnessed},
		{"the commit fails", "POST /repos/{owner}/{repo}/git/commits", ghemu.Fault{Status: 503, Times: 99}, nil},
		{"the ref update is refused", "PATCH /repos/{owner}/{repo}/git/refs/{ref...}", ghemu.Fault{Status: 422, Message: "Update is not a fast forward", Times: 99}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t)
			apply(t, trusted(t, s, "sha1"), 1, "s1", nil)
			b := trusted(t, s, "sha2")
			if _, err := b.LockTarget(ctx, holder(2), 0); err != nil {
				t.Fatal(err)
			}
			snap, err := b.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			s.Inject(tc.route, tc.fault)
			_, err = b.Save(ctx, &Write{State: st("prod", "s2"), Message: "apply"}, snap)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("save: %v", err)
			}
			s.ClearFaults()
			got, err := trusted(t, s, "sha3").Load(ctx)
			if err != nil || got.State.State != "s1" {
				t.Fatalf("the state before: %+v %v", got, err)
			}
		})
	}
}

// TestWitnessOfARerun: GitHub keeps an artifact name for the rest of the
// run, re-runs included, so a re-run's witness takes a name of its own; the
// next run finds it among the artifacts of the run the record names (one
// more call), and a record naming a run that holds no witness for it is
// refused all the same.
func TestWitnessOfARerun(t *testing.T) {
	s := ghemu.New(t)
	apply(t, trusted(t, s, "sha1"), 1, "s1", nil)
	s.Mainline("sha2")
	run := s.AddRun(ghemu.Run{Event: "push", HeadSHA: "sha2", HeadBranch: "main"})
	up, err := artifacts.NewUploader(s.ResultsURL(), s.RuntimeToken(run), s.Client())
	if err != nil {
		t.Fatal(err)
	}
	b := newBranch(s, dir)
	b.Witness = witnessOf(s, up)
	b.Witness.Attempt = 2
	if _, err := b.LockTarget(ctx, holder(2), 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Save(ctx, &Write{State: st("prod", "s2"), Message: "apply", RunID: run.ID}, snap); err != nil {
		t.Fatal(err)
	}
	got, err := trusted(t, s, "sha3").Load(ctx)
	if err != nil || got.State.State != "s2" || got.Proof.Name != witnessName+"-a2" {
		t.Fatalf("%+v %v", got, err)
	}
	// A planted record claiming that run: the run holds no witness of it.
	raw, _ := s.GetFile(stateBranch, dir+"/record.json")
	var rec Record
	_ = json.Unmarshal(raw, &rec)
	rec.State = `{"version":1,"provider":"local","environment":"prod","state":"ghost"}`
	forged, _ := json.Marshal(rec)
	s.SetFileAs(stateBranch, dir+"/record.json", forged, "mallory")
	_, err = trusted(t, s, "sha4").Load(ctx)
	mustUntrusted(t, err, "a record claiming a trusted run")
}

// TestWitnessOfAnEarlierAttempt: an attempt vouched for a write that never
// landed and could not withdraw it (GitHub refused everything for a
// while); its re-run goes on from the state before, proven as before,
// while any other run stops.
func TestWitnessOfAnEarlierAttempt(t *testing.T) {
	s := ghemu.New(t)
	apply(t, trusted(t, s, "sha1"), 1, "s1", nil)
	s.Mainline("sha2")
	run := s.AddRun(ghemu.Run{Event: "push", HeadSHA: "sha2", HeadBranch: "main"})
	up, err := artifacts.NewUploader(s.ResultsURL(), s.RuntimeToken(run), s.Client())
	if err != nil {
		t.Fatal(err)
	}
	w := witnessOf(s, up)
	if _, err := w.Vouch(ctx, newBranch(s, dir).Describe(), BlobSHA([]byte(`{"never":"landed"}`))); err != nil {
		t.Fatal(err)
	}
	_, err = trusted(t, s, "sha3").Load(ctx)
	mustUntrusted(t, err, "another run")
	rerun := newBranch(s, dir)
	rerun.Witness = witnessOf(s, nil, "sha2")
	rerun.Witness.Run, rerun.Witness.Attempt = run.ID, 2
	if got, err := rerun.Load(ctx); err != nil || got.State.State != "s1" {
		t.Fatalf("the re-run: %+v %v", got, err)
	}
}
