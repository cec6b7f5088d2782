// Package surface names the action's inputs in the words of where the
// user meets them: a workflow step's `with:` (config: arena.yaml) or the
// arena-deploy command line (--config arena.yaml). Every hint that tells a
// user to set an input says it through one Surface, so the CLI never asks
// for "the config input" and a workflow never for "--config".
package surface

import "strings"

// Surface is where the inputs are set. The zero value is the workflow.
type Surface uint8

const (
	// Workflow is the action in a workflow: inputs under `with:`.
	Workflow Surface = iota
	// CLI is the arena-deploy command: inputs as flags.
	CLI
)

// Input names an input: "the config input", or "--config".
func (s Surface) Input(name string) string {
	if s == CLI {
		return "--" + name
	}
	return "the " + name + " input"
}

// Name is the input's bare name as the surface writes it: "config", or
// "--config" (for lists: "config, pack and working-directory").
func (s Surface) Name(name string) string {
	if s == CLI {
		return "--" + name
	}
	return name
}

// Setting is an input with a value: "confirm-destroy: production", or
// "--confirm-destroy production". On the CLI a true/false input is a flag
// without a value (--fail-on-drift), as Go's flags take it. A value in
// angle brackets is a placeholder, never quoted: --adapter <its path>.
func (s Surface) Setting(name, value string) string {
	if strings.HasPrefix(value, "<") && strings.HasSuffix(value, ">") {
		if s == CLI {
			return "--" + name + " " + value
		}
		return name + ": " + value
	}
	if s == CLI {
		switch value {
		case "true":
			return "--" + name
		case "false":
			return "--" + name + "=false"
		}
		if value == "" || strings.ContainsAny(value, " \t\"'$`|&;()*?!") {
			value = "'" + strings.ReplaceAll(value, "'", `'\''`) + "'"
		}
		return "--" + name + " " + value
	}
	// Quoted where YAML would read the plain scalar otherwise.
	if value == "" || strings.ContainsAny(value[:1], "-?:,[]{}#&*!|>'\"%@`") || strings.Contains(value, ": ") || strings.Contains(value, " #") {
		value = `"` + strings.ReplaceAll(value, `"`, `\"`) + `"`
	}
	return name + ": " + value
}

// Set is the instruction to give an input a value, at the start of a
// sentence: "Set confirm-destroy: production", or "Pass --confirm-destroy
// production".
func (s Surface) Set(name, value string) string {
	if s == CLI {
		return "Pass " + s.Setting(name, value)
	}
	return "Set " + s.Setting(name, value)
}

// SetLower is Set within a sentence: "set confirm-destroy: production", or
// "pass --confirm-destroy production".
func (s Surface) SetLower(name, value string) string {
	v := s.Set(name, value)
	return strings.ToLower(v[:1]) + v[1:]
}

// Rerun is how to run the same thing again, within a sentence: "re-run
// this job", or "run the command again".
func (s Surface) Rerun() string {
	if s == CLI {
		return "run the command again"
	}
	return "re-run this job"
}

// Replan is how to get a plan reviewed for what is there now, within a
// sentence: "re-run the plan on a pull request, review it and merge that",
// or "run plan again, review it, then apply".
func (s Surface) Replan() string {
	if s == CLI {
		return "run plan again, review it, then apply"
	}
	return "re-run the plan on a pull request, review it and merge that"
}

// Inputs is where the inputs and their allowed values are listed.
func (s Surface) Inputs() string {
	if s == CLI {
		return "arena-deploy --help"
	}
	return "arena-deploy-action's docs/reference.md"
}
