package deploy

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrAdapterNotFound is matched when no adapter binary is found.
var ErrAdapterNotFound = errors.New("adapter not found")

// AdapterManager finds adapter binaries for a project.
type AdapterManager struct {
	projectDir string
	homeDir    string
	pathEnv    string
}

// NewAdapterManager searches the project's .promptarena/adapters, then
// homeDir's .promptarena/adapters, then the directories of pathEnv (a PATH
// value). Empty homeDir or pathEnv skip those places.
func NewAdapterManager(projectDir, homeDir, pathEnv string) *AdapterManager {
	return &AdapterManager{projectDir: projectDir, homeDir: homeDir, pathEnv: pathEnv}
}

// Discover returns the path of the adapter for provider. If explicit is set,
// only that path is considered.
func (m *AdapterManager) Discover(provider, explicit string) (string, error) {
	if explicit != "" {
		if err := checkExecutable(explicit); err != nil {
			return "", &AdapterNotFoundError{Provider: provider, Explicit: explicit, Cause: err}
		}
		return filepath.Abs(explicit)
	}
	if provider == "" || strings.ContainsAny(provider, `/\`) {
		return "", fmt.Errorf("invalid provider name %q in the deploy section", provider)
	}
	name := AdapterBinaryName(provider)
	var looked []string
	for _, dir := range m.searchDirs() {
		p := filepath.Join(dir, name)
		looked = append(looked, p)
		if checkExecutable(p) == nil {
			return filepath.Abs(p)
		}
	}
	// adapter-install knows only released providers; suggesting it for
	// another one sends the user down a dead end.
	return "", &AdapterNotFoundError{Provider: provider, Looked: looked, Installable: installable(provider)}
}

// AdapterNotFoundError says where the adapter was looked for; the way out
// (which names inputs) is the caller's to say. It matches
// ErrAdapterNotFound.
type AdapterNotFoundError struct {
	Provider string
	// Explicit is the adapter input, when it named a file that is not an
	// executable (Cause says why); else the adapter was searched for in
	// Looked.
	Explicit    string
	Cause       error
	Looked      []string
	Installable bool // a released provider: adapter-install knows it
}

func (e *AdapterNotFoundError) Error() string {
	if e.Explicit != "" {
		return fmt.Sprintf("%v: adapter %s: %v", ErrAdapterNotFound, e.Explicit, e.Cause)
	}
	return fmt.Sprintf("%v: no executable %s in:\n  %s", ErrAdapterNotFound, AdapterBinaryName(e.Provider), strings.Join(e.Looked, "\n  "))
}

// Is makes it ErrAdapterNotFound.
func (e *AdapterNotFoundError) Is(target error) bool { return target == ErrAdapterNotFound }

// Unwrap is the reason an explicit adapter is not usable.
func (e *AdapterNotFoundError) Unwrap() error { return e.Cause }

func (m *AdapterManager) searchDirs() []string {
	dirs := []string{filepath.Join(m.projectDir, ".promptarena", "adapters")}
	if m.homeDir != "" {
		dirs = append(dirs, filepath.Join(m.homeDir, ".promptarena", "adapters"))
	}
	for _, d := range filepath.SplitList(m.pathEnv) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// checkExecutable accepts only regular files with an execute bit.
func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%w: not executable (chmod +x it)", exec.ErrNotFound)
	}
	return nil
}

// installable: providers with published release binaries, which
// adapter-install can fetch (its built-in list; adapter-repo adds others).
func installable(provider string) bool {
	switch provider {
	case "agentcore", "omnia", "foundry", "vertex":
		return true
	}
	return false
}
