package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// ExpiryWarning is how close to expiry a state artifact earns a warning.
const ExpiryWarning = 7 * 24 * time.Hour

type uploader interface {
	UploadAs(ctx context.Context, r artifacts.Request) (artifacts.Uploaded, error)
}

// stateNames is how many names a state artifact may take: its own, and
// one alternate (<name>-2) for a run that used its name up with an
// upload that never finished (GitHub keeps such a name until the run
// ends). Every read lists both.
const stateNames = 2

// Artifact keeps state in a workflow artifact named arena-state-<env>,
// uploaded again by every run that loads it so it never expires silently.
//
// It has one trusted writer: only artifacts of this repository's runs on
// the default branch, triggered by push, workflow_dispatch or schedule,
// are read. A pull request's run (pull_request, pull_request_target, a
// fork, another branch) can upload an artifact of that name; it is never
// taken for the state. Artifacts have no compare-and-swap: beside
// deploy.state each holds record.json with a serial one above the state it
// replaced, and after uploading, the writer lists the state artifacts
// again: another upload since the state it read is a racing writer, and
// the save fails ErrConflict with both kept.
type Artifact struct {
	Finder *artifacts.Finder
	// Trust says which runs wrote a state artifact that may be read.
	Trust    *Trust
	Uploader uploader // nil: read-only (pull request runs)
	Name     string
	// LegacyName is the name before targets (arena-state-<env>): read
	// when no state has the target's name yet, so it is carried over once.
	LegacyName    string
	Env           string
	RetentionDays int
	Now           func() time.Time
	Warn          func(format string, args ...any)

	savedAs string // the name the last Save wrote
}

// Describe implements Backend.
func (a *Artifact) Describe() string { return "artifact " + a.Name }

func (a *Artifact) trust(ctx context.Context, info *artifacts.Info) (bool, error) {
	ok, checked, err := a.Trust.Run(ctx, info)
	if err != nil {
		return false, fmt.Errorf("check who wrote the state artifact %d: %w", info.ID, err)
	}
	if !ok && checked && a.Warn != nil {
		a.Warn("Ignored the state artifact %d: its run %d is not a push, workflow_dispatch or schedule run of %s on %s (a pull request's artifact is never trusted as state).",
			info.ID, info.RunID, a.Trust.Repo, a.Trust.DefaultBranch)
	}
	return ok, nil
}

func (a *Artifact) onDefaultBranch(ctx context.Context, info *artifacts.Info) (bool, error) {
	ok, checked, err := a.Trust.OnDefaultBranch(ctx, info.HeadSHA)
	if err != nil {
		return false, fmt.Errorf("check the commit of the state artifact %d: %w", info.ID, err)
	}
	if !ok && checked && a.Warn != nil {
		a.Warn("Ignored the state artifact %d: the commit %s of its run %d is not in %s's history (a tag or another ref named %s runs its own workflow).",
			info.ID, short(info.HeadSHA), info.RunID, a.Trust.DefaultBranch, a.Trust.DefaultBranch)
	}
	return ok, nil
}

// candidates are the trusted, unexpired state artifacts, newest first; it
// fails ErrExpired when trusted ones exist but all expired.
func (a *Artifact) candidates(ctx context.Context) ([]artifacts.Info, error) {
	live, err := a.candidatesNamed(ctx, a.Name)
	if err == nil && len(live) == 0 && a.LegacyName != "" && a.LegacyName != a.Name {
		if live, err = a.candidatesNamed(ctx, a.LegacyName); len(live) > 0 && a.Warn != nil {
			a.Warn("Carrying the state over from the artifact %s (before targets) to %s.", a.LegacyName, a.Name)
		}
	}
	return live, err
}

func (a *Artifact) candidatesNamed(ctx context.Context, name string) ([]artifacts.Info, error) {
	var list []artifacts.Info
	for _, n := range artifacts.Names(name, stateNames) {
		l, err := a.Finder.List(ctx, n)
		if err != nil {
			return nil, err
		}
		list = append(list, l...)
	}
	newestFirst(list)
	var live []artifacts.Info
	var expired *artifacts.Info
	for i := range list {
		ok, err := a.trust(ctx, &list[i])
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
		case list[i].Expired:
			if expired == nil {
				expired = &list[i]
			}
		default:
			live = append(live, list[i])
		}
	}
	// The newest is the one read: its commit must be the default branch's
	// (asked of it alone, once per commit, to keep the API calls few).
	for len(live) > 0 {
		ok, err := a.onDefaultBranch(ctx, &live[0])
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		live = live[1:]
	}
	if len(live) == 0 && expired != nil {
		return nil, fmt.Errorf("%w: the state artifact %s expired at %s; restore the state from a state-conflict or apply artifact, or switch to state-backend: git",
			ErrExpired, a.Name, expired.ExpiresAt.Format(time.RFC3339))
	}
	return live, nil
}

