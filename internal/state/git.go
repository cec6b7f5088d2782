package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v60/github"
)

// Git keeps state as a file on a branch, written through the contents API
// with the blob sha read before apply: GitHub refuses the write (409) if
// another deploy committed in between.
type Git struct {
	GH          *github.Client
	Owner, Repo string
	Branch      string
	Path        string // in the repository
	Env         string
	Lock        LockOptions
}

// LockTarget implements Locker: a lock record next to the state file
// (<state-path>.lock), written with the contents API.
func (g *Git) LockTarget(ctx context.Context, h Holder, wait time.Duration) (Lease, error) {
	l := &contentsLock{gh: g.GH, owner: g.Owner, repo: g.Repo, branch: g.Branch, path: g.Path + ".lock", opts: g.Lock}
	return l.lock(ctx, h, wait)
}

// Describe implements Backend.
func (g *Git) Describe() string { return g.Path + " on " + g.Branch }

// Load implements Backend.
func (g *Git) Load(ctx context.Context) (*Snapshot, error) {
	fc, _, resp, err := g.GH.Repositories.GetContents(ctx, g.Owner, g.Repo, g.Path, &github.RepositoryContentGetOptions{Ref: g.Branch})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return &Snapshot{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", g.Describe(), err)
	}
	if fc == nil {
		return nil, fmt.Errorf("load state %s: it is a directory, not a file", g.Describe())
	}
	var raw []byte
	if fc.GetEncoding() == "none" { // over 1 MB: the contents API leaves it out
		raw, err = readBlob(ctx, g.GH, g.Owner, g.Repo, fc.GetSHA())
	} else {
		var text string
		text, err = fc.GetContent()
		raw = []byte(text)
	}
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", g.Describe(), err)
	}
	st, err := decode(raw, g.Describe(), g.Env)
	if err != nil {
		return nil, err
	}
	return &Snapshot{State: st, Raw: raw, Version: fc.GetSHA()}, nil
}

// Save implements Backend: a compare-and-swap commit with [skip ci].
func (g *Git) Save(ctx context.Context, w *Write, base *Snapshot) (string, error) {
	message := w.Message
	b, err := encode(w.State)
	if err != nil {
		return "", err
	}
	opts := &github.RepositoryContentFileOptions{
		Message: github.String(message + " [skip ci]"),
		Content: b,
		Branch:  github.String(g.Branch),
	}
	if base != nil && base.Version != "" {
		opts.SHA = github.String(base.Version)
	}
	res, resp, err := g.GH.Repositories.CreateFile(ctx, g.Owner, g.Repo, g.Path, opts)
	if refusal(resp, err) {
		return "", notWritable(g.Describe(), err)
	}
	if resp != nil && (resp.StatusCode == http.StatusConflict || (resp.StatusCode == http.StatusUnprocessableEntity && opts.SHA == nil)) {
		// A retried write whose first answer was lost conflicts with
		// itself: if the file holds exactly our bytes, it is our write.
		if cur, lerr := g.Load(ctx); lerr == nil && bytes.Equal(cur.Raw, b) {
			// Report the commit, as a write that was answered does (the
			// state-sha output): our write is the branch's head.
			if br, _, berr := g.GH.Repositories.GetBranch(ctx, g.Owner, g.Repo, g.Branch, 1); berr == nil && br.GetCommit().GetSHA() != "" {
				return br.GetCommit().GetSHA(), nil
			}
			return cur.Version, nil
		}
		return "", fmt.Errorf("%w: %s: %v", ErrConflict, g.Describe(), err)
	}
	if err != nil {
		return "", fmt.Errorf("save state %s: %w", g.Describe(), err)
	}
	return res.GetSHA(), nil
}

// Delete implements Backend.
func (g *Git) Delete(ctx context.Context, base *Snapshot, message string) error {
	if base == nil || base.Version == "" {
		return nil
	}
	_, resp, err := g.GH.Repositories.DeleteFile(ctx, g.Owner, g.Repo, g.Path, &github.RepositoryContentFileOptions{
		Message: github.String(message + " [skip ci]"), SHA: github.String(base.Version), Branch: github.String(g.Branch),
	})
	if resp != nil && resp.StatusCode == http.StatusConflict {
		return fmt.Errorf("%w: %s: %v", ErrConflict, g.Describe(), err)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("delete state %s: %w", g.Describe(), err)
	}
	return err
}
