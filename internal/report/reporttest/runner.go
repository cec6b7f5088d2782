// Package reporttest reads a step's log as the GitHub Actions runner
// does, so tests can list the workflow commands it would execute.
package reporttest

import (
	"strings"
	"unicode"
)

// Command is one workflow command the runner would execute.
type Command struct {
	Line int    // 1-based
	Name string // e.g. "error", "add-mask", "stop-commands"; "##[" for the legacy form
	Text string // the whole line
}

// Commands lists the commands the runner would execute in log, following
// its rules (actions/runner ActionCommandManager): a line is a command
// when, after leading white space (any Unicode space, as .NET's TrimStart), it starts with "::name" and has a second
// "::"; the legacy "##[name" form is found anywhere in a line; after
// ::stop-commands::<token> nothing is a command until the line
// ::<token>::. Lines end at LF, CR or CRLF, as .NET's ReadLine ends them.
func Commands(log string) []Command {
	var out []Command
	stopToken := ""
	for i, line := range strings.Split(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(log), "\n") {
		t := strings.TrimLeftFunc(line, unicode.IsSpace) // .NET's TrimStart
		if stopToken != "" {
			if strings.TrimRight(t, " \t\r") == "::"+stopToken+"::" {
				stopToken = ""
			}
			continue
		}
		if strings.HasPrefix(t, "::") {
			rest := t[2:]
			if end := strings.Index(rest, "::"); end >= 0 {
				head := rest[:end]
				name, _, _ := strings.Cut(head, " ")
				out = append(out, Command{Line: i + 1, Name: name, Text: line})
				if name == "stop-commands" {
					stopToken = rest[end+2:]
				}
				continue
			}
		}
		if strings.Contains(line, "##[") {
			out = append(out, Command{Line: i + 1, Name: "##[", Text: line})
		}
	}
	return out
}

// Injected lists the commands in log that hostile text made: hostile
// payloads carry marker right after a line break (as in
// "x\n::error title=MARKER::y" or "x\n::add-mask::MARKER"), so a command
// the action issued itself may carry a payload in its escaped data, but
// never starts its data with marker or has marker in its name or
// properties.
func Injected(log, marker string) []Command {
	var bad []Command
	for _, c := range Commands(log) {
		if c.Name == "##[" {
			if strings.Contains(c.Text, marker) {
				bad = append(bad, c)
			}
			continue
		}
		t := strings.TrimLeftFunc(c.Text, unicode.IsSpace)[2:]
		end := strings.Index(t, "::")
		head, data := t[:end], t[end+2:]
		if strings.Contains(head, marker) || strings.HasPrefix(data, marker) {
			bad = append(bad, c)
			continue
		}
		switch c.Name {
		case "warning", "error", "notice", "debug", "group", "endgroup":
		default: // add-mask, stop-commands, set-output, ...: never with hostile text
			if strings.Contains(c.Text, marker) {
				bad = append(bad, c)
			}
		}
	}
	return bad
}
