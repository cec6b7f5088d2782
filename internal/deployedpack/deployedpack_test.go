package deployedpack

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

type recorder struct {
	pack []byte
	err  error
}

func (r recorder) LoadDeployedPack(context.Context) ([]byte, error) { return r.pack, r.err }

func TestFind(t *testing.T) {
	small := []byte(`{"id":"p","prompts":{}}`)
	big := append([]byte(`{"id":"p","description":"`), bytes.Repeat([]byte("x"), 1<<20+10)...)
	big = append(big, `","prompts":{}}`...)
	cases := []struct {
		name     string
		recorder Recorder
		seed     map[string][]byte // files on main, then the base is main's head
		path     string
		fault    int
		want     Source
		pack     []byte
		wantErr  bool
	}{
		{name: "recorded pack wins", recorder: recorder{pack: small}, seed: map[string][]byte{"app/p.pack.json": []byte("{}")}, path: "app/p.pack.json", want: Recorded, pack: small},
		{name: "nothing recorded: base commit", recorder: recorder{}, seed: map[string][]byte{"app/p.pack.json": small}, path: "./app/p.pack.json", want: BaseCommit, pack: small},
		{name: "over 1 MB: read as a blob", seed: map[string][]byte{"p.pack.json": big}, path: "p.pack.json", want: BaseCommit, pack: big},
		{name: "no pack at the base", seed: map[string][]byte{"README.md": []byte("hi")}, path: "p.pack.json", want: None},
		{name: "recorder fails", recorder: recorder{err: errors.New("boom")}, path: "p.pack.json", wantErr: true},
		{name: "contents API fails", seed: map[string][]byte{"p.pack.json": small}, path: "p.pack.json", fault: 500, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gh := ghemu.New(t)
			defer gh.Close()
			for p, b := range tc.seed {
				gh.SetFile("main", p, b)
			}
			if tc.fault != 0 {
				gh.Inject("GET /repos/{owner}/{repo}/contents/{path...}", ghemu.Fault{Status: tc.fault, Times: 10})
			}
			f := &Finder{Recorder: tc.recorder, GitHub: gh.GitHubClient(ghemu.DefaultToken), Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo}
			res, err := f.Find(context.Background(), gh.Head("main"), tc.path)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Source != tc.want || !bytes.Equal(res.Pack, tc.pack) {
				t.Errorf("source %d, %d bytes; want %d, %d bytes", res.Source, len(res.Pack), tc.want, len(tc.pack))
			}
			if v := gh.Violations(); len(v) > 0 {
				t.Errorf("API contract: %+v", v)
			}
		})
	}
}

func TestNoGitHub(t *testing.T) {
	res, err := (&Finder{}).Find(context.Background(), "abc", "p.pack.json")
	if err != nil || res.Source != None {
		t.Fatalf("%v %+v", err, res)
	}
}

// The state branch is the backend that records the applied pack.
var _ Recorder = (*state.Branch)(nil)

// TestRecordedOnTheStateBranch: an apply saved with its pack on the state
// branch is what the next plan compares with, not the base commit.
func TestRecordedOnTheStateBranch(t *testing.T) {
	gh := ghemu.New(t)
	defer gh.Close()
	ctx := context.Background()
	client := gh.GitHubClient(ghemu.DefaultToken)
	gh.SetFile("main", "p.pack.json", []byte(`{"id":"base"}`))
	b := &state.Branch{GH: client, Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo, Branch: "arena-deploy-state", Dir: "t1", Env: "prod",
		Lock: state.LockOptions{Now: gh.Now, Sleep: func(context.Context, time.Duration) error { return nil }}}
	f := &Finder{Recorder: b, GitHub: client, Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo}
	if res, err := f.Find(ctx, gh.Head("main"), "p.pack.json"); err != nil || res.Source != BaseCommit {
		t.Fatalf("before any apply: %v %+v", err, res)
	}
	if _, err := b.LockTarget(ctx, state.Holder{RunID: 1, Attempt: 1}, 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	applied := []byte(`{"id":"applied"}`)
	st := &deploy.State{Version: 1, Provider: "local", Environment: "prod", LastDeployed: "2026-11-27T09:00:00Z", State: "s"}
	if _, err := b.Save(ctx, &state.Write{State: st, Message: "apply", Commit: "abc1234", Pack: applied}, snap); err != nil {
		t.Fatal(err)
	}
	// The next plan is another run, with a branch store of its own.
	f = &Finder{Recorder: &state.Branch{GH: client, Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo, Branch: "arena-deploy-state", Dir: "t1", Env: "prod"},
		GitHub: client, Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo}
	res, err := f.Find(ctx, gh.Head("main"), "p.pack.json")
	if err != nil || res.Source != Recorded || string(res.Pack) != string(applied) {
		t.Fatalf("after the apply: %v %+v", err, res)
	}
}
