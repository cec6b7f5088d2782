package state

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

var ctx = context.Background()

func st(env, adapterState string) *deploy.State {
	return &deploy.State{Version: 1, Provider: "local", Environment: env, LastDeployed: "2026-01-01T00:00:00Z", State: adapterState}
}

// backends are the two with compare-and-swap, run through the same cases.
func backends(t *testing.T) map[string]func() (Backend, func(content string)) {
	return map[string]func() (Backend, func(string)){
		"file": func() (Backend, func(string)) {
			p := filepath.Join(t.TempDir(), ".promptarena", "deploy.state")
			return &File{Path: p, Env: "prod"}, func(c string) {
				_ = os.MkdirAll(filepath.Dir(p), 0o750)
				_ = os.WriteFile(p, []byte(c), 0o600)
			}
		},
		"branch": func() (Backend, func(string)) {
			s := ghemu.New(t)
			b := &Branch{GH: s.GitHubClient(ghemu.DefaultToken), Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo, Branch: "arena-deploy-state", Dir: "prod-1234abcd", Env: "prod"}
			return b, func(c string) {
				rec, _ := json.Marshal(Record{Version: 1, Serial: 99, State: c})
				s.SetFile("arena-deploy-state", "prod-1234abcd/record.json", rec)
				s.SetFile("arena-deploy-state", "prod-1234abcd/deploy.state", []byte(c))
			}
		},
		"committed": func() (Backend, func(string)) {
			s := ghemu.New(t)
			s.SetFile("main", "README.md", []byte("hello"))
			return committed(s), func(c string) {
				rec, _ := json.Marshal(Record{Version: 1, Serial: 99, State: c})
				s.SetFile("main", "app/.promptarena/deploy.state.record.json", rec)
				s.SetFile("main", "app/.promptarena/deploy.state", []byte(c))
			}
		},
	}
}

// committed is the committed file (state-branch: ”) of app/ on main.
func committed(s *ghemu.Server) *Branch {
	gh := s.GitHubClient(ghemu.DefaultToken)
	const p = "app/.promptarena/deploy.state"
	return &Branch{GH: gh, Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo, Branch: "main", StatePath: p, Env: "prod",
		Legacy: &Git{GH: gh, Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo, Branch: "main", Path: p, Env: "prod"}}
}

func TestCompareAndSwap(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			b, writeBehind := mk()
			snap, err := b.Load(ctx)
			if err != nil || snap.State != nil || snap.Digest() != "none" {
				t.Fatalf("empty: %+v %v", snap, err)
			}
			if _, err := b.Save(ctx, &Write{State: st("prod", "s1"), Message: "first"}, snap); err != nil {
				t.Fatal(err)
			}
			s1, err := b.Load(ctx)
			if err != nil || s1.State.State != "s1" {
				t.Fatalf("load: %+v %v", s1, err)
			}
			// Another deploy writes behind our back: our save must fail.
			writeBehind(`{"version":1,"provider":"local","environment":"prod","state":"theirs"}`)
			_, err = b.Save(ctx, &Write{State: st("prod", "ours"), Message: "second"}, s1)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("stale save: %v", err)
			}
			cur, _ := b.Load(ctx)
			if cur.State.State != "theirs" {
				t.Fatal("their state was overwritten")
			}
			// A create over an existing state, with no base, is a conflict too.
			if _, err := b.Save(ctx, &Write{State: st("prod", "ours"), Message: "blind"}, &Snapshot{}); !errors.Is(err, ErrConflict) {
				t.Fatalf("blind create: %v", err)
			}
			if err := b.Delete(ctx, s1, "stale delete"); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale delete: %v", err)
			}
			if err := b.Delete(ctx, cur, "delete"); err != nil {
				t.Fatal(err)
			}
			if gone, _ := b.Load(ctx); gone.State != nil {
				t.Fatal("not deleted")
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			b, write := mk()
			write(`{"version":1,"environment":"staging"}`)
			if _, err := b.Load(ctx); !errors.Is(err, ErrOtherEnvironment) || !strings.Contains(err.Error(), "state-path") {
				t.Errorf("other environment: %v", err)
			}
			write(`{"version":`)
			if _, err := b.Load(ctx); !errors.Is(err, deploy.ErrCorrupt) {
				t.Errorf("corrupt: %v", err)
			}
			write(`{"version":9}`)
			if _, err := b.Load(ctx); !errors.Is(err, deploy.ErrNewerVersion) {
				t.Errorf("newer: %v", err)
			}
		})
	}
}

// TestStateBytesArePromptKits: every backend writes the state exactly as
// PromptKit's StateStore.Save does (json.MarshalIndent with two spaces, no
// final newline), so a `promptarena deploy refresh` over our file changes no
// byte; and files with a final newline (written by older versions of this
// action, or by editors) are still read.
func TestStateBytesArePromptKits(t *testing.T) {
	want := "{\n  \"version\": 1,\n  \"provider\": \"local\",\n  \"environment\": \"prod\",\n  \"last_deployed\": \"2026-01-01T00:00:00Z\",\n" +
		"  \"pack_version\": \"\",\n  \"pack_checksum\": \"\",\n  \"adapter_version\": \"\",\n  \"state\": \"s1\"\n}"
	stores := map[string]func() (Backend, func() []byte, func(string)){
		"file": func() (Backend, func() []byte, func(string)) {
			p := filepath.Join(t.TempDir(), ".promptarena", "deploy.state")
			return &File{Path: p, Env: "prod"}, func() []byte { b, _ := os.ReadFile(p); return b },
				func(c string) { _ = os.WriteFile(p, []byte(c), 0o600) }
		},
		"branch": func() (Backend, func() []byte, func(string)) {
			s := ghemu.New(t)
			b := &Branch{GH: s.GitHubClient(ghemu.DefaultToken), Owner: ghemu.DefaultOwner, Repo: ghemu.DefaultRepo, Branch: "arena-deploy-state", Dir: "prod-1234abcd", Env: "prod"}
			return b, func() []byte { b, _ := s.GetFile("arena-deploy-state", "prod-1234abcd/deploy.state"); return b },
				func(c string) {
					rec, _ := json.Marshal(Record{Version: 1, Serial: 9, State: c})
					s.SetFile("arena-deploy-state", "prod-1234abcd/record.json", rec)
				}
		},
		"committed": func() (Backend, func() []byte, func(string)) {
			s := ghemu.New(t)
			s.SetFile("main", "README.md", []byte("hello"))
			return committed(s), func() []byte { b, _ := s.GetFile("main", "app/.promptarena/deploy.state"); return b },
				func(c string) {
					rec, _ := json.Marshal(Record{Version: 1, Serial: 9, State: c})
					s.SetFile("main", "app/.promptarena/deploy.state.record.json", rec)
				}
		},
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			b, read, write := mk()
			snap, _ := b.Load(ctx)
			if _, err := b.Save(ctx, &Write{State: st("prod", "s1"), Message: "first"}, snap); err != nil {
				t.Fatal(err)
			}
			if got := string(read()); got != want {
				t.Fatalf("state bytes differ from PromptKit's:\n got %q\nwant %q", got, want)
			}
			write(want + "\n")
			got, err := b.Load(ctx)
			if err != nil || got.State.State != "s1" {
				t.Fatalf("a file with a final newline: %+v %v", got, err)
			}
		})
	}
}
