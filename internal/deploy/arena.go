package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// DefaultEnvironment is the environment used when none is named.
const DefaultEnvironment = "default"

// Errors callers branch on when loading arena.yaml.
var (
	ErrConfigNotFound  = errors.New("arena config not found")
	ErrNoDeploySection = errors.New("no deploy section")
	// ErrArenaInvalid is matched when arena.yaml is not valid YAML, or its
	// deploy section has the wrong shape.
	ErrArenaInvalid = errors.New("invalid arena config")
	ErrPackNotFound = errors.New("pack not found")
)

// DeploySection is the deploy section of arena.yaml.
type DeploySection struct {
	Provider     string                       `yaml:"provider" json:"provider"`
	Config       map[string]any               `yaml:"config" json:"config,omitempty"`
	Environments map[string]EnvironmentConfig `yaml:"environments" json:"environments,omitempty"`
}

// EnvironmentConfig is one entry of deploy.environments.
type EnvironmentConfig struct {
	Config map[string]any `yaml:"config" json:"config,omitempty"`
}

// Arena is a loaded arena.yaml.
type Arena struct {
	Path   string         // the file read
	Dir    string         // its directory: the project directory
	Spec   map[string]any // spec (current shape) or the whole document (older shape)
	Deploy *DeploySection
	// Annotations are metadata.annotations: the place promptarena's schema
	// leaves for tools' own settings (arena-deploy/follows).
	Annotations map[string]string
}

// LoadArena reads arena.yaml at path (absolute, or relative to the
// workspace ws, which it must resolve inside) in either shape: kind Arena
// with spec.deploy, or deploy at the top level.
func LoadArena(ws *workspace.Root, path string) (*Arena, error) {
	data, err := ws.ReadFile(path)
	if errors.Is(err, workspace.ErrOutside) {
		return nil, fmt.Errorf("config: %w", err)
	}
	name := path
	if rel, rerr := ws.Rel(path); rerr == nil {
		name = rel
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrConfigNotFound, name)
	}
	if err != nil && isDirErr(err) {
		return nil, fmt.Errorf("%w: %s, not the arena file (%s?)", ErrConfigIsDir, name, filepath.ToSlash(filepath.Join(name, "arena.yaml")))
	}
	if err != nil {
		return nil, fmt.Errorf("read arena config %s: %w", name, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, data, err)
	}
	spec := doc
	if s, ok := doc["spec"].(map[string]any); ok {
		spec = s
	}
	raw, ok := spec["deploy"]
	if !ok || raw == nil {
		return nil, fmt.Errorf("%w in %s: add a deploy section with at least a provider (see arena-deploy-action's README, Quickstart)", ErrNoDeploySection, name)
	}
	var section DeploySection
	if _, isMap := raw.(map[string]any); !isMap {
		line := lineOfKey(data, "deploy")
		return nil, fmt.Errorf("%w: %s:%d: deploy must be a mapping (provider, config, environments), not %s; see arena-deploy-action's README, Quickstart",
			ErrArenaInvalid, name, line, yamlKind(raw))
	}
	if err := remarshal(raw, &section); err != nil {
		return nil, fmt.Errorf("%w: %s: the deploy section: %v; provider is a name, config and environments.<name>.config are mappings",
			ErrArenaInvalid, name, err)
	}
	if section.Provider == "" {
		return nil, fmt.Errorf("%w in %s: deploy.provider is empty; name the adapter's provider (e.g. provider: omnia)", ErrNoDeploySection, name)
	}
	return &Arena{Path: path, Dir: filepath.Dir(path), Spec: spec, Deploy: &section, Annotations: annotations(doc)}, nil
}

// annotations reads metadata.annotations; values that are not strings
// (promptarena's schema refuses them) are left out.
func annotations(doc map[string]any) map[string]string {
	meta, _ := doc["metadata"].(map[string]any)
	raw, _ := meta["annotations"].(map[string]any)
	if len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// ErrConfigIsDir is matched when the config input names a directory.
var ErrConfigIsDir = errors.New("config is a directory")

func isDirErr(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "is a directory")
}

