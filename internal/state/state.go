// Package state stores the deploy state of one environment in a backend:
// a local file, a file committed through the contents API, or a workflow
// artifact. Every save is a compare-and-swap against what was loaded, so two
// racing deploys never both write.
package state

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// ErrConflict is matched when the stored state changed since it was loaded.
var ErrConflict = errors.New("deploy state changed since it was read")

// ErrOtherEnvironment is matched when the stored state belongs to another
// environment.
var ErrOtherEnvironment = errors.New("state file holds another environment")

// ErrExpired is matched when the only stored state (an artifact) expired.
var ErrExpired = errors.New("deploy state expired")

// Snapshot is the state as loaded, with what a later save compares against.
type Snapshot struct {
	State   *deploy.State // nil: no prior deploy
	Raw     []byte
	Version string // backend-specific: blob sha, artifact id
	// Record is the sidecar (state branch, artifacts); nil where there is none.
	Record *Record
	// Files are the other files kept beside the state, by name, where the
	// backend reads them with the state (the artifact); nil elsewhere.
	Files map[string][]byte
	// Migrated names the old place the state was carried over from.
	Migrated string
	// Proof is the witness that proved where the state came from (nil:
	// not checked, or no state).
	Proof *Proof
}

// Record is the sidecar kept next to deploy.state, which stays PromptKit's
// format: what the action needs to make applies idempotent (the plan
// applied), monotonic (the commit applied) and racing writers visible (a
// serial that only grows).
type Record struct {
	Version    int    `json:"version"`
	Serial     int64  `json:"serial"`
	Commit     string `json:"applied_commit,omitempty"`
	PlanID     string `json:"plan_id,omitempty"`
	RunID      int64  `json:"run_id,omitempty"`
	RunAttempt int    `json:"run_attempt,omitempty"`
	Written    string `json:"written_at,omitempty"`
	// PackSHA is the git blob sha of deployed.pack.json, when one is kept.
	PackSHA string `json:"deployed_pack_sha,omitempty"`
	// BaseArtifact is the state artifact this one replaced (0: none), set
	// by the artifact backend: a trusted state artifact newer than it, but
	// not this one, was written from the same state by a racing run.
	// Absent in records written before it existed.
	BaseArtifact *int64 `json:"base_artifact,omitempty"`
	// State is deploy.state's exact bytes: one read loads record and
	// state, which keeps a state-branch apply within its API budget.
	State string `json:"state,omitempty"`
	// Files are the git blob shas of the other files kept beside the
	// state (Write.Files), by name: the record, proven by its witness,
	// vouches for them.
	Files map[string]string `json:"files,omitempty"`
	// Adopted says who adopted this state without its provenance proven,
	// and why (command adopt); only on the write that adopted it.
	Adopted *Adoption `json:"adopted,omitempty"`
	// RolledBack says what a rollback restored, who asked and why; it
	// stays until the next apply. The applied commit stays the one rolled
	// back (Commit), so an older merge is still superseded and the next
	// merge goes on; a re-run of the rolled-back commit's apply does not
	// deploy it again.
	RolledBack *Rollback `json:"rolled_back,omitempty"`
}

// Rollback is a rollback's account in the record.
type Rollback struct {
	// ToCommit and ToSerial name the apply whose pack was restored.
	ToCommit string `json:"to_commit"`
	ToSerial int64  `json:"to_serial"`
	By       string `json:"by"`
	Reason   string `json:"reason,omitempty"`
	RunID    int64  `json:"run_id,omitempty"`
}

// Adoption is a state adopted by a person after checking it.
type Adoption struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
	RunID  int64  `json:"run_id,omitempty"`
	// Commit is the commit that had written the adopted record, and Was
	// why it was not proven.
	Commit string `json:"commit,omitempty"`
	Was    string `json:"was,omitempty"`
}

// Write is what a save stores.
type Write struct {
	State   *deploy.State // nil: the state is deleted (destroy)
	Message string
	// Commit and PlanID are what was applied; empty for refresh and status,
	// which keep the record's.
	Commit, PlanID string
	RunID          int64
	RunAttempt     int
	Pack           []byte // the exact pack bytes applied; nil keeps the last
	// Files are other files kept beside the state, written with it in the
	// same commit (state branch) or artifact, by name (no folders); a name
	// not given keeps its last content. The file backend keeps the state
	// alone and ignores them.
	Files map[string][]byte
	Now   time.Time
	// Adopted records an adoption (command adopt).
	Adopted *Adoption
	// RolledBack records a rollback (command rollback); the write keeps
	// the record's applied commit (Commit empty).
	RolledBack *Rollback
}

// Serial is the record's serial (0 without one).
func (s *Snapshot) Serial() int64 {
	if s == nil || s.Record == nil {
		return 0
	}
	return s.Record.Serial
}

