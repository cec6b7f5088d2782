package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// ExpiryWarning is how close to expiry a state artifact earns a warning.
const ExpiryWarning = 7 * 24 * time.Hour

type uploader interface {
	Upload(ctx context.Context, name string, files []artifacts.File, expiresAt time.Time) (id, size int64, err error)
}

// Artifact keeps state in a workflow artifact named arena-state-<env>,
// uploaded again by every run that loads it so it never expires silently.
type Artifact struct {
	Finder        *artifacts.Finder
	Uploader      uploader // nil: read-only (pull request runs)
	Name          string
	Env           string
	RetentionDays int
	Now           func() time.Time
	Warn          func(format string, args ...any)
}

// Describe implements Backend.
func (a *Artifact) Describe() string { return "artifact " + a.Name }

// newest is the newest usable state artifact of this repository.
func (a *Artifact) newest(ctx context.Context) (*artifacts.Info, error) {
	list, err := a.Finder.List(ctx, a.Name)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if !list[i].FromFork && !list[i].Expired {
			return &list[i], nil
		}
	}
	for i := range list {
		if !list[i].FromFork {
			return nil, fmt.Errorf("%w: the state artifact %s expired at %s; restore the state from a state-conflict or apply artifact, or switch to state-backend: git",
				ErrExpired, a.Name, list[i].ExpiresAt.Format(time.RFC3339))
		}
	}
	return nil, nil
}

// Load implements Backend.
func (a *Artifact) Load(ctx context.Context) (*Snapshot, error) {
	info, err := a.newest(ctx)
	if err != nil || info == nil {
		return &Snapshot{}, err
	}
	if left := info.ExpiresAt.Sub(a.Now()); left < ExpiryWarning && a.Warn != nil {
		a.Warn("The state artifact %s expires in %s (at %s). Every apply, status and refresh run uploads it again; "+
			"schedule a refresh run if deploys are rare, or use state-backend: git.", a.Name, left.Round(time.Hour), info.ExpiresAt.Format(time.RFC3339))
	}
	data, err := a.Finder.Download(ctx, info.ID)
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", a.Describe(), err)
	}
	files, err := artifacts.Unzip(data, artifacts.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", a.Describe(), err)
	}
	raw, ok := files[deploy.StateFile]
	if !ok {
		return nil, fmt.Errorf("load state %s: %w: no %s in the artifact", a.Describe(), deploy.ErrCorrupt, deploy.StateFile)
	}
	st, err := decode(raw, a.Describe(), a.Env)
	if err != nil {
		return nil, err
	}
	return &Snapshot{State: st, Raw: raw, Version: fmt.Sprint(info.ID)}, nil
}

// Save implements Backend. Artifacts have no compare-and-swap, so it
// checks that the newest state is still the one loaded; the deploy lock and
// the workflow's concurrency group close the remaining window.
func (a *Artifact) Save(ctx context.Context, w *Write, base *Snapshot) (string, error) {
	st := w.State
	if a.Uploader == nil {
		return "", errors.New("state artifacts are written only by apply, status and refresh runs")
	}
	cur, err := a.newest(ctx)
	if err != nil && !errors.Is(err, ErrExpired) {
		return "", err
	}
	want := ""
	if base != nil {
		want = base.Version
	}
	if cur != nil && fmt.Sprint(cur.ID) != want {
		return "", fmt.Errorf("%w: a newer %s (id %d) was uploaded by another run", ErrConflict, a.Name, cur.ID)
	}
	raw, err := encode(st)
	if err != nil {
		return "", err
	}
	var expires time.Time
	if a.RetentionDays > 0 {
		expires = a.Now().Add(time.Duration(a.RetentionDays) * 24 * time.Hour)
	}
	id, _, err := a.Uploader.Upload(ctx, a.Name, []artifacts.File{{Name: deploy.StateFile, Data: raw}}, expires)
	if err != nil {
		return "", fmt.Errorf("save state %s: %w", a.Describe(), err)
	}
	return fmt.Sprint(id), nil
}

// Delete implements Backend: it uploads an empty state, since deleting
// artifacts of other runs needs a write token the action does not ask for.
func (a *Artifact) Delete(ctx context.Context, base *Snapshot, msg string) error {
	if base == nil || base.State == nil {
		return nil
	}
	empty := *base.State
	empty.State, empty.LastDeployed = "", a.Now().UTC().Format(time.RFC3339)
	_, err := a.Save(ctx, &Write{State: &empty, Message: msg}, base)
	return err
}
