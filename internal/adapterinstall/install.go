// Package adapterinstall installs a deploy adapter from GitHub Releases and
// proves its integrity before it runs: a pinned sha256, or the release's
// checksums file, or an explicit, loudly reported decision to run it
// unverified.
package adapterinstall

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// Registry is the promptarena CLI's list of known providers and the
// repositories that release their adapters.
var Registry = map[string]string{
	"agentcore": "AltairaLabs/promptarena-deploy-agentcore",
	"omnia":     "AltairaLabs/PromptArena-deploy-omnia",
	"foundry":   "AltairaLabs/promptarena-deploy-foundry",
	"vertex":    "AltairaLabs/promptarena-deploy-vertex",
}

// Errors callers branch on.
var (
	ErrUnknownProvider  = errors.New("unknown adapter provider")
	ErrNotFound         = errors.New("adapter release or asset not found")
	ErrChecksumMismatch = errors.New("adapter checksum mismatch")
	ErrUnverified       = errors.New("adapter cannot be verified")
	ErrVersionChanged   = errors.New("adapter version differs from the plan's")
	ErrRateLimited      = errors.New("GitHub API rate limit")
)

// Request says what to install.
type Request struct {
	Spec            string // <provider>[@<version>]
	Repo            string // owner/name: overrides or adds to Registry
	SHA256          string // pinned digest (hex, optional "sha256:" prefix)
	AllowUnverified bool
	OS, Arch        string
	ProjectDir      string
	// RequireVersion, when set and Spec names no version, is the version
	// the latest release must be (apply of a plan made with "latest").
	RequireVersion string
}

// Result is what was installed.
type Result struct {
	Provider string `json:"provider"`
	Version  string `json:"version"`
	Release  string `json:"release"` // owner/name@tag
	Asset    string `json:"asset"`
	SHA256   string `json:"sha256"`   // "sha256:<hex>"
	Verified string `json:"verified"` // pinned, checksums, unverified
	Path     string `json:"-"`
	Reused   bool   `json:"-"`
}

// Installer downloads through the API with the action's token (private
// repositories, GitHub Enterprise Server) and fetches signed asset URLs
// with Blob, which never carries the token.
type Installer struct {
	GH   *github.Client
	Blob *http.Client
	Warn func(format string, args ...any)
}

// ParseSpec splits "omnia@1.4.0" into provider and version ("v" dropped).
func ParseSpec(spec string) (provider, version string) {
	provider, version, _ = strings.Cut(strings.TrimSpace(spec), "@")
	return strings.ToLower(strings.TrimSpace(provider)), strings.TrimPrefix(strings.TrimSpace(version), "v")
}

// Install resolves, downloads, verifies and installs the adapter into
// <project>/.promptarena/adapters, where discovery finds it first.
func (in *Installer) Install(ctx context.Context, req Request) (*Result, error) {
	provider, version := ParseSpec(req.Spec)
	repo, err := resolveRepo(provider, req.Repo)
	if err != nil {
		return nil, err
	}
	owner, name, _ := strings.Cut(repo, "/")
	rel, err := in.release(ctx, owner, name, version)
	if err != nil {
		return nil, err
	}
	res := &Result{Provider: provider, Version: strings.TrimPrefix(rel.GetTagName(), "v"), Release: repo + "@" + rel.GetTagName()}
	if version == "" && req.RequireVersion != "" && res.Version != req.RequireVersion {
		return nil, fmt.Errorf("%w: the plan was made with %s %s, the latest release is now %s; pin adapter-install: %s@%s",
			ErrVersionChanged, provider, req.RequireVersion, res.Version, provider, req.RequireVersion)
	}
	res.Asset = deploy.AdapterBinaryName(provider) + "_" + req.OS + "_" + req.Arch
	asset := findAsset(rel, res.Asset)
	if asset == nil {
		return nil, fmt.Errorf("%w: release %s has no asset %s for this runner; it has: %s",
			ErrNotFound, res.Release, res.Asset, strings.Join(assetNames(rel), ", "))
	}
	dest := filepath.Join(req.ProjectDir, deploy.DirName, "adapters", deploy.AdapterBinaryName(provider))
	res.Path = dest
	want, how, err := in.expectedDigest(ctx, owner, name, rel, res.Asset, req.SHA256)
	if err != nil {
		return nil, err
	}
	if reused := reuse(dest, res, want); reused {
		return res, nil
	}
	data, err := in.download(ctx, owner, name, asset.GetID())
	if err != nil {
		return nil, err
	}
	res.SHA256, res.Verified = digest(data), how
	switch {
	case want != "" && want != res.SHA256:
		return nil, fmt.Errorf("%w: %s from %s has %s, expected %s (%s); do not run it", ErrChecksumMismatch, res.Asset, res.Release, res.SHA256, want, how)
	case want == "" && !req.AllowUnverified:
		return nil, fmt.Errorf("%w: %s has no checksums file and adapter-sha256 is not set; pin it with adapter-sha256: %s "+
			"(after checking it), or set adapter-allow-unverified: true", ErrUnverified, res.Release, strings.TrimPrefix(res.SHA256, "sha256:"))
	case want == "":
		res.Verified = "unverified"
		if in.Warn != nil {
			in.Warn("UNVERIFIED ADAPTER: %s from %s (%s) was not checked against any checksum and runs with this job's secrets. Pin it with adapter-sha256.", res.Asset, res.Release, res.SHA256)
		}
	}
	if err := installFile(dest, data, res); err != nil {
		return nil, err
	}
	return res, nil
}

