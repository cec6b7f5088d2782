package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStateStore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), ".promptarena")
	s := NewStateStore(dir)
	if st, err := s.Load(); st != nil || err != nil {
		t.Fatalf("missing file: %v %v", st, err)
	}
	if p, err := s.LoadPlan(); p != nil || err != nil {
		t.Fatalf("missing plan: %v %v", p, err)
	}
	want := &State{Version: 1, Provider: "local", Environment: "default", LastDeployed: "2026-01-01T00:00:00Z", PackChecksum: "sha256:aa", State: "x"}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || *got != *want {
		t.Fatalf("load: %+v %v", got, err)
	}
	for path, mode := range map[string]os.FileMode{dir: 0o750 | os.ModeDir, s.StatePath(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode(), mode, err)
		}
	}
	raw, _ := os.ReadFile(s.StatePath())
	if !strings.HasPrefix(string(raw), "{\n  \"version\": 1,") {
		t.Errorf("not indented JSON: %s", raw)
	}
	if err := s.SavePlan(&SavedPlan{Version: 1, Plan: &PlanResponse{}}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.LoadPlan(); err != nil || p.Version != 1 {
		t.Fatalf("plan: %v %v", p, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temp files left behind: %v", entries)
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePlan(); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

func TestStateStoreRefusesBadFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, content string
		want          error
	}{
		{"truncated", `{"version": 1, "provi`, ErrCorrupt},
		{"not json", "<<<<<<< HEAD\n", ErrCorrupt},
		{"newer", `{"version": 2, "provider": "x"}`, ErrNewerVersion},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := NewStateStore(dir)
			for _, path := range []string{s.StatePath(), s.PlanPath()} {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.Load()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), s.StatePath()) {
				t.Errorf("state: %v", err)
			}
			_, err = s.LoadPlan()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), s.PlanPath()) {
				t.Errorf("plan: %v", err)
			}
			// Refusing must not destroy the evidence.
			if b, _ := os.ReadFile(s.StatePath()); string(b) != tc.content {
				t.Error("file was changed")
			}
		})
	}
}

func TestWriteFileAtomicKeepsOldOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "deploy.state")
	if err := WriteFileAtomic(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A directory where the file should go cannot be replaced by rename.
	bad := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(bad, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(bad, []byte("new")); err == nil {
		t.Fatal("write over a non-empty directory succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatal("old file damaged")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temp file left: %v", entries)
	}
}

// TestLockAcrossProcesses: another process holds the lock; ours fails at
// once with a clear message, waits with a timeout, and gets the lock once the
// holder lets go.
func TestLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	holder := exec.Command(os.Args[0])
	holder.Env = append(os.Environ(), "ARENA_FAKE_ADAPTER=lock", "ARENA_LOCK_DIR="+dir)
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("holder said %q", line)
	}
	l := NewLocker(dir)
	err := l.Lock()
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), filepath.Join(dir, LockFile)) || !strings.Contains(err.Error(), "concurrency") {
		t.Fatalf("got %v", err)
	}
	if err := l.LockWait(context.Background(), 300*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("wait: %v", err)
	}
	stdin.Close() // the holder unlocks and exits
	if err := holder.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := l.LockWait(context.Background(), 5*time.Second); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if err := l.Lock(); err == nil {
		t.Fatal("double lock in one process succeeded")
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Path()); !os.IsNotExist(err) {
		t.Fatal("lock file not removed")
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("unlock without lock: %v", err)
	}
}

