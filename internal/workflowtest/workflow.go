package workflowtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Workflow is a parsed workflow file: what the Actions service reads of
// it. Values that may hold expressions are kept as written and evaluated
// where and when the service evaluates them.
type Workflow struct {
	Path        string
	Name        string
	On          map[string]*Trigger
	Permissions *Permissions
	Env         map[string]string
	Concurrency *Concurrency
	Defaults    Defaults
	Jobs        []*Job // in file order
}

// Trigger is one event of `on:` and its filters.
type Trigger struct {
	Types, Branches, BranchesIgnore, Paths, PathsIgnore []string
	Inputs                                              map[string]*DispatchInput // workflow_dispatch
	InputOrder                                          []string
	Crons                                               []string // schedule
}

// DispatchInput is an input of workflow_dispatch.
type DispatchInput struct {
	Description string
	Required    bool
	Default     string
	Type        string // string (default), boolean, number, choice, environment
	Options     []string
}

// Permissions is a `permissions:` block: "read-all", "write-all", or
// scopes ({} sets every scope to none).
type Permissions struct {
	All    string
	Scopes map[string]string
}

// Concurrency is a `concurrency:` block.
type Concurrency struct {
	Group            string
	CancelInProgress string // "true", "false" or an expression
}

// Defaults is `defaults.run`.
type Defaults struct {
	Shell, WorkingDirectory string
}

// EnvironmentRef is a job's `environment:`.
type EnvironmentRef struct {
	Name, URL string
}

// Job is one job of the workflow.
type Job struct {
	ID              string
	Name            string
	Needs           []string
	If              string
	Permissions     *Permissions
	Environment     *EnvironmentRef
	Concurrency     *Concurrency
	Outputs         map[string]string
	Env             map[string]string
	Defaults        Defaults
	Strategy        *Strategy
	ContinueOnError string
	Steps           []*Step
}

// Strategy is `strategy:`; Matrix is the `matrix:` node as written (a
// mapping, or an expression), evaluated when the job is about to run.
type Strategy struct {
	Matrix   *yaml.Node
	FailFast string // "" is true
}

// Step is one step.
type Step struct {
	ID, Name, If, Uses, Run, Shell, WorkingDirectory, ContinueOnError string
	With                                                              map[string]string
	Env                                                               map[string]string
	Line                                                              int
}

// ParseWorkflow reads a workflow file. It rejects what the harness does
// not run (reusable workflows, containers, services) instead of ignoring
// it: a workflow it runs is a workflow it understood.
func ParseWorkflow(path string, src []byte) (*Workflow, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a mapping", path)
	}
	p := &parser{path: path}
	w := &Workflow{Path: path, On: map[string]*Trigger{}}
	for k, v := range pairs(root.Content[0]) {
		switch k {
		case "name":
			w.Name = v.Value
		case "run-name":
		case "on", "true": // YAML 1.1 reads a bare `on` as true; yaml.v3 does not, but be safe
			p.on(w, v)
		case "permissions":
			w.Permissions = p.permissions(v)
		case "env":
			w.Env = p.stringMap(v)
		case "concurrency":
			w.Concurrency = p.concurrency(v)
		case "defaults":
			w.Defaults = p.defaults(v)
		case "jobs":
			for id, jv := range pairs(v) {
				w.Jobs = append(w.Jobs, p.job(id, jv))
			}
		default:
			p.errorf(v, "workflow key %q is not run by the harness", k)
		}
	}
	if len(w.Jobs) == 0 {
		p.errorf(root.Content[0], "no jobs")
	}
	ids := map[string]bool{}
	for _, j := range w.Jobs {
		ids[j.ID] = true
	}
	for _, j := range w.Jobs {
		for _, n := range j.Needs {
			if !ids[n] {
				p.errorf(root.Content[0], "job %s needs %q, which is not a job", j.ID, n)
			}
		}
	}
	if len(p.errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(p.errs, "\n"))
	}
	return w, nil
}

// Job returns the job with id.
func (w *Workflow) Job(id string) *Job {
	for _, j := range w.Jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

type parser struct {
	path string
	errs []string
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf("%s:%d: %s", p.path, n.Line, fmt.Sprintf(format, args...)))
}

// pairs iterates a mapping in order.
func pairs(n *yaml.Node) func(func(string, *yaml.Node) bool) {
	return func(yield func(string, *yaml.Node) bool) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i].Value, n.Content[i+1]) {
				return
			}
		}
	}
}

func (p *parser) strings(n *yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
		return out
	}
	p.errorf(n, "want a string or a list of strings")
	return nil
}

// stringMap reads env: and with: (scalars become their text, as GitHub
// turns `true` and `3` into "true" and "3").
func (p *parser) stringMap(n *yaml.Node) map[string]string {
	out := map[string]string{}
	if n.Kind == yaml.ScalarNode {
		p.errorf(n, "an expression for a whole mapping is not run by the harness")
		return out
	}
	for k, v := range pairs(n) {
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, "%s: want a string", k)
			continue
		}
		out[k] = v.Value
	}
	return out
}

