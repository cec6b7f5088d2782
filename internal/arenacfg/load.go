// Package arenacfg builds arena_config exactly as PromptKit sends it: the
// JSON of PromptKit's loaded arena Config (the spec plus every resource it
// references, loaded), with PromptKit's names, types and encodings, so the
// SDK helpers real adapters call (ExtractToolInfo, ExtractToolPolicies,
// GenerateResourcePlan) work unchanged. Every file is read through a
// workspace fence, and secrets are redacted before anything leaves.
package arenacfg

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"
)

// ErrInvalid is matched when arena.yaml or a file it references cannot be
// read or parsed, is outside the workspace, or refers to something that
// does not exist. PromptKit's loader refuses such a config too.
var ErrInvalid = errors.New("invalid arena config")

// Files reads files by absolute path, refusing paths outside the workspace
// (*workspace.Root).
type Files interface {
	ReadFile(name string) ([]byte, error)
}

// inlineToolAPIVersion is the apiVersion PromptKit gives the manifests it
// makes from inline tool specs.
const inlineToolAPIVersion = "promptkit.altairalabs.ai/v1alpha1"

// defaultProviderGroup is PromptKit's group for providers without one.
const defaultProviderGroup = "default"

// loader loads one arena file.
type loader struct {
	files   Files
	path    string // the arena file, absolute
	project string // the project directory, absolute: paths PromptKit resolves are sent relative to it
	rel     string // the arena file as the user named it, for messages
	cfg     *Config
}