func TestLockDoesNotLeakDescriptors(t *testing.T) {
	dir := t.TempDir()
	before := countFDs(t)
	for i := 0; i < 200; i++ {
		l := NewLocker(dir)
		if err := l.Lock(); err != nil {
			t.Fatal(err)
		}
		if err := NewLocker(dir).Lock(); !errors.Is(err, ErrLocked) {
			t.Fatal(err)
		}
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	if after := countFDs(t); after > before+5 {
		t.Fatalf("descriptors grew from %d to %d", before, after)
	}
}

func countFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc")
	}
	return len(entries)
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	project, home, pathDir := t.TempDir(), t.TempDir(), t.TempDir()
	name := AdapterBinaryName("omnia")
	put := func(dir string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		_ = os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m := NewAdapterManager(project, home, pathDir)
	_, err := m.Discover("omnia", "")
	if !errors.Is(err, ErrAdapterNotFound) {
		t.Fatal(err)
	}
	for _, s := range []string{filepath.Join(project, ".promptarena", "adapters", name), filepath.Join(home, ".promptarena", "adapters", name), filepath.Join(pathDir, name)} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %q:\n%v", s, err)
		}
	}
	// Released: the caller's hint offers adapter-install (run's classify).
	var nf *AdapterNotFoundError
	if !errors.As(err, &nf) || !nf.Installable || nf.Provider != "omnia" {
		t.Errorf("not an installable AdapterNotFoundError: %#v", err)
	}
	inPath := put(pathDir, 0o755)
	if got, _ := m.Discover("omnia", ""); got != inPath {
		t.Errorf("PATH: got %s", got)
	}
	put(filepath.Join(home, ".promptarena", "adapters"), 0o644) // not executable: skipped
	if got, _ := m.Discover("omnia", ""); got != inPath {
		t.Errorf("non-executable chosen: %s", got)
	}
	_ = os.MkdirAll(filepath.Join(project, ".promptarena", "adapters", name), 0o755) // a directory: skipped
	if got, _ := m.Discover("omnia", ""); got != inPath {
		t.Errorf("directory chosen: %s", got)
	}
	_ = os.RemoveAll(filepath.Join(project, ".promptarena", "adapters", name))
	local := put(filepath.Join(project, ".promptarena", "adapters"), 0o755)
	if got, _ := m.Discover("omnia", ""); got != local {
		t.Errorf("project-local must win: %s", got)
	}
	if got, err := m.Discover("omnia", inPath); got != inPath || err != nil {
		t.Errorf("explicit: %s %v", got, err)
	}
	if _, err := m.Discover("omnia", filepath.Join(project, "nope")); !errors.Is(err, ErrAdapterNotFound) {
		t.Errorf("explicit missing: %v", err)
	}
	if _, err := m.Discover("../evil", ""); err == nil {
		t.Error("path in provider name accepted")
	}
}

// TestSavedPlanBytes: a saved plan with a big pack is written byte for byte
// as json.MarshalIndent writes it (PromptKit's format), though the pack is
// not run through the indenter.
func TestSavedPlanBytes(t *testing.T) {
	pieces := []string{"<b>&amp;", "\"q\"", "\\", "\n\t", "\u2028", "é😀", "\x01", `{"a":[1,2]}`}
	var sb strings.Builder
	for i := 0; sb.Len() < 200<<10; i++ {
		sb.WriteString(pieces[i%len(pieces)])
	}
	p := &SavedPlan{Version: 1, CreatedAt: "2026-11-27T00:00:00Z", Provider: "local", Environment: "prod", PackChecksum: "sha256:x",
		Plan:    &PlanResponse{Changes: []ResourceChange{{Type: "prompt", Name: "<a>", Action: ActionCreate, Detail: "d"}}, Summary: "s"},
		Request: &PlanRequest{PackJSON: sb.String(), DeployConfig: `{"k":"<v>"}`, Environment: "prod", PriorState: "st"}}
	got, err := MarshalFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(p, "", "  ")
	if !bytes.Equal(got, want) {
		t.Fatalf("saved plan differs from json.MarshalIndent (%d vs %d bytes)", len(got), len(want))
	}
	// Streamed, for the big pack and a small one.
	for _, pack := range []string{sb.String(), "{}"} {
		p.Request.PackJSON = pack
		want, _ := json.MarshalIndent(p, "", "  ")
		r, err := SavedPlanReader(p)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(r); !bytes.Equal(got, want) {
			t.Fatalf("streamed saved plan differs from json.MarshalIndent (%d vs %d bytes)", len(got), len(want))
		}
	}
}