func (p *parser) on(w *Workflow, n *yaml.Node) {
	switch n.Kind {
	case yaml.ScalarNode, yaml.SequenceNode:
		for _, e := range p.strings(n) {
			w.On[e] = &Trigger{}
		}
		return
	}
	for event, v := range pairs(n) {
		t := &Trigger{}
		w.On[event] = t
		if event == "schedule" {
			for _, e := range v.Content {
				for k, c := range pairs(e) {
					if k == "cron" {
						t.Crons = append(t.Crons, c.Value)
					}
				}
			}
			continue
		}
		for k, c := range pairs(v) {
			switch k {
			case "types":
				t.Types = p.strings(c)
			case "branches":
				t.Branches = p.strings(c)
			case "branches-ignore":
				t.BranchesIgnore = p.strings(c)
			case "paths":
				t.Paths = p.strings(c)
			case "paths-ignore":
				t.PathsIgnore = p.strings(c)
			case "inputs":
				t.Inputs = map[string]*DispatchInput{}
				for name, iv := range pairs(c) {
					in := &DispatchInput{Type: "string"}
					for ik, ivv := range pairs(iv) {
						switch ik {
						case "description":
							in.Description = ivv.Value
						case "required":
							in.Required = ivv.Value == "true"
						case "default":
							in.Default = ivv.Value
						case "type":
							in.Type = ivv.Value
						case "options":
							in.Options = p.strings(ivv)
						}
					}
					t.Inputs[name] = in
					t.InputOrder = append(t.InputOrder, name)
				}
			default:
				p.errorf(c, "on.%s.%s is not run by the harness", event, k)
			}
		}
	}
}

func (p *parser) permissions(n *yaml.Node) *Permissions {
	if n.Kind == yaml.ScalarNode {
		return &Permissions{All: n.Value}
	}
	perm := &Permissions{Scopes: map[string]string{}}
	for k, v := range pairs(n) {
		perm.Scopes[k] = v.Value
	}
	return perm
}

func (p *parser) concurrency(n *yaml.Node) *Concurrency {
	if n.Kind == yaml.ScalarNode {
		return &Concurrency{Group: n.Value, CancelInProgress: "false"}
	}
	c := &Concurrency{CancelInProgress: "false"}
	for k, v := range pairs(n) {
		switch k {
		case "group":
			c.Group = v.Value
		case "cancel-in-progress":
			c.CancelInProgress = v.Value
		default:
			p.errorf(v, "concurrency.%s is not run by the harness", k)
		}
	}
	return c
}

func (p *parser) defaults(n *yaml.Node) Defaults {
	var d Defaults
	for k, v := range pairs(n) {
		if k != "run" {
			continue
		}
		for rk, rv := range pairs(v) {
			switch rk {
			case "shell":
				d.Shell = rv.Value
			case "working-directory":
				d.WorkingDirectory = rv.Value
			}
		}
	}
	return d
}

func (p *parser) job(id string, n *yaml.Node) *Job {
	j := &Job{ID: id}
	for k, v := range pairs(n) {
		switch k {
		case "name":
			j.Name = v.Value
		case "needs":
			j.Needs = p.strings(v)
		case "if":
			j.If = v.Value
		case "runs-on", "timeout-minutes":
			// Where and how long: the harness runs every job here.
		case "permissions":
			j.Permissions = p.permissions(v)
		case "environment":
			if v.Kind == yaml.ScalarNode {
				j.Environment = &EnvironmentRef{Name: v.Value}
				continue
			}
			j.Environment = &EnvironmentRef{}
			for ek, ev := range pairs(v) {
				switch ek {
				case "name":
					j.Environment.Name = ev.Value
				case "url":
					j.Environment.URL = ev.Value
				default:
					p.errorf(ev, "environment.%s is not run by the harness", ek)
				}
			}
		case "concurrency":
			j.Concurrency = p.concurrency(v)
		case "outputs":
			j.Outputs = p.stringMap(v)
		case "env":
			j.Env = p.stringMap(v)
		case "defaults":
			j.Defaults = p.defaults(v)
		case "continue-on-error":
			j.ContinueOnError = v.Value
		case "strategy":
			j.Strategy = &Strategy{}
			for sk, sv := range pairs(v) {
				switch sk {
				case "matrix":
					j.Strategy.Matrix = sv
				case "fail-fast":
					j.Strategy.FailFast = sv.Value
				case "max-parallel":
					// The harness runs one job at a time.
				default:
					p.errorf(sv, "strategy.%s is not run by the harness", sk)
				}
			}
		case "steps":
			for _, sn := range v.Content {
				j.Steps = append(j.Steps, p.step(sn))
			}
		default:
			p.errorf(v, "job %s: %q is not run by the harness", id, k)
		}
	}
	if len(j.Steps) == 0 {
		p.errorf(n, "job %s has no steps", id)
	}
	return j
}

func (p *parser) step(n *yaml.Node) *Step {
	s := &Step{Line: n.Line}
	for k, v := range pairs(n) {
		switch k {
		case "id":
			s.ID = v.Value
		case "name":
			s.Name = v.Value
		case "if":
			s.If = v.Value
		case "uses":
			s.Uses = v.Value
		case "run":
			s.Run = v.Value
		case "shell":
			s.Shell = v.Value
		case "working-directory":
			s.WorkingDirectory = v.Value
		case "with":
			s.With = p.stringMap(v)
		case "env":
			s.Env = p.stringMap(v)
		case "continue-on-error":
			s.ContinueOnError = v.Value
		case "timeout-minutes":
		default:
			p.errorf(v, "step key %q is not run by the harness", k)
		}
	}
	if (s.Uses == "") == (s.Run == "") {
		p.errorf(n, "a step has either uses: or run:")
	}
	return s
}

// scalarString is a matrix value's text, as GitHub shows it in a job's
// name.
func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case nil:
		return ""
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = scalarString(t[k])
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}
