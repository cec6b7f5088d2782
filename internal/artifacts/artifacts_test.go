package artifacts

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/arena-deploy/arena-deploy-action/internal/ghclient"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

var ctx = context.Background()

func uploader(t *testing.T, s *ghemu.Server, run *ghemu.Run) *Uploader {
	t.Helper()
	instant := ghclient.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}
	u, err := NewUploader(s.ResultsURL(), s.RuntimeToken(run), ghclient.Client(s.Client().Transport, instant))
	if err != nil {
		t.Fatal(err)
	}
	u.Policy = instant
	return u
}

var files = []File{{Name: "deploy.plan", Data: []byte(`{"version":1}`)}, {Name: "plan.md", Data: []byte("# plan")}}

func TestUploadThenDownloadFromLaterRun(t *testing.T) {
	s := ghemu.New(t)
	pr := s.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "head1"})
	id, size, err := uploader(t, s, pr).Upload(ctx, "arena-plan-default-head1", files, time.Time{})
	if err != nil || size == 0 {
		t.Fatal(err)
	}
	if n := s.CountRequests("POST /twirp/"); n != 2 {
		t.Errorf("twirp calls %d, want 2 (create, finalize)", n)
	}
	s.AddRun(ghemu.Run{Event: "push", HeadSHA: "merge1"})
	f := NewFinder(s.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo, s.Client())
	info, err := f.Latest(ctx, "arena-plan-default-head1", "head1")
	if err != nil || info.ID != id || info.RunID != pr.ID {
		t.Fatalf("latest: %+v %v", info, err)
	}
	data, err := f.Download(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unzip(data, DefaultLimits)
	if err != nil || string(got["deploy.plan"]) != `{"version":1}` || string(got["plan.md"]) != "# plan" {
		t.Fatalf("unzip: %v %v", got, err)
	}
	if _, err := f.Latest(ctx, "arena-plan-default-head1", "otherhead"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other head: %v", err)
	}
	s.Advance(ghemu.DefaultRetention + time.Hour)
	if _, err := f.Latest(ctx, "arena-plan-default-head1", "head1"); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := f.Download(ctx, info.ID); !errors.Is(err, ErrExpired) {
		t.Fatalf("download expired: %v", err)
	}
}

func TestRerunReplacesArtifact(t *testing.T) {
	s := ghemu.New(t)
	run := s.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "h"})
	u := uploader(t, s, run)
	first, _, err := u.Upload(ctx, "arena-plan-default-h", files, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := u.Upload(ctx, "arena-plan-default-h", []File{{Name: "deploy.plan", Data: []byte("v2")}}, time.Time{})
	if err != nil || second == first {
		t.Fatalf("re-run: %d %d %v", first, second, err)
	}
	f := NewFinder(s.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo, s.Client())
	all, err := f.List(ctx, "arena-plan-default-h")
	if err != nil || len(all) != 1 || all[0].ID != second {
		t.Fatalf("after re-run: %+v %v", all, err)
	}
}

// TestRerunReplacesEarlierAttempt: a re-run is another job of the same
// run; the name is taken by the first attempt's artifact, which is found
// by listing and deleted with its own job's ids, as GitHub's toolkit does.
// The create that follows can still meet the name for a moment.
func TestRerunReplacesEarlierAttempt(t *testing.T) {
	for _, tc := range []struct {
		lag   int
		camel bool
	}{{0, false}, {2, false}, {1, true}} {
		lag := tc.lag
		t.Run(fmt.Sprintf("name still taken %d times after the delete, camelCase %v", lag, tc.camel), func(t *testing.T) {
			s := ghemu.New(t, ghemu.Options{CamelCaseTwirp: tc.camel})
			s.LagDeletes(lag)
			run := s.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "h"})
			first, _, err := uploader(t, s, run).Upload(ctx, "arena-plan-default-h", files, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			rerun := s.Rerun(run.ID)
			second, _, err := uploader(t, s, rerun).Upload(ctx, "arena-plan-default-h", []File{{Name: "deploy.plan", Data: []byte("v2")}}, time.Time{})
			if err != nil || second == first {
				t.Fatalf("re-run: %d %d %v", first, second, err)
			}
			f := NewFinder(s.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo, s.Client())
			all, err := f.List(ctx, "arena-plan-default-h")
			if err != nil || len(all) != 1 || all[0].ID != second {
				t.Fatalf("after re-run: %+v %v", all, err)
			}
		})
	}
}

