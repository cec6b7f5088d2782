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
			return "", fmt.Errorf("%w: adapter %s: %v (fix the adapter input or remove it to search the usual places)", ErrAdapterNotFound, explicit, err)
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
	install := fmt.Sprintf("install it with the adapter-install input (e.g. adapter-install: %s@<version>), ", provider)
	if !installable(provider) {
		// adapter-install knows only released providers; suggesting it
		// for another one sends the user down a dead end.
		install = "build it and "
	}
	return "", fmt.Errorf("%w: no executable %s in:\n  %s\n%sput it in .promptarena/adapters/ of the project, "+
		"or give its path with the adapter input (--adapter in the CLI; relative to working-directory)",
		ErrAdapterNotFound, name, strings.Join(looked, "\n  "), install)
}

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