// TestStoreRoundTripsPromptKitFiles: files as PromptKit's StateStore writes
// them (json.MarshalIndent, no final newline) load and save back byte for
// byte through our store; files with a final newline (older versions of
// this action, editors) still load.
func TestStoreRoundTripsPromptKitFiles(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"cli_deploy.state", "cli_deploy.plan"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if raw[len(raw)-1] == '\n' {
			t.Fatalf("%s is not PromptKit's format: it ends with a newline", name)
		}
		for _, content := range [][]byte{raw, append(append([]byte{}, raw...), '\n')} {
			dir := t.TempDir()
			s := NewStateStore(dir)
			target := s.StatePath()
			if name == "cli_deploy.plan" {
				target = s.PlanPath()
			}
			if err := os.WriteFile(target, content, 0o600); err != nil {
				t.Fatal(err)
			}
			if name == "cli_deploy.state" {
				st, err := s.Load()
				if err != nil || st == nil {
					t.Fatalf("load: %v", err)
				}
				err = s.Save(st)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				p, err := s.LoadPlan()
				if err != nil || p == nil {
					t.Fatalf("load plan: %v", err)
				}
				if err := s.SavePlan(p); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := os.ReadFile(target); string(got) != string(raw) {
				t.Errorf("%s: round trip gives\n%q\nwant\n%q", name, got, raw)
			}
		}
	}
}

// TestSavedPlanReaderAsMarshalIndent: the saved plan made as it is read is
// json.MarshalIndent's, byte for byte, for every field of the plan's types
// (filled by reflection, so a field added to them fails this test until
// the reader writes it), plans without a plan or a request, no changes,
// an empty list, thousands of changes and warnings, read through buffers
// of every size.
func TestSavedPlanReaderAsMarshalIndent(t *testing.T) {
	texts := []string{"", "plain", `"q" \ <a>&</a>`, "é \u2028 \x01 \t\n", "bad \xff", "{\"k\":[1,2]}"}
	r := rand.New(rand.NewSource(9))
	fill := func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			switch f := v.Field(i); f.Kind() {
			case reflect.String:
				f.SetString(texts[r.Intn(len(texts))])
			case reflect.Int:
				f.SetInt(int64(r.Intn(3)))
			}
		}
	}
	if n := reflect.TypeOf(SavedPlan{}).NumField() + reflect.TypeOf(PlanResponse{}).NumField() + reflect.TypeOf(ResourceChange{}).NumField() + reflect.TypeOf(PlanRequest{}).NumField(); n != 19 {
		t.Fatalf("the saved plan's types have %d fields: savedPlanReader writes 19", n)
	}
	for k := 0; k < 400; k++ {
		p := &SavedPlan{}
		fill(reflect.ValueOf(p).Elem())
		if k%7 != 0 {
			p.Plan = &PlanResponse{}
			fill(reflect.ValueOf(p.Plan).Elem())
			switch n := []int{0, 1, 2, 5, 3000}[k%5]; {
			case k%3 == 0:
				p.Plan.Changes = []ResourceChange{}
			default:
				for range n {
					var c ResourceChange
					fill(reflect.ValueOf(&c).Elem())
					p.Plan.Changes = append(p.Plan.Changes, c)
				}
			}
			for range k % 4 {
				p.Plan.Warnings = append(p.Plan.Warnings, texts[r.Intn(len(texts))])
			}
		}
		if k%5 != 0 {
			p.Request = &PlanRequest{}
			fill(reflect.ValueOf(p.Request).Elem())
		}
		want, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		sr := newSavedPlanReader(p)
		buf := make([]byte, 1+r.Intn(5000))
		for {
			n, err := sr.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("plan %d: made as read (%d bytes) differs from json.MarshalIndent (%d bytes):\n%.400s\n%.400s", k, got.Len(), len(want), got.Bytes(), want)
		}
	}
}