// Load reads the arena file at path (absolute; rel is how the user named
// it) and every file it references, as PromptKit's LoadConfig does, and
// returns the loaded Config. Paths PromptKit resolves (recordings, workflow
// packs) are made relative to project, as the promptarena CLI run there
// would send them.
func Load(files Files, path, rel, project string) (*Config, error) {
	l := &loader{files: files, path: path, project: project, rel: rel}
	data, err := files.ReadFile(path)
	if err != nil {
		return nil, l.errorf(rel, "read it", err)
	}
	cfg, err := decodeArena(data)
	if err != nil {
		return nil, l.errorf(rel, "fix its YAML", err)
	}
	l.cfg = cfg
	cfg.LoadedPromptConfigs = map[string]*PromptConfigData{}
	cfg.LoadedProviders = map[string]*Provider{}
	cfg.LoadedJudges = map[string]*JudgeTarget{}
	cfg.LoadedScenarios = map[string]*Scenario{}
	cfg.LoadedEvals = map[string]*Eval{}
	cfg.LoadedTools = []ToolData{}
	cfg.ProviderGroups = map[string]string{}
	cfg.ProviderCapabilities = map[string][]string{}
	// PromptKit's order: file refs first, then inline specs, per kind.
	steps := []func() error{
		l.providers, l.providerSpecs, l.promptConfigs, l.promptSpecs,
		l.scenarios, l.scenarioSpecs, l.evals, l.evalSpecs, l.tools, l.toolSpecs,
		l.selfPlay, l.judges, l.judgeSpecs,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// decodeArena decodes either shape: kind Arena with spec, or the older one
// with the spec's fields at the top level.
func decodeArena(data []byte) (*Config, error) {
	var doc struct {
		Spec *Config `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Spec != nil {
		return doc.Spec, nil
	}
	var cfg Config
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (l *loader) errorf(file, fix string, err error) error {
	return fmt.Errorf("%w: %s: %v; %s", ErrInvalid, file, err, fix)
}

// resolve is PromptKit's ResolveFilePath: a path relative to the file that
// names it.
func resolve(base, file string) string {
	if filepath.IsAbs(file) {
		return filepath.Clean(file)
	}
	return filepath.Join(filepath.Dir(base), file)
}

// projectRel is an absolute path as the CLI would send it from the project
// directory.
func (l *loader) projectRel(abs string) string {
	if r, err := filepath.Rel(l.project, abs); err == nil {
		return filepath.ToSlash(r)
	}
	return abs
}

// read reads a file referenced from arena.yaml.
func (l *loader) read(kind, file string) (string, []byte, error) {
	if file == "" {
		return "", nil, fmt.Errorf("%w: %s: a %s entry has no file; give it a file: path (relative to %s)", ErrInvalid, l.rel, kind, l.rel)
	}
	full := resolve(l.path, file)
	data, err := l.files.ReadFile(full)
	if err != nil {
		// %w twice: a path outside the workspace is invalid-input, as for
		// every path (workspace.ErrOutside), not a config PromptKit refuses.
		return "", nil, fmt.Errorf("%w: %s: %s %s: %w; fix the path in %s (files must be inside the repository)", ErrInvalid, l.rel, kind, file, err, l.rel)
	}
	return full, data, nil
}

// manifest decodes a K8s-style manifest and returns its metadata.name,
// which PromptKit uses as the resource's id.
func (l *loader) manifest(kind, file string, spec any) (string, string, error) {
	full, data, err := l.read(kind, file)
	if err != nil {
		return "", "", err
	}
	var m struct {
		Metadata ObjectMeta `yaml:"metadata"`
		Spec     yaml.Node  `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &m); err == nil && !m.Spec.IsZero() {
		err = m.Spec.Decode(spec)
		if err == nil {
			return full, m.Metadata.Name, nil
		}
	} else if err == nil {
		err = errors.New("no spec")
	}
	return "", "", fmt.Errorf("%w: %s: %s %s: %v; it must be a %s manifest (apiVersion, kind, metadata.name, spec)", ErrInvalid, l.rel, kind, file, err, kind)
}

func (l *loader) providers() error {
	for i, ref := range l.cfg.Providers {
		if ref.Group == "" {
			// promptarena's config validator fills it in before the config
			// is sent (arenaconfig/validator.go, validateProviders).
			l.cfg.Providers[i].Group = defaultProviderGroup
		}
		var p Provider
		_, id, err := l.manifest("provider", ref.File, &p)
		if err != nil {
			return err
		}
		p.ID = id
		l.cfg.LoadedProviders[id] = &p
		group := ref.Group
		if group == "" {
			group = defaultProviderGroup
		}
		l.cfg.ProviderGroups[id] = group
		if len(p.Capabilities) > 0 {
			l.cfg.ProviderCapabilities[id] = p.Capabilities
		}
	}
	return nil
}

func (l *loader) duplicate(kind, id, specKind string) error {
	return fmt.Errorf("%w: %s: %s %q is defined in both %s and %s file refs; keep one", ErrInvalid, l.rel, kind, id, specKind, kind+"s")
}

func (l *loader) providerSpecs() error {
	for _, id := range sortedKeys(l.cfg.ProviderSpecs) {
		spec := l.cfg.ProviderSpecs[id]
		if _, ok := l.cfg.LoadedProviders[id]; ok {
			return l.duplicate("provider", id, "provider_specs")
		}
		if spec == nil {
			spec = &Provider{}
			l.cfg.ProviderSpecs[id] = spec
		}
		spec.ID = id
		l.cfg.LoadedProviders[id] = spec
		l.cfg.ProviderGroups[id] = defaultProviderGroup
		if len(spec.Capabilities) > 0 {
			l.cfg.ProviderCapabilities[id] = spec.Capabilities
		}
	}
	return nil
}

func (l *loader) promptConfigs() error {
	for _, ref := range l.cfg.PromptConfigs {
		if ref.File == "" {
			continue // as PromptKit: a ref without a file is skipped
		}
		_, data, err := l.read("prompt config", ref.File)
		if err != nil {
			return err
		}
		var pc struct {
			Spec struct {
				TaskType string `yaml:"task_type"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal(data, &pc); err != nil {
			return fmt.Errorf("%w: %s: prompt config %s: %v; fix its YAML", ErrInvalid, l.rel, ref.File, err)
		}
		l.cfg.LoadedPromptConfigs[ref.ID] = &PromptConfigData{FilePath: ref.File, TaskType: pc.Spec.TaskType, Vars: ref.Vars}
	}
	return nil
}

func (l *loader) promptSpecs() error {
	for _, taskType := range sortedKeys(l.cfg.PromptSpecs) {
		if _, ok := l.cfg.LoadedPromptConfigs[taskType]; ok {
			return l.duplicate("prompt config", taskType, "prompt_specs")
		}
		d := &PromptConfigData{FilePath: "<inline:" + taskType + ">"}
		if m, ok := l.cfg.PromptSpecs[taskType].(map[string]any); ok {
			d.TaskType, _ = m["task_type"].(string)
		}
		l.cfg.LoadedPromptConfigs[taskType] = d
	}
	return nil
}

func (l *loader) scenarios() error {
	for _, ref := range l.cfg.Scenarios {
		var sc Scenario
		full, id, err := l.manifest("scenario", ref.File, &sc)
		if err != nil {
			return err
		}
		sc.ID = id
		if sc.Pack != "" && !filepath.IsAbs(sc.Pack) {
			sc.Pack = l.projectRel(resolve(full, sc.Pack))
		}
		l.cfg.LoadedScenarios[id] = &sc
	}
	return nil
}

func (l *loader) scenarioSpecs() error {
	for _, id := range sortedKeys(l.cfg.ScenarioSpecs) {
		if _, ok := l.cfg.LoadedScenarios[id]; ok {
			return l.duplicate("scenario", id, "scenario_specs")
		}
		spec := l.cfg.ScenarioSpecs[id]
		if spec == nil {
			spec = &Scenario{}
			l.cfg.ScenarioSpecs[id] = spec
		}
		spec.ID = id
		l.cfg.LoadedScenarios[id] = spec
	}
	return nil
}

func (l *loader) evals() error {
	for _, ref := range l.cfg.Evals {
		var ev Eval
		full, id, err := l.manifest("eval", ref.File, &ev)
		if err != nil {
			return err
		}
		ev.ID = id
		if ev.Recording.Path != "" && !filepath.IsAbs(ev.Recording.Path) {
			ev.Recording.Path = l.projectRel(resolve(full, ev.Recording.Path))
		}
		l.cfg.LoadedEvals[id] = &ev
	}
	return nil
}

func (l *loader) evalSpecs() error {
	for _, id := range sortedKeys(l.cfg.EvalSpecs) {
		if _, ok := l.cfg.LoadedEvals[id]; ok {
			return l.duplicate("eval", id, "eval_specs")
		}
		spec := l.cfg.EvalSpecs[id]
		if spec == nil {
			spec = &Eval{}
			l.cfg.EvalSpecs[id] = spec
		}
		spec.ID = id
		l.cfg.LoadedEvals[id] = spec
	}
	return nil
}

// tools loads tool files as bytes, unparsed: adapters parse them.
func (l *loader) tools() error {
	for _, ref := range l.cfg.Tools {
		_, data, err := l.read("tool", ref.File)
		if err != nil {
			return err
		}
		l.cfg.LoadedTools = append(l.cfg.LoadedTools, ToolData{FilePath: ref.File, Data: data})
	}
	return nil
}

// toolSpecs adds each inline tool spec to loaded_tools as the YAML manifest
// PromptKit marshals for it, in name order (PromptKit's is map order).
func (l *loader) toolSpecs() error {
	for _, name := range sortedKeys(l.cfg.ToolSpecs) {
		spec := l.cfg.ToolSpecs[name]
		if spec == nil {
			spec = &ToolSpec{}
			l.cfg.ToolSpecs[name] = spec
		}
		spec.Name = name
		data, err := yaml.Marshal(ToolConfigSchema{APIVersion: inlineToolAPIVersion, Kind: "Tool", Spec: *spec})
		if err != nil {
			return fmt.Errorf("%w: %s: tool_specs.%s: %v", ErrInvalid, l.rel, name, err)
		}
		l.cfg.LoadedTools = append(l.cfg.LoadedTools, ToolData{FilePath: "<inline:" + name + ">", Data: data})
	}
	return nil
}

// selfPlay checks the roles' providers, as PromptKit does. Personas are
// not loaded: their type is not mirrored (loaded_personas is left out).
func (l *loader) selfPlay() error {
	sp := l.cfg.SelfPlay
	if sp == nil || !sp.Enabled {
		return nil
	}
	for _, role := range sp.Roles {
		if _, ok := l.cfg.LoadedProviders[role.Provider]; !ok || role.Provider == "" {
			return fmt.Errorf("%w: %s: self-play role %q references unknown provider %q; list it under providers", ErrInvalid, l.rel, role.ID, role.Provider)
		}
	}
	return nil
}

func (l *loader) judges() error {
	for _, j := range l.cfg.Judges {
		p, ok := l.cfg.LoadedProviders[j.Provider]
		if !ok || j.Provider == "" {
			return fmt.Errorf("%w: %s: judge %q references unknown provider %q; list it under providers", ErrInvalid, l.rel, j.Name, j.Provider)
		}
		model := p.Model
		if j.Model != "" {
			model = j.Model
		}
		l.cfg.LoadedJudges[j.Name] = &JudgeTarget{Name: j.Name, Provider: p, Model: model}
	}
	return nil
}

func (l *loader) judgeSpecs() error {
	for _, name := range sortedKeys(l.cfg.JudgeSpecs) {
		spec := l.cfg.JudgeSpecs[name]
		if _, ok := l.cfg.LoadedJudges[name]; ok {
			return l.duplicate("judge", name, "judge_specs")
		}
		if spec == nil {
			return fmt.Errorf("%w: %s: judge_specs.%s is empty; give it a provider", ErrInvalid, l.rel, name)
		}
		p, ok := l.cfg.LoadedProviders[spec.Provider]
		if !ok {
			return fmt.Errorf("%w: %s: judge_specs.%s references unknown provider %q; list it under providers", ErrInvalid, l.rel, name, spec.Provider)
		}
		model := spec.Model
		if model == "" {
			model = p.Model
		}
		l.cfg.LoadedJudges[name] = &JudgeTarget{Name: name, Provider: p, Model: model}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