func TestUploadRetriesAndErrors(t *testing.T) {
	cases := []struct {
		name    string
		opts    ghemu.Options
		faults  map[string]ghemu.Fault
		wantErr error
	}{
		{name: "5xx then ok", faults: map[string]ghemu.Fault{
			"POST " + ghemu.TwirpPrefix + "CreateArtifact":   {Status: 503, Times: 2},
			"PUT /_blob/upload/{key}":                        {Status: 500},
			"POST " + ghemu.TwirpPrefix + "FinalizeArtifact": {Status: 429}}},
		{name: "camelCase answers", opts: ghemu.Options{CamelCaseTwirp: true}},
		{name: "gives up", faults: map[string]ghemu.Fault{"POST " + ghemu.TwirpPrefix + "CreateArtifact": {Status: 502, Times: 5}}, wantErr: errors.New("CreateArtifact: HTTP 502")},
		{name: "reset", faults: map[string]ghemu.Fault{"POST " + ghemu.TwirpPrefix + "CreateArtifact": {Reset: true}}},
		{name: "lost finalize answer", faults: map[string]ghemu.Fault{"POST " + ghemu.TwirpPrefix + "FinalizeArtifact": {DropAnswer: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t, tc.opts)
			run := s.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "h"})
			for route, f := range tc.faults {
				s.Inject(route, f)
			}
			_, _, err := uploader(t, s, run).Upload(ctx, "a", files, time.Time{})
			if tc.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != nil && (err == nil || !strings.Contains(err.Error(), tc.wantErr.Error())) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestNewUploaderNeedsRuntime(t *testing.T) {
	for _, tok := range []string{"", "not-a-jwt", "a.eyJzY3AiOiJBY3Rpb25zLkV4YW1wbGUifQ.c"} {
		if _, err := NewUploader("http://x/", tok, nil); !errors.Is(err, ErrNoRuntime) {
			t.Errorf("%q: %v", tok, err)
		}
	}
}

func TestForkArtifactIgnored(t *testing.T) {
	s := ghemu.New(t)
	fork := s.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "h", HeadRepo: "evil/app"})
	if _, _, err := uploader(t, s, fork).Upload(ctx, "arena-plan-default-h", files, time.Time{}); err != nil {
		t.Fatal(err)
	}
	f := NewFinder(s.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo, s.Client())
	if _, err := f.Latest(ctx, "arena-plan-default-h", "h"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a fork's plan was accepted: %v", err)
	}
}

func TestUnzipRefusesEscapesAndBombs(t *testing.T) {
	mk := func(name string, data []byte) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create(name)
		_, _ = w.Write(data)
		_ = zw.Close()
		return buf.Bytes()
	}
	for _, name := range []string{"../evil", "/etc/passwd", `..\evil`, "a/../../evil"} {
		if _, err := Unzip(mk(name, []byte("x")), DefaultLimits); !errors.Is(err, ErrUnsafeZip) {
			t.Errorf("%s: %v", name, err)
		}
	}
	bomb := mk("big", bytes.Repeat([]byte{0}, 10<<20))
	if _, err := Unzip(bomb, Limits{MaxFiles: 4, MaxTotal: 1 << 20}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("bomb: %v", err)
	}
	if _, err := Unzip([]byte("not a zip"), DefaultLimits); !errors.Is(err, ErrUnsafeZip) {
		t.Errorf("garbage: %v", err)
	}
	z1, _ := Zip(files)
	z2, _ := Zip([]File{files[1], files[0]})
	if !bytes.Equal(z1, z2) {
		t.Error("zip is not deterministic")
	}
}

