// Package target names one deploy target: a project directory, its arena
// config file and an environment. Everything that must not be shared by two
// targets (sticky comment, plan and state artifacts, state files, the lock)
// takes its name from here, so two projects deploying the same environment
// from one repository never collide.
package target

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"
)

// Key identifies a target. Build it with New so paths are normalised.
type Key struct {
	WorkingDir string // relative to the repository root, slash-separated
	ConfigPath string // relative to WorkingDir
	Env        string
}

// New normalises the parts: "", "./" and "." are the same directory.
func New(workingDir, configPath, env string) Key {
	return Key{WorkingDir: clean(workingDir), ConfigPath: clean(configPath), Env: env}
}

func clean(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	return path.Clean(p) // "" -> "."
}

func (k Key) sum() [sha256.Size]byte {
	return sha256.Sum256([]byte(k.WorkingDir + "\x00" + k.ConfigPath + "\x00" + k.Env))
}

// ID is 8 hex digits of the target's digest: short enough for artifact
// names, and independent of any character a path may hold.
func (k Key) ID() string {
	s := k.sum()
	return hex.EncodeToString(s[:4])
}

// Marker is the hidden line that finds a target's sticky comment again. It
// holds a digest, so no path or name can break out of the HTML comment. Its
// form is unchanged since the first release, so existing comments are found.
func (k Key) Marker() string {
	s := k.sum()
	return "<!-- arena-deploy-action target=" + hex.EncodeToString(s[:8]) + " -->"
}

// String is a legible description for messages: "production (svc/arena.yaml)".
func (k Key) String() string {
	return k.Env + " (" + path.Join(k.WorkingDir, k.ConfigPath) + ")"
}

// PlanArtifact is the plan artifact's name for a pull request head:
// arena-plan-<env>-<id>-<sha>.
func (k Key) PlanArtifact(headSHA string) string {
	return "arena-plan-" + Safe(k.Env) + "-" + k.ID() + "-" + headSHA
}

// LegacyPlanArtifact is the name plans had before targets were in it
// (arena-plan-<env>-<sha>); apply still finds those, so a plan made before
// an upgrade applies after it.
func (k Key) LegacyPlanArtifact(headSHA string) string {
	return "arena-plan-" + Safe(k.Env) + "-" + headSHA
}

// StateArtifact is the state artifact's name (artifact backend).
func (k Key) StateArtifact() string {
	return "arena-state-" + Safe(k.Env) + "-" + k.ID()
}

// LegacyStateArtifact is the state artifact's name before targets
// (arena-state-<env>): read once and carried over.
func (k Key) LegacyStateArtifact() string {
	return "arena-state-" + Safe(k.Env)
}

// KeptStateArtifact names a state kept aside when it could not be written
// where it belongs (a conflict, a refused write): arena-state-<env>-<id>-<sha>.
func (k Key) KeptStateArtifact(sha string) string {
	return k.StateArtifact() + "-" + sha
}

// WitnessArtifact names the artifacts that prove where the target's state
// came from (internal/state: Witness): arena-witness-<env>-<id>.
func (k Key) WitnessArtifact() string {
	return "arena-witness-" + Safe(k.Env) + "-" + k.ID()
}

// StateDir is the target's folder on the state branch: <env>-<id>.
func (k Key) StateDir() string {
	return Safe(k.Env) + "-" + k.ID()
}

// Safe replaces characters that artifact names and file names may not hold.
func Safe(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("\"<>|*?\r\n\\/: ", r) || r < 0x20 || r == 0x7f {
			return '-'
		}
		return r
	}, s)
}