func resolveRepo(provider, override string) (string, error) {
	if override != "" {
		if o, n, ok := strings.Cut(override, "/"); !ok || o == "" || n == "" || strings.Contains(n, "/") {
			return "", fmt.Errorf("adapter-repo must be owner/name, not %q", override)
		}
		return override, nil
	}
	if repo, ok := Registry[provider]; ok {
		return repo, nil
	}
	known := make([]string, 0, len(Registry))
	for k := range Registry {
		known = append(known, k)
	}
	sort.Strings(known)
	return "", fmt.Errorf("%w %q: known providers are %s; for another one set adapter-repo: owner/name", ErrUnknownProvider, provider, strings.Join(known, ", "))
}

func (in *Installer) release(ctx context.Context, owner, name, version string) (*github.RepositoryRelease, error) {
	var (
		rel  *github.RepositoryRelease
		resp *github.Response
		err  error
		what string
	)
	if version == "" {
		what = "the latest release"
		rel, resp, err = in.GH.Repositories.GetLatestRelease(ctx, owner, name)
	} else {
		what = "release v" + version
		rel, resp, err = in.GH.Repositories.GetReleaseByTag(ctx, owner, name, "v"+version)
	}
	return rel, apiError(err, resp, fmt.Sprintf("%s of %s/%s", what, owner, name))
}

func apiError(err error, resp *github.Response, what string) error {
	if err == nil {
		return nil
	}
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		return fmt.Errorf("%w: retry after %s (%s)", ErrRateLimited, rl.Rate.Reset.Format(time.RFC3339), what)
	case errors.As(err, &abuse):
		return fmt.Errorf("%w: secondary limit, retry in %s (%s)", ErrRateLimited, abuse.GetRetryAfter(), what)
	case resp != nil && resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s does not exist, or the repository is private and github-token cannot read it (tags are v<version>)", ErrNotFound, what)
	}
	return fmt.Errorf("get %s: %w", what, err)
}

func findAsset(rel *github.RepositoryRelease, name string) *github.ReleaseAsset {
	for _, a := range rel.Assets {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func assetNames(rel *github.RepositoryRelease) []string {
	names := []string{}
	for _, a := range rel.Assets {
		names = append(names, a.GetName())
	}
	if len(names) == 0 {
		return []string{"(no assets)"}
	}
	return names
}

// expectedDigest is the digest to check against: the pin, else the entry
// in the release's checksums file (goreleaser's checksums.txt or a
// <asset>.sha256), else "" (unverifiable).
func (in *Installer) expectedDigest(ctx context.Context, owner, name string, rel *github.RepositoryRelease, asset, pin string) (string, string, error) {
	if pin != "" {
		h := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(pin), "sha256:"))
		if len(h) != 64 {
			return "", "", fmt.Errorf("adapter-sha256 must be 64 hex digits, not %q", pin)
		}
		return "sha256:" + h, "pinned", nil
	}
	for _, a := range rel.Assets {
		n := a.GetName()
		if n != "checksums.txt" && n != asset+".sha256" && !strings.HasSuffix(n, "_checksums.txt") && !strings.HasSuffix(n, ".sha256") {
			continue
		}
		data, err := in.download(ctx, owner, name, a.GetID())
		if err != nil {
			return "", "", err
		}
		if h := lookupChecksum(data, asset); h != "" {
			return "sha256:" + h, "checksums", nil
		}
	}
	return "", "", nil
}

// lookupChecksum finds asset in "<hex>  <name>" lines (a lone hex in a
// .sha256 file counts too).
func lookupChecksum(data []byte, asset string) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 2 && strings.TrimPrefix(f[1], "*") == asset && len(f[0]) == 64:
			return strings.ToLower(f[0])
		case len(f) == 1 && len(f[0]) == 64:
			return strings.ToLower(f[0])
		}
	}
	return ""
}

func (in *Installer) download(ctx context.Context, owner, name string, id int64) ([]byte, error) {
	rc, _, err := in.GH.Repositories.DownloadReleaseAsset(ctx, owner, name, id, in.Blob)
	if err != nil {
		return nil, apiError(err, nil, fmt.Sprintf("release asset %d of %s/%s", id, owner, name))
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 512<<20))
	if err != nil {
		return nil, fmt.Errorf("download release asset %d: %w", id, err)
	}
	return data, nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// reuse keeps an adapter this job already installed and verified, if the
// record and the file's digest still match.
func reuse(dest string, res *Result, want string) bool {
	raw, err := os.ReadFile(dest + ".json")
	if err != nil {
		return false
	}
	var prev Result
	if json.Unmarshal(raw, &prev) != nil || prev.Release != res.Release || prev.Asset != res.Asset || prev.Verified == "unverified" {
		return false
	}
	data, err := os.ReadFile(dest)
	if err != nil || digest(data) != prev.SHA256 || (want != "" && want != prev.SHA256) {
		return false
	}
	*res = prev
	res.Path, res.Reused = dest, true
	return true
}

// installFile writes the binary atomically (0755) and its record beside it.
func installFile(dest string, data []byte, res *Result) error {
	if err := deploy.WriteFileAtomic(dest, data); err != nil {
		return fmt.Errorf("install adapter: %w", err)
	}
	if err := os.Chmod(dest, 0o755); err != nil {
		return fmt.Errorf("install adapter: %w", err)
	}
	rec, _ := json.MarshalIndent(res, "", "  ")
	return deploy.WriteFileAtomic(dest+".json", rec)
}