func TestAlternateNames(t *testing.T) {
	names := Names("arena-plan-default-1234abcd-head1", 3)
	if strings.Join(names, " ") != "arena-plan-default-1234abcd-head1 arena-plan-default-1234abcd-head1-2 arena-plan-default-1234abcd-head1-3" {
		t.Fatal(names)
	}
	for cand, want := range map[string]bool{
		"n-2": true, "n-12": true, "n": false, "n-1": false, "n-02": false, "n-x": false, "n-2-2": false, "m-2": false,
	} {
		if IsAlternate("n", cand) != want {
			t.Errorf("IsAlternate(n, %s) != %v", cand, want)
		}
	}
}

// TestUploadPassesOverUsedUpNames: a create whose answer is lost uses its
// name up for the run (GitHub keeps it, unlisted); the upload takes the
// next name, and Latest finds it there. A re-run passes over the name
// holding the artifact it must keep, and replaces the other.
func TestUploadPassesOverUsedUpNames(t *testing.T) {
	s := ghemu.New(t)
	run := s.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "h"})
	s.Inject("POST "+ghemu.TwirpPrefix+"CreateArtifact", ghemu.Fault{DropAnswer: true})
	names := Names("arena-plan-default-h", 3)
	up, err := uploader(t, s, run).UploadAs(ctx, Request{Names: names, Files: files})
	if err != nil || up.Name != names[1] || len(up.UsedUp) != 1 || up.UsedUp[0] != names[0] {
		t.Fatalf("%+v %v", up, err)
	}
	f := NewFinder(s.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo, s.Client())
	if info, err := f.Latest(ctx, names[0], "h"); err != nil || info.ID != up.ID {
		t.Fatalf("latest: %+v %v", info, err)
	}
	// The re-run keeps the first attempt's artifact (names[1]) until its
	// own is in place: names[0] is still used up, names[1] kept, names[2].
	rerun := s.Rerun(run.ID)
	again, err := uploader(t, s, rerun).UploadAs(ctx, Request{Names: names, Files: files, Keep: up.ID})
	if err != nil || again.Name != names[2] {
		t.Fatalf("re-run: %+v %v", again, err)
	}
	if info, err := f.Latest(ctx, names[0], "h"); err != nil || info.ID != again.ID {
		t.Fatalf("latest after the re-run: %+v %v (want %d)", info, err, again.ID)
	}
	// Every name used up: the error says so.
	_, err = uploader(t, s, rerun).UploadAs(ctx, Request{Names: names[:1], Files: files})
	if err == nil || !strings.Contains(err.Error(), "used up") {
		t.Fatalf("all used up: %v", err)
	}
}

// TestUploadStreamsBlocks: the archive is made while it is uploaded, a
// block at a time, and the artifact is Zip's archive byte for byte (the
// emulator checks the finalized size and hash against what it stored). A
// block refused once is sent again as it was, by the transport; a block
// refused on every try makes the archive again, on the same artifact (each
// streamed file opened once more), and the artifact is still the same.
func TestUploadStreamsBlocks(t *testing.T) {
	defer func(n int) { blockSize = n }(blockSize)
	blockSize = 4 << 10
	r := rand.New(rand.NewSource(1))
	var big bytes.Buffer
	for big.Len() < 200<<10 {
		fmt.Fprintf(&big, "%d %x\n", r.Intn(1000), r.Int63())
	}
	opens := 0
	mk := func() []File {
		return []File{
			{Name: "deploy.plan", Open: func() io.Reader { opens++; return bytes.NewReader(big.Bytes()) }},
			{Name: "plan.md", Data: []byte("# plan")},
		}
	}
	want, err := Zip(mk())
	if err != nil {
		t.Fatal(err)
	}
	blocks := (len(want) + blockSize - 1) / blockSize
	if blocks < 10 {
		t.Fatalf("the archive is %d blocks: the test needs more", blocks)
	}
	const put = "PUT /_blob/upload/{key}"
	for _, tc := range []struct {
		name      string
		fault     *ghemu.Fault
		opens     int
		blockPuts int
	}{
		{"no fault", nil, 1, blocks + 1},
		{"block 4 refused once", &ghemu.Fault{Status: 500, Skip: 3}, 1, blocks + 2},
		{"block 4 refused on every try", &ghemu.Fault{Status: 500, Skip: 3, Times: ghclient.DefaultTries}, 2, 3 + ghclient.DefaultTries + blocks + 1},
		{"block list refused on every try", &ghemu.Fault{Status: 503, Skip: blocks, Times: ghclient.DefaultTries}, 2, blocks + ghclient.DefaultTries + blocks + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t)
			run := s.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "h"})
			if tc.fault != nil {
				s.Inject(put, *tc.fault)
			}
			opens = 0
			up, err := uploader(t, s, run).UploadAs(ctx, Request{Names: Names("arena-plan-default-h", 2), Files: mk()})
			if err != nil {
				t.Fatal(err)
			}
			if up.Name != "arena-plan-default-h" || up.Size != int64(len(want)) || opens != tc.opens {
				t.Errorf("uploaded %+v, opened %d times; want the first name, %d bytes, %d opens", up, opens, len(want), tc.opens)
			}
			if n := s.CountRequests("PUT /_blob/upload/"); n != tc.blockPuts {
				t.Errorf("%d block and block list PUTs, want %d", n, tc.blockPuts)
			}
			f := NewFinder(s.GitHubClient(ghemu.DefaultToken), ghemu.DefaultOwner, ghemu.DefaultRepo, s.Client())
			got, err := f.Download(ctx, up.ID)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("downloaded %d bytes (%v), want Zip's %d", len(got), err, len(want))
			}
		})
	}
}

