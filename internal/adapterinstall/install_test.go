package adapterinstall

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

var ctx = context.Background()

const asset = "promptarena-deploy-omnia_linux_amd64"

func hexOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func setup(t *testing.T, releases map[string]map[string][]byte) (*Installer, *ghemu.Server, *[]string) {
	t.Helper()
	s := ghemu.New(t)
	for _, tag := range []string{"v1.3.0", "v1.4.0"} { // added in order: v1.4.0 is latest
		if assets, ok := releases[tag]; ok {
			s.AddRelease(Registry["omnia"], tag, assets)
		}
	}
	var warnings []string
	in := &Installer{GH: s.GitHubClient(ghemu.DefaultToken), Blob: s.Client(), Warn: func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }}
	return in, s, &warnings
}

func req(t *testing.T, spec string) Request {
	return Request{Spec: spec, OS: "linux", Arch: "amd64", ProjectDir: t.TempDir()}
}

func TestInstall(t *testing.T) {
	v13, v14 := []byte("adapter 1.3.0"), []byte("adapter 1.4.0")
	withSums := map[string]map[string][]byte{
		"v1.3.0": {asset: v13, "checksums.txt": []byte(hexOf(v13) + "  " + asset + "\n")},
		"v1.4.0": {asset: v14, "checksums.txt": []byte(hexOf([]byte("other")) + "  other_linux_arm64\n" + hexOf(v14) + "  " + asset + "\n")},
	}
	cases := []struct {
		name     string
		releases map[string]map[string][]byte
		mod      func(r *Request)
		wantErr  error
		want     []byte
		verified string
	}{
		{name: "by version, checksums file", releases: withSums, mod: func(r *Request) { r.Spec = "omnia@1.3.0" }, want: v13, verified: "checksums"},
		{name: "latest", releases: withSums, want: v14, verified: "checksums"},
		{name: "leading v tolerated", releases: withSums, mod: func(r *Request) { r.Spec = "omnia@v1.3.0" }, want: v13, verified: "checksums"},
		{name: "pinned match", releases: withSums, mod: func(r *Request) { r.Spec, r.SHA256 = "omnia@1.4.0", "sha256:"+hexOf(v14) }, want: v14, verified: "pinned"},
		{name: "pinned mismatch", releases: withSums, mod: func(r *Request) { r.Spec, r.SHA256 = "omnia@1.4.0", hexOf(v13) }, wantErr: ErrChecksumMismatch},
		{name: "checksums mismatch", releases: map[string]map[string][]byte{"v1.4.0": {asset: []byte("tampered"), "checksums.txt": []byte(hexOf(v14) + "  " + asset + "\n")}}, wantErr: ErrChecksumMismatch},
		{name: "missing asset for the arch", releases: withSums, mod: func(r *Request) { r.Arch = "arm64" }, wantErr: ErrNotFound},
		{name: "unverified refused", releases: map[string]map[string][]byte{"v1.4.0": {asset: v14}}, wantErr: ErrUnverified},
		{name: "unverified allowed", releases: map[string]map[string][]byte{"v1.4.0": {asset: v14}}, mod: func(r *Request) { r.AllowUnverified = true }, want: v14, verified: "unverified"},
		{name: "no such version", releases: withSums, mod: func(r *Request) { r.Spec = "omnia@9.9.9" }, wantErr: ErrNotFound},
		{name: "unknown provider", releases: withSums, mod: func(r *Request) { r.Spec = "acme" }, wantErr: ErrUnknownProvider},
		{name: "latest moved since the plan", releases: withSums, mod: func(r *Request) { r.RequireVersion = "1.3.0" }, wantErr: ErrVersionChanged},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, _, warnings := setup(t, tc.releases)
			r := req(t, "omnia")
			if tc.mod != nil {
				tc.mod(&r)
			}
			res, err := in.Install(ctx, r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				if _, statErr := os.Stat(r.ProjectDir + "/.promptarena/adapters/promptarena-deploy-omnia"); statErr == nil {
					t.Fatal("a refused adapter was installed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(res.Path)
			fi, _ := os.Stat(res.Path)
			if string(got) != string(tc.want) || fi.Mode().Perm() != 0o755 || res.Verified != tc.verified || res.SHA256 != "sha256:"+hexOf(tc.want) {
				t.Fatalf("installed %q mode %v result %+v", got, fi.Mode(), res)
			}
			if tc.verified == "unverified" && (len(*warnings) != 1 || !strings.Contains((*warnings)[0], "UNVERIFIED")) {
				t.Errorf("warnings %v", *warnings)
			}
		})
	}
}

func TestErrorsNameWhatExists(t *testing.T) {
	in, _, _ := setup(t, map[string]map[string][]byte{"v1.4.0": {asset: []byte("x"), "promptarena-deploy-omnia_darwin_arm64": []byte("y")}})
	r := req(t, "omnia@1.4.0")
	r.Arch = "arm64"
	_, err := in.Install(ctx, r)
	if err == nil || !strings.Contains(err.Error(), "promptarena-deploy-omnia_darwin_arm64") {
		t.Fatalf("assets not listed: %v", err)
	}
	_, err = in.Install(ctx, req(t, "nope"))
	if err == nil || !strings.Contains(err.Error(), "agentcore, foundry, omnia, vertex") || !strings.Contains(err.Error(), "adapter-repo") {
		t.Fatalf("providers not listed: %v", err)
	}
}

func TestReuseInSameJob(t *testing.T) {
	v14 := []byte("adapter 1.4.0")
	in, s, _ := setup(t, map[string]map[string][]byte{"v1.4.0": {asset: v14, "checksums.txt": []byte(hexOf(v14) + "  " + asset + "\n")}})
	r := req(t, "omnia@1.4.0")
	if _, err := in.Install(ctx, r); err != nil {
		t.Fatal(err)
	}
	s.ResetLog()
	res, err := in.Install(ctx, r)
	if err != nil || !res.Reused {
		t.Fatalf("%+v %v", res, err)
	}
	if n := s.CountRequests("GET /repos/AltairaLabs/PromptArena-deploy-omnia/releases/assets/"); n != 1 {
		t.Errorf("asset downloads on reuse: %d (only the checksums file)", n)
	}
	// A tampered installed copy is not reused.
	_ = os.WriteFile(res.Path, []byte("evil"), 0o755)
	res, err = in.Install(ctx, r)
	if err != nil || res.Reused {
		t.Fatalf("tampered copy reused: %+v %v", res, err)
	}
}

func TestRateLimitSaysWhenToRetry(t *testing.T) {
	in, s, _ := setup(t, map[string]map[string][]byte{"v1.4.0": {asset: []byte("x")}})
	s.Inject("GET /repos/{owner}/{repo}/releases/tags/{tag}", ghemu.Fault{Status: 403, Primary: true})
	_, err := in.Install(ctx, req(t, "omnia@1.4.0"))
	if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "retry after") {
		t.Fatalf("got %v", err)
	}
}
