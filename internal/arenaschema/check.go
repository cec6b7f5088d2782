package arenaschema

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrInvalid is matched by the error of files the schemas refuse.
var ErrInvalid = errors.New("schema validation failed")

// Error lists the problems of the arena files promptarena would refuse.
type Error struct{ Problems []Problem }

// maxShown is how many problems an error lists; the rest are counted.
const maxShown = 25

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	files := map[string]bool{}
	for _, p := range e.Problems {
		files[p.File] = true
	}
	fmt.Fprintf(&b, "promptarena's schemas (v1alpha1, promptarena %s) refuse %d place(s) in %d file(s); promptarena stops there too (\"schema validation failed\"):",
		SchemaCommit[:7], len(e.Problems), len(files))
	for i, p := range e.Problems {
		if i == maxShown {
			fmt.Fprintf(&b, "\n- … and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("\n- " + p.String())
	}
	return b.String()
}

// Is lets errors.Is(err, ErrInvalid) match.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Files reads files by absolute path (*workspace.Root, whose fence keeps
// every read inside the repository).
type Files interface {
	ReadFile(name string) ([]byte, error)
}

// What promptarena's loader (arenaconfig.LoadConfig at SchemaCommit)
// validates besides arena.yaml: the file of each entry of these lists, by
// schema. Tool files only when YAML (a .json tool is OpenAI's format,
// checked by the tool registry); prompt configs without a file are skipped;
// personas are checked by code, not by a schema.
var references = []struct {
	list string
	kind Kind
}{
	{"providers", Provider},
	{"tts_providers", Provider},
	{"stt_providers", Provider},
	{"embedding_providers", Provider},
	{"image_providers", Provider},
	{"prompt_configs", PromptConfig},
	{"scenarios", Scenario},
	{"evals", Eval},
	{"tools", Tool},
}

// Check validates the arena file at path (absolute; rel is how the user
// names it, and names every file in problems, relative to the same place)
// and each file it references that promptarena validates. The files must
// exist and parse: the arena loader (internal/arenacfg) has said so before.
// Like promptarena, an arena file its schema refuses is reported alone.
//
// An arena file in the older shape (deploy and the rest at the top level,
// no apiVersion, kind or spec), which this action accepts and promptarena
// refuses, is not validated but warned about.
func Check(files Files, path, rel string) (warnings []string, err error) {
	l, err := load() // held until every file is checked
	if err != nil {
		return nil, err
	}
	data, err := files.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Problems: []Problem{{File: rel, Message: "not valid YAML: " + err.Error()}}}
	}
	var top *yaml.Node
	if len(doc.Content) > 0 {
		top = deref(doc.Content[0])
	}
	spec := lookup(top, "spec")
	if spec == nil && lookup(top, "apiVersion") == nil && lookup(top, "kind") == nil && top != nil && top.Kind == yaml.MappingNode {
		warnings = append(warnings, rel+" has the older shape (deploy at the top level, no apiVersion, kind or spec): arena-deploy-action reads it, "+
			"but promptarena refuses it (its schema requires apiVersion, kind and spec), so the promptarena CLI cannot deploy this project. "+
			"Move the fields under spec: and add apiVersion: promptkit.altairalabs.ai/v1alpha1, kind: Arena and metadata.name.")
		spec = top
	} else {
		problems, err := l.validate(Arena, rel, data)
		if err != nil {
			return nil, err
		}
		if len(problems) > 0 {
			return warnings, &Error{Problems: problems}
		}
	}
	var all []Problem
	for _, ref := range references {
		list := lookup(spec, ref.list)
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range list.Content {
			f := lookup(deref(item), "file")
			if f == nil || f.Kind != yaml.ScalarNode || f.Value == "" {
				continue
			}
			ext := strings.ToLower(filepath.Ext(f.Value))
			if ref.kind == Tool && ext != ".yaml" && ext != ".yml" {
				continue
			}
			full := f.Value
			if !filepath.IsAbs(full) {
				full = filepath.Join(filepath.Dir(path), full)
			}
			name := filepath.ToSlash(filepath.Join(filepath.Dir(rel), f.Value))
			b, err := files.ReadFile(full)
			if errors.Is(err, fs.ErrNotExist) {
				// tts_providers and the like are not read by internal/arenacfg:
				// promptarena cannot load a missing one either.
				all = append(all, Problem{File: rel, Line: f.Line, Column: f.Column, Path: ref.list,
					Message: fmt.Sprintf("%s does not exist; promptarena cannot load it", name)})
				continue
			}
			if err != nil { // outside the workspace, unreadable: the caller's reason
				return warnings, fmt.Errorf("%s: %s %s: %w", rel, ref.list, f.Value, err)
			}
			problems, err := l.validate(ref.kind, name, b)
			if err != nil {
				return warnings, err
			}
			all = append(all, problems...)
		}
	}
	if len(all) > 0 {
		return warnings, &Error{Problems: all}
	}
	return warnings, nil
}

// lookup is a mapping's value for key, merges (<<) followed as yaml.v3
// follows them; nil when n is no mapping or has no such key.
func lookup(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	entries, _ := (&validator{}).entries(n, "")
	for _, e := range entries {
		if e[0].Value == key {
			return e[1]
		}
	}
	return nil
}
