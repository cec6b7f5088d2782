package deploy

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
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
// the indenter over the pack: see savedPlanParts.
func marshalSavedPlan(p *SavedPlan) ([]byte, error) {
	head, tail, err := savedPlanParts(p)
	if head == nil || err != nil {
		return json.MarshalIndent(p, "", "  ") // cannot happen; never guess
	}
	out := make([]byte, 0, len(head)+len(tail)+jsonwire.QuotedLenHTML(p.Request.PackJSON))
	out = append(out, head...)
	out = jsonwire.AppendQuotedHTML(out, p.Request.PackJSON)
	return append(out, tail...), nil
}

// savedPlanParts indents the plan with a placeholder in pack_json and
// returns what comes before and after the pack's quoted string. Indenting
// never changes the inside of a string, so head, the pack escaped once and
// tail are what json.MarshalIndent writes (TestSavedPlanBytes), and a
// 10 MB pack is scanned once instead of three times. head is nil if the
// placeholder cannot be found once (it cannot happen).
func savedPlanParts(p *SavedPlan) (head, tail []byte, err error) {
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, nil, err
	}
	placeholder := "arena-deploy-pack-" + hex.EncodeToString(nonce[:])
	cp, req := *p, *p.Request
	req.PackJSON = placeholder
	cp.Request = &req
	shell, err := json.MarshalIndent(&cp, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	quoted := []byte(`"` + placeholder + `"`)
	i := bytes.Index(shell, quoted)
	if i < 0 || bytes.Count(shell, quoted) != 1 {
		return nil, nil, nil
	}
	return shell[:i], shell[i+len(quoted):], nil
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
// p each time it is called; the plan around the pack is indented once.
func SavedPlanOpener(p *SavedPlan) (func() io.Reader, error) {
	whole := func(b []byte) func() io.Reader { return func() io.Reader { return bytes.NewReader(b) } }
	if p.Request == nil || len(p.Request.PackJSON) <= 64<<10 {
		b, err := MarshalFile(p)
		return whole(b), err
	}
	head, tail, err := savedPlanParts(p)
	if err != nil {
		return nil, err
	}
	if head == nil {
		b, err := json.MarshalIndent(p, "", "  ")
		return whole(b), err
	}
	pack := p.Request.PackJSON
	return func() io.Reader {
		return io.MultiReader(bytes.NewReader(head), jsonwire.NewQuotedReader(pack, true), bytes.NewReader(tail))
	}, nil
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