// TestGarbledRefusalIsNotEchoed: a refusal whose body arrives garbled (a
// proxy's gzip bytes under a JSON Content-Type) is named by its status and
// size, not copied into the message: that message reaches the log, the
// job summary and the pull request's comment, and a blob of control bytes
// there says nothing. A readable body is still quoted.
func TestGarbledRefusalIsNotEchoed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault ghemu.Fault
		want  string
	}{
		{"garbled 409", ghemu.Fault{Garble: true, Times: 1 << 20}, "HTTP 409 (a body of "},
		{"readable 502", ghemu.Fault{Status: 502, Times: 1 << 20}, "HTTP 502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t)
			run := s.AddRun(ghemu.Run{Event: "pull_request", HeadSHA: "h"})
			s.Inject("POST "+ghemu.TwirpPrefix+"CreateArtifact", tc.fault)
			_, err := uploader(t, s, run).UploadAs(ctx, Request{Names: Names("a", 2), Files: files})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q in: %v", tc.want, err)
			}
			for _, r := range err.Error() {
				if r == utf8.RuneError || (r < ' ' && r != '\n') {
					t.Fatalf("the message carries the garbled body (%q): %q", r, err)
				}
			}
		})
	}
}

// TestLastingGarbleKeepsNamesForTheRerun: a create answered garbled once
// uses its name up (the retry's "already exists" tells), and the next
// name is taken; answered garbled for the rest of the attempt (the
// retry's "already exists" garbled too), the next name would go the same
// way, so it is kept: with two names (the state artifact's), the re-run,
// the outage over, still has one to write under.
func TestLastingGarbleKeepsNamesForTheRerun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		times  int
		usedUp int // names the first attempt uses up
	}{
		{"once", 1, 1},
		{"lasting", 1 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t)
			run := s.AddRun(ghemu.Run{Event: "push", HeadSHA: "h"})
			names := Names("arena-state-default", 2)
			s.Inject("POST "+ghemu.TwirpPrefix+"CreateArtifact", ghemu.Fault{Garble: true, Times: tc.times})
			up, err := uploader(t, s, run).UploadAs(ctx, Request{Names: names, Files: files})
			s.ClearFaults()
			if len(up.UsedUp) != tc.usedUp {
				t.Fatalf("first attempt used up %v (want %d): %+v %v", up.UsedUp, tc.usedUp, up, err)
			}
			if tc.times == 1 {
				if err != nil || up.Name != names[1] {
					t.Fatalf("a single garbled answer failed the upload: %+v %v", up, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("uploaded with every answer garbled: %+v", up)
			}
			rerun := s.Rerun(run.ID)
			again, err := uploader(t, s, rerun).UploadAs(ctx, Request{Names: names, Files: files})
			if err != nil || again.Name != names[1] {
				t.Fatalf("re-run: %+v %v", again, err)
			}
		})
	}
}
