// Package deployedpack finds the pack a pull request's pack is compared
// with: the exact pack last applied to the target when the state backend
// records it, else the pack at the pull request's base commit (read through
// the contents API, and the Git Data API for files over 1 MB), else
// nothing, in which case every prompt is new.
package deployedpack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Source is where the deployed side came from.
type Source int

// Sources, in the order they are tried.
const (
	Recorded   Source = iota // the pack recorded at the last apply
	BaseCommit               // the pack at the base commit
	None                     // nothing to compare with
)

// Recorder is a state backend that keeps the pack last applied (the state
// branch does).
type Recorder interface {
	LoadDeployedPack(ctx context.Context) ([]byte, error)
}

// Result is the deployed side of the diff.
type Result struct {
	Pack   []byte // nil with None
	Source Source
	SHA    string // the base commit (BaseCommit)
}

// Finder looks the deployed pack up. Recorder and GitHub may be nil.
type Finder struct {
	Recorder    Recorder
	GitHub      *github.Client
	Owner, Repo string
}

// Find returns the deployed side for a pack at packPath (relative to the
// repository root) on a pull request based on baseSHA.
func (f *Finder) Find(ctx context.Context, baseSHA, packPath string) (*Result, error) {
	if f.Recorder != nil {
		raw, err := f.Recorder.LoadDeployedPack(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the pack recorded at the last apply: %w", err)
		}
		if raw != nil {
			return &Result{Pack: raw, Source: Recorded}, nil
		}
	}
	if f.GitHub == nil || baseSHA == "" {
		return &Result{Source: None}, nil
	}
	p := strings.TrimPrefix(path.Clean("/"+packPath), "/")
	raw, err := f.atCommit(ctx, baseSHA, p)
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
		return &Result{Source: None}, nil
	case err != nil:
		return nil, fmt.Errorf("read %s at the base commit %s: %w", p, shortSHA(baseSHA), err)
	case raw == nil:
		return &Result{Source: None}, nil
	}
	return &Result{Pack: raw, Source: BaseCommit, SHA: baseSHA}, nil
}

// AtCommit reads the file p (relative to the repository root) as it is at
// commit sha: nil when there is no file there. A rollback takes the pack
// it restores from here, the default branch's history.
func (f *Finder) AtCommit(ctx context.Context, sha, p string) ([]byte, error) {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	raw, err := f.atCommit(ctx, sha, p)
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	return raw, err
}

// atCommit reads a file at a commit: the contents API, then the blob when
// the file is over the contents API's 1 MB (it then sends no content).
func (f *Finder) atCommit(ctx context.Context, sha, p string) ([]byte, error) {
	file, _, _, err := f.GitHub.Repositories.GetContents(ctx, f.Owner, f.Repo, p, &github.RepositoryContentGetOptions{Ref: sha})
	if err != nil {
		return nil, err
	}
	if file == nil || file.GetType() != "file" {
		return nil, nil // a directory by that name: no pack there
	}
	if file.GetEncoding() == "base64" && (file.Content != nil && *file.Content != "" || file.GetSize() == 0) {
		s, err := file.GetContent()
		if err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	return f.rawBlob(ctx, file.GetSHA(), file.GetSize())
}

// rawBlob reads a blob's bytes as they are (the raw media type), into a
// buffer of the size the contents API gave: the JSON form would hold the
// pack base64-encoded, then decoded, several times its size at once.
func (f *Finder) rawBlob(ctx context.Context, sha string, size int) ([]byte, error) {
	req, err := f.GitHub.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/git/blobs/%s", f.Owner, f.Repo, sha), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.github.raw+json")
	resp, err := f.GitHub.BareDo(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", sha, err)
	}
	defer resp.Body.Close()
	if b, ok := resp.Body.(interface{ Bytes() []byte }); ok {
		return b.Bytes(), nil // read whole by the client (internal/ghclient): no second copy
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", sha, err)
	}
	return buf.Bytes(), nil
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}