// nextRecord is the record a save writes over base.
func nextRecord(base *Snapshot, w *Write, stateRaw []byte) *Record {
	rec := &Record{Version: 1}
	if base != nil && base.Record != nil {
		old := *base.Record
		rec = &old
		rec.Version = 1
	}
	rec.Serial++
	rec.Adopted = w.Adopted
	switch {
	case w.RolledBack != nil:
		rec.RolledBack = w.RolledBack
	case w.Commit != "" || w.State == nil:
		rec.RolledBack = nil // a new apply, or a destroy, ends it
	}
	if len(w.Files) > 0 {
		files := make(map[string]string, len(rec.Files)+len(w.Files))
		for name, sha := range rec.Files {
			files[name] = sha
		}
		for name, b := range w.Files {
			files[name] = BlobSHA(b)
		}
		rec.Files = files
	}
	if w.Commit != "" {
		rec.Commit, rec.PlanID = w.Commit, w.PlanID
	}
	if w.RunID != 0 {
		rec.RunID, rec.RunAttempt = w.RunID, w.RunAttempt
	}
	if !w.Now.IsZero() {
		rec.Written = w.Now.UTC().Format(time.RFC3339)
	}
	if w.Pack != nil {
		rec.PackSHA = BlobSHA(w.Pack)
	}
	if w.State == nil {
		rec.PackSHA = ""
	}
	// Nothing deployed (a destroy) is nothing "already applied": the
	// commit stays, so nothing older is applied by mistake, the plan goes,
	// so a re-run of the last apply deploys again.
	if w.State == nil || w.State.State == "" {
		rec.PlanID = ""
	}
	rec.State = string(stateRaw)
	return rec
}

// BlobSHA is git's blob id of content.
func BlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Digest identifies the adapter state the snapshot holds ("none" if empty).
func (s *Snapshot) Digest() string {
	if s == nil || s.State == nil || s.State.State == "" {
		return "none"
	}
	sum := sha256.Sum256([]byte(s.State.State))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Backend stores deploy state.
type Backend interface {
	Load(ctx context.Context) (*Snapshot, error)
	// Save writes w if the stored state is still base; it returns where.
	Save(ctx context.Context, w *Write, base *Snapshot) (string, error)
	// Delete removes the state if it is still base.
	Delete(ctx context.Context, base *Snapshot, message string) error
	// Describe names the place, for messages.
	Describe() string
}

// decode parses raw state and checks it is for env.
func decode(raw []byte, where, env string) (*deploy.State, error) {
	st, err := deploy.DecodeState(raw, where)
	if err != nil {
		return nil, err
	}
	if env != "" && st.Environment != "" && st.Environment != env {
		return nil, fmt.Errorf("%w: %s is the state of %q, not %q; give each environment its own state-path", ErrOtherEnvironment, where, st.Environment, env)
	}
	return st, nil
}

// encode is the CLI's file format, byte for byte: PromptKit's
// StateStore.Save writes json.MarshalIndent output with no final newline,
// and a newline here would make every `promptarena deploy refresh` rewrite
// the committed file. Files that have one are still read (decode ignores
// trailing white space).
func encode(st *deploy.State) ([]byte, error) {
	return deploy.MarshalFile(st)
}

// File keeps state in a local file (the CLI, the demo, other CI systems).
type File struct {
	Path string
	Env  string
}

// Describe implements Backend.
func (f *File) Describe() string { return f.Path }

// Load implements Backend.
func (f *File) Load(context.Context) (*Snapshot, error) {
	raw, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return &Snapshot{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", f.Path, err)
	}
	st, err := decode(raw, f.Path, f.Env)
	if err != nil {
		return nil, err
	}
	return &Snapshot{State: st, Raw: raw, Version: digest(raw)}, nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (f *File) unchanged(base *Snapshot) error {
	cur, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		cur = nil
	} else if err != nil {
		return err
	}
	var want []byte
	if base != nil {
		want = base.Raw
	}
	if !bytes.Equal(cur, want) {
		return fmt.Errorf("%w: %s was written by someone else", ErrConflict, f.Path)
	}
	return nil
}

// Save implements Backend. The CLI's file holds the state alone, as the
// promptarena CLI's does; the local lock (flock) keeps writers apart. The
// pack applied is kept beside it (<state>.deployed.pack.json), for the
// next plan's prompt diff: after the state, which matters more; if it
// cannot be written, the old one is removed, so no diff compares with a
// pack that is not the one deployed.
func (f *File) Save(_ context.Context, w *Write, base *Snapshot) (string, error) {
	if err := f.unchanged(base); err != nil {
		return "", err
	}
	b, err := encode(w.State)
	if err != nil {
		return "", err
	}
	if err := deploy.WriteFileAtomic(f.Path, b); err != nil {
		return "", err
	}
	if w.Pack != nil {
		if err := deploy.WriteFileAtomic(f.packPath(), w.Pack); err != nil {
			_ = os.Remove(f.packPath())
		}
	}
	return f.Path, nil
}

// packPath is where the pack applied is kept, beside the state file.
func (f *File) packPath() string { return f.Path + "." + DeployedPackFile }

// DeployedPack is the pack last applied with this state file (nil when
// none is recorded: nothing applied yet, or applied by another tool).
func (f *File) DeployedPack() ([]byte, error) {
	raw, err := os.ReadFile(f.packPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return raw, err
}

// Delete implements Backend.
func (f *File) Delete(_ context.Context, base *Snapshot, _ string) error {
	if err := f.unchanged(base); err != nil {
		return err
	}
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Remove(f.packPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
