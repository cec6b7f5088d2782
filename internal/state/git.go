package state

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// Git reads the state file earlier versions committed to a branch (the
// state alone, through the contents API): the state a Branch carries over
// until a write adds its record. It writes nothing.
type Git struct {
	GH          *github.Client
	Owner, Repo string
	Branch      string
	Path        string // in the repository
	Env         string
}

// Describe implements Loader.
func (g *Git) Describe() string { return g.Path + " on " + g.Branch }

// Load implements Loader.
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
