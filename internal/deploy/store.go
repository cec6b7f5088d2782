package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// File names under a project's .promptarena directory.
const (
	StateFile = "deploy.state"
	PlanFile  = "deploy.plan"
	LockFile  = "deploy.lock"
	DirName   = ".promptarena"
)

// ErrCorrupt is matched when a state or plan file cannot be decoded.
var ErrCorrupt = errors.New("corrupt file")

// ErrNewerVersion is matched when a file was written by a newer format.
var ErrNewerVersion = errors.New("file written by a newer version")

// StateStore reads and writes deploy.state and deploy.plan in a directory
// (normally <project>/.promptarena).
type StateStore struct {
	dir string
}

// NewStateStore returns a store rooted at dir.
func NewStateStore(dir string) *StateStore { return &StateStore{dir: dir} }

// StatePath is the path of the state file.
func (s *StateStore) StatePath() string { return filepath.Join(s.dir, StateFile) }

// PlanPath is the path of the saved plan file.
func (s *StateStore) PlanPath() string { return filepath.Join(s.dir, PlanFile) }

// Load reads the state; a missing file is no prior deploy (nil, nil).
func (s *StateStore) Load() (*State, error) {
	var st State
	ok, err := readJSON(s.StatePath(), &st)
	if !ok || err != nil {
		return nil, err
	}
	if st.Version > StateVersion {
		return nil, fmt.Errorf("load state %s: %w (version %d, this action reads up to %d): upgrade the action", s.StatePath(), ErrNewerVersion, st.Version, StateVersion)
	}
	return &st, nil
}

// Save writes the state atomically.
func (s *StateStore) Save(st *State) error {
	data, err := MarshalFile(st)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return WriteFileAtomic(s.StatePath(), data)
}

// Delete removes the state file; a missing file is not an error.
func (s *StateStore) Delete() error { return removeIfExists(s.StatePath()) }

// LoadPlan reads the saved plan; a missing file gives (nil, nil).
func (s *StateStore) LoadPlan() (*SavedPlan, error) {
	var p SavedPlan
	ok, err := readJSON(s.PlanPath(), &p)
	if !ok || err != nil {
		return nil, err
	}
	if p.Version > SavedPlanVersion {
		return nil, fmt.Errorf("load plan %s: %w (version %d, this action reads up to %d): upgrade the action", s.PlanPath(), ErrNewerVersion, p.Version, SavedPlanVersion)
	}
	return &p, nil
}

// SavePlan writes the plan atomically.
func (s *StateStore) SavePlan(p *SavedPlan) error {
	data, err := MarshalFile(p)
	if err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return WriteFileAtomic(s.PlanPath(), data)
}

// DeletePlan removes the saved plan; a missing file is not an error.
func (s *StateStore) DeletePlan() error { return removeIfExists(s.PlanPath()) }

// MarshalFile encodes v as the CLI writes its files: two-space indented JSON
// (json.MarshalIndent, HTML escaping on).
func MarshalFile(v any) ([]byte, error) {
	if p, ok := v.(*SavedPlan); ok && p.Request != nil && len(p.Request.PackJSON) > 64<<10 {
		return marshalSavedPlan(p)
	}
	return json.MarshalIndent(v, "", "  ")
}

// marshalSavedPlan writes what json.MarshalIndent would, without running
// the indenter over the pack: see savedPlanReader.
func marshalSavedPlan(p *SavedPlan) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(jsonwire.QuotedLenHTML(p.Request.PackJSON) + 4<<10 + 256*len(p.planChanges()))
	_, err := buf.ReadFrom(newSavedPlanReader(p))
	return buf.Bytes(), err
}

// planChanges are the plan's changes, if any.
func (p *SavedPlan) planChanges() []ResourceChange {
	if p.Plan == nil {
		return nil
	}
	return p.Plan.Changes
}

// SavedPlanReader reads the saved plan's file (MarshalFile's bytes) while
// it is produced: the pack is escaped a chunk at a time as it is read, so
// an upload holds no copy of it.
func SavedPlanReader(p *SavedPlan) (io.Reader, error) {
	open, err := SavedPlanOpener(p)
	if err != nil {
		return nil, err
	}
	return open(), nil
}

// SavedPlanOpener returns a function that gives a new SavedPlanReader of
// p each time it is called.
func SavedPlanOpener(p *SavedPlan) (func() io.Reader, error) {
	if p.Request == nil || len(p.Request.PackJSON) <= 64<<10 {
		b, err := MarshalFile(p)
		return func() io.Reader { return bytes.NewReader(b) }, err
	}
	return func() io.Reader { return newSavedPlanReader(p) }, nil
}

// DecodeState parses state file bytes, refusing corrupt or newer files.
func DecodeState(data []byte, name string) (*State, error) {
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("load state %s: %w: %v (it is the record of what is deployed: restore it from git history, e.g. git log -p -- %s, or from an arena-state artifact; do not delete it)", name, ErrCorrupt, err, name)
	}
	if st.Version > StateVersion {
		return nil, fmt.Errorf("load state %s: %w (version %d): upgrade the action", name, ErrNewerVersion, st.Version)
	}
	return &st, nil
}

func readJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("read %s: %w: %v (restore it from git history, e.g. git log -p -- %s)", path, ErrCorrupt, err, path)
	}
	return true, nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes data to path with mode 0600, creating its directory
// with 0750: a temp file in the same directory, fsync, rename, so a crash
// leaves either the old file or the new one, never a truncated one.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