// yamlError places a YAML syntax error. yaml.v3 often reports the line where
// the enclosing block began (a bad indent on line 4 is "line 1"), so the
// culprit is found as the first line whose prefix of the document no longer
// parses; the message keeps the parser's words.
func yamlError(name string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
		msg = rest
	}
	lines := strings.SplitAfter(string(data), "\n")
	line, col := 0, 1
	for i := range lines {
		var v any
		if yaml.Unmarshal([]byte(strings.Join(lines[:i+1], "")), &v) != nil {
			line = i + 1
			col = len(lines[i]) - len(strings.TrimLeft(lines[i], " \t")) + 1
			break
		}
	}
	if line == 0 { // only the whole document fails: keep the parser's line
		return fmt.Errorf("%w: %s: YAML: %v; fix the file (indent with spaces, two per level)", ErrArenaInvalid, name, err)
	}
	return fmt.Errorf("%w: %s:%d:%d: YAML: %s; fix the file (indent with spaces, two per level)", ErrArenaInvalid, name, line, col, msg)
}

// lineOfKey is the line of the first "key:" in data (1 if none).
func lineOfKey(data []byte, key string) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), key+":") {
			return i + 1
		}
	}
	return 1
}

func yamlKind(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case []any:
		return "a list"
	default:
		return fmt.Sprintf("%v", v)
	}
}

func remarshal(in, out any) error {
	b, err := yaml.Marshal(in)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(b, out)
}

// EnvironmentNames lists the environments the section knows, sorted, with
// "default" always among them.
func (d *DeploySection) EnvironmentNames() []string {
	names := []string{DefaultEnvironment}
	for n := range d.Environments {
		if n != DefaultEnvironment {
			names = append(names, n)
		}
	}
	sort.Strings(names[1:])
	return names
}

// HasEnvironment reports whether env is the default environment or is
// listed under deploy.environments.
func (d *DeploySection) HasEnvironment(env string) bool {
	if env == "" || env == DefaultEnvironment {
		return true
	}
	_, ok := d.Environments[env]
	return ok
}

// MergedConfig returns the base config overridden key by key (top level
// only, as PromptKit merges) by the environment's config. An environment
// not listed under deploy.environments gets the base config, as PromptKit
// does; callers say so with HasEnvironment.
func (d *DeploySection) MergedConfig(env string) map[string]any {
	if env == "" {
		env = DefaultEnvironment
	}
	envCfg := d.Environments[env]
	merged := make(map[string]any, len(d.Config)+len(envCfg.Config))
	for k, v := range d.Config {
		merged[k] = v
	}
	for k, v := range envCfg.Config {
		merged[k] = v
	}
	return merged
}

// DeployConfigJSON is the merged config as the JSON string sent to adapters.
func (d *DeploySection) DeployConfigJSON(env string) (string, error) {
	b, err := json.Marshal(d.MergedConfig(env))
	if err != nil {
		return "", fmt.Errorf("encode deploy config: %w", err)
	}
	return string(b), nil
}

// ResolvePack returns the pack file: explicit (relative to dir) if given,
// else the only *.pack.json in dir. The pack must resolve inside the
// workspace ws: a pack committed as a symlink to a file outside is refused
// with an error matching workspace.ErrOutside.
func ResolvePack(ws *workspace.Root, dir, explicit string) (string, error) {
	if explicit != "" {
		p := explicit
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		fi, err := ws.Stat(p)
		if errors.Is(err, workspace.ErrOutside) {
			return "", fmt.Errorf("pack: %w", err)
		}
		if err != nil || !fi.Mode().IsRegular() {
			return "", fmt.Errorf("%w: %s is not a readable file", ErrPackNotFound, p)
		}
		return p, nil
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.pack.json"))
	if err != nil {
		return "", fmt.Errorf("find pack: %w", err)
	}
	switch len(matches) {
	case 1:
		if _, err := ws.Stat(matches[0]); errors.Is(err, workspace.ErrOutside) {
			return "", fmt.Errorf("pack: %w", err)
		}
		return matches[0], nil
	case 0:
		return "", fmt.Errorf("%w: no *.pack.json in %s", ErrPackNotFound, dir)
	default:
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = filepath.Base(m)
		}
		return "", &SeveralPacksError{Dir: dir, Names: names}
	}
}

// SeveralPacksError is a project directory with more than one pack and no
// pack named: which one to deploy is the user's choice. It matches
// ErrPackNotFound (its failure reason, pack-not-found).
type SeveralPacksError struct {
	Dir   string
	Names []string // the packs' file names, sorted
}

func (e *SeveralPacksError) Error() string {
	return fmt.Sprintf("%d packs in %s (%s), and none was named: which one to deploy?", len(e.Names), e.Dir, strings.Join(e.Names, ", "))
}

// Is makes it ErrPackNotFound.
func (e *SeveralPacksError) Is(target error) bool { return target == ErrPackNotFound }

// PackMeta is what the action reads from a pack: its id and version.
type PackMeta struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}
