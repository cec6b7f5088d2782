// Package state stores the deploy state of one environment in a backend:
// a local file, a file committed through the contents API, or a workflow
// artifact. Every save is a compare-and-swap against what was loaded, so two
// racing deploys never both write.
package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

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
	// Save writes st if the stored state is still base; it returns where.
	Save(ctx context.Context, st *deploy.State, base *Snapshot, message string) (string, error)
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

// Save implements Backend.
func (f *File) Save(_ context.Context, st *deploy.State, base *Snapshot, _ string) (string, error) {
	if err := f.unchanged(base); err != nil {
		return "", err
	}
	b, err := encode(st)
	if err != nil {
		return "", err
	}
	if err := deploy.WriteFileAtomic(f.Path, b); err != nil {
		return "", err
	}
	return f.Path, nil
}

// Delete implements Backend.
func (f *File) Delete(_ context.Context, base *Snapshot, _ string) error {
	if err := f.unchanged(base); err != nil {
		return err
	}
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
