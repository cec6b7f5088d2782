package deployedpack

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
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