// newestFirst orders artifacts of several names newest first: ids grow,
// created_at has seconds.
func newestFirst(list []artifacts.Info) {
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].CreatedAt.Equal(list[j].CreatedAt) {
			return list[i].CreatedAt.After(list[j].CreatedAt)
		}
		return list[i].ID > list[j].ID
	})
}

// newest is the newest trusted state artifact.
func (a *Artifact) newest(ctx context.Context) (*artifacts.Info, error) {
	live, err := a.candidates(ctx)
	if err != nil || len(live) == 0 {
		return nil, err
	}
	return &live[0], nil
}

// Load implements Backend.
func (a *Artifact) Load(ctx context.Context) (*Snapshot, error) {
	live, err := a.candidates(ctx)
	if err != nil || len(live) == 0 {
		return &Snapshot{}, err
	}
	info := &live[0]
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
	snap := &Snapshot{State: st, Raw: raw, Version: fmt.Sprint(info.ID), Files: map[string][]byte{}}
	for name, b := range files {
		if name != deploy.StateFile && name != RecordFile {
			snap.Files[name] = b
		}
	}
	if recRaw, ok := files[RecordFile]; ok {
		var rec Record
		if err := json.Unmarshal(recRaw, &rec); err != nil {
			return nil, fmt.Errorf("load state %s: %w: %s is not JSON (%v)", a.Describe(), deploy.ErrCorrupt, RecordFile, err)
		}
		snap.Record = &rec
		if err := a.forked(ctx, live, info, &rec); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// forked fails ErrConflict when another trusted state artifact is newer
// than the one the newest replaced: two runs wrote from the same state
// without the lock. The later upload saw the other and failed, but it is
// the newest; loading it would drop the other's update without a word.
func (a *Artifact) forked(ctx context.Context, live []artifacts.Info, newest *artifacts.Info, rec *Record) error {
	if rec.BaseArtifact == nil {
		return nil // written before records named their base
	}
	for _, o := range live {
		// The same run's other state artifact is no racing writer: GitHub
		// can record one upload twice (a finalize answered twice).
		if o.ID == newest.ID || o.ID <= *rec.BaseArtifact || o.RunID == newest.RunID {
			continue
		}
		ok, err := a.onDefaultBranch(ctx, &o)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		return fmt.Errorf("%w: %s: artifacts %d (run %d) and %d (run %d) were both written from the same state (artifact %d) by runs that raced without the deploy lock; "+
			"one of them failed state-conflict. Keep the state that matches what is deployed: delete the other artifact "+
			"(gh api -X DELETE repos/%s/actions/artifacts/<id>), then re-run. The deploy lock on the state branch (a token that may push to it) prevents this",
			ErrConflict, a.Name, newest.ID, newest.RunID, o.ID, o.RunID, *rec.BaseArtifact, a.Trust.Repo)
	}
	return nil
}

// Save implements Backend. Artifacts have no compare-and-swap: it checks
// that the newest state is still the one loaded, uploads with the next
// serial, then lists again: an upload by another run since the state it
// read is a racing writer (the deploy lock, when held, rules that out).
func (a *Artifact) Save(ctx context.Context, w *Write, base *Snapshot) (string, error) {
	if a.Uploader == nil {
		return "", errors.New("state artifacts are written only by apply, status and refresh runs")
	}
	cur, err := a.newest(ctx)
	if err != nil && !errors.Is(err, ErrExpired) {
		return "", err
	}
	want := versionOf(base)
	if cur != nil && fmt.Sprint(cur.ID) != want {
		return "", fmt.Errorf("%w: a newer %s (id %d) was uploaded by another run", ErrConflict, a.Name, cur.ID)
	}
	raw, err := encode(w.State)
	if err != nil {
		return "", err
	}
	baseID, _ := strconv.ParseInt(want, 10, 64) // "" (no state yet): 0
	rec := nextRecord(base, w, raw)
	rec.State = "" // deploy.state is beside it
	rec.BaseArtifact = &baseID
	recRaw, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return "", err
	}
	files := []artifacts.File{{Name: deploy.StateFile, Data: raw}, {Name: RecordFile, Data: recRaw}}
	if w.Pack != nil {
		files = append(files, artifacts.File{Name: DeployedPackFile, Data: w.Pack})
	}
	for _, name := range sortedKeys(w.Files) {
		files = append(files, artifacts.File{Name: name, Data: w.Files[name]})
	}
	// Files not written now keep their last content (each artifact holds
	// all of them), unless nothing is deployed any more.
	if base != nil && w.State != nil && w.State.State != "" {
		for _, name := range sortedKeys(base.Files) {
			if _, ok := w.Files[name]; !ok && !(name == DeployedPackFile && w.Pack != nil) {
				files = append(files, artifacts.File{Name: name, Data: base.Files[name]})
			}
		}
	}
	var expires time.Time
	if a.RetentionDays > 0 {
		expires = a.Now().Add(time.Duration(a.RetentionDays) * 24 * time.Hour)
	}
	// The state it replaces is never deleted to free a name (a re-run of
	// the apply that wrote it): were the upload to fail then, no state
	// would be left; the other name is taken instead.
	up, err := a.Uploader.UploadAs(ctx, artifacts.Request{Names: artifacts.Names(a.Name, stateNames), Files: files, ExpiresAt: expires, Keep: baseID})
	if err != nil {
		// Before calling it failed: the upload may have landed although
		// its answers said otherwise.
		if o, ok := a.landed(ctx, w, baseID, raw, rec.Serial); ok {
			a.savedAs = o.Name
			return fmt.Sprint(o.ID), nil
		}
		return "", fmt.Errorf("save state %s: %w", a.Describe(), err)
	}
	id := up.ID
	a.savedAs = up.Name
	if len(up.UsedUp) > 0 && a.Warn != nil {
		a.Warn("The state artifact name %s is used up in this run (an upload of it never finished, and GitHub keeps the name until the run ends): the state was written as %s, which every run reads too.", strings.Join(up.UsedUp, ", "), up.Name)
	}
	// Racing writers: any other state artifact since the one we read.
	live, err := a.candidatesNamed(ctx, a.Name)
	if err != nil {
		// The state is written (the finalize said so); whether another
		// run wrote one from the same state meanwhile, the next read
		// tells (Load fails state-conflict on two written from one).
		if a.Warn != nil {
			a.Warn("The state was written (artifact %d), but listing the state artifacts again to rule out a racing writer failed: %v. The next run checks it.", id, err)
		}
		return fmt.Sprint(id), nil
	}
	for _, o := range live {
		// This run's other artifact is no racing writer: GitHub can
		// record one upload twice (a finalize answered twice).
		if o.ID == id || o.ID <= baseID || (w.RunID != 0 && o.RunID == w.RunID) {
			continue
		}
		if ok, err := a.onDefaultBranch(ctx, &o); err != nil {
			return "", fmt.Errorf("save state %s: %w", a.Describe(), err)
		} else if ok {
			return "", fmt.Errorf("%w: %s: run %d uploaded state (artifact %d) from the same state (serial %d) as this run (artifact %d, serial %d); both are kept",
				ErrConflict, a.Name, o.RunID, o.ID, base.Serial(), id, rec.Serial)
		}
	}
	return fmt.Sprint(id), nil
}

// landed finds the state this run uploaded although the upload failed:
// an artifact of this run newer than the base, holding exactly the state
// and serial written.
func (a *Artifact) landed(ctx context.Context, w *Write, baseID int64, raw []byte, serial int64) (*artifacts.Info, bool) {
	if w.RunID == 0 {
		return nil, false
	}
	live, err := a.candidatesNamed(ctx, a.Name)
	if err != nil {
		return nil, false
	}
	for _, o := range live {
		if o.RunID != w.RunID || o.ID <= baseID {
			continue
		}
		data, err := a.Finder.Download(ctx, o.ID)
		if err != nil {
			continue
		}
		files, err := artifacts.Unzip(data, artifacts.DefaultLimits)
		if err != nil {
			continue
		}
		var rec Record
		if json.Unmarshal(files[RecordFile], &rec) == nil && rec.Serial == serial && bytes.Equal(files[deploy.StateFile], raw) {
			return &o, true
		}
	}
	return nil, false
}

// SavedAs is the name the last Save wrote the state under: its own, or
// the alternate when the run had used its own up.
func (a *Artifact) SavedAs() string {
	if a.savedAs == "" {
		return a.Name
	}
	return a.savedAs
}

// LoadFile is a file kept beside the newest trusted state (Write.Files);
// nil when there is none.
func (a *Artifact) LoadFile(ctx context.Context, name string) ([]byte, error) {
	info, err := a.newest(ctx)
	if err != nil || info == nil {
		return nil, err
	}
	data, err := a.Finder.Download(ctx, info.ID)
	if err != nil {
		return nil, err
	}
	files, err := artifacts.Unzip(data, artifacts.DefaultLimits)
	if err != nil {
		return nil, err
	}
	return files[name], nil
}

// LoadDeployedPack is the pack recorded beside the newest trusted state
// (nil when none).
func (a *Artifact) LoadDeployedPack(ctx context.Context) ([]byte, error) {
	info, err := a.newest(ctx)
	if err != nil || info == nil {
		return nil, err
	}
	data, err := a.Finder.Download(ctx, info.ID)
	if err != nil {
		return nil, err
	}
	files, err := artifacts.Unzip(data, artifacts.DefaultLimits)
	if err != nil {
		return nil, err
	}
	return files[DeployedPackFile], nil
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
