package reporttest

import (
	"strings"
	"unicode"
)

// View is a step's log as a person reads it on GitHub: the runner executes
// the workflow commands instead of printing them. A group is one line, "▸
// title" when it holds nothing, "▾ title" followed by its lines indented
// when it does (as if unfolded); warnings, errors and notices read
// "Warning: …", "Error: …", "Notice: …" with their data unescaped; masked
// values read "***"; debug lines, masks, the stop-commands fence and
// commands the runner keeps to itself are not shown. Between
// ::stop-commands:: and its token, lines are shown as they are, as the
// runner shows them. The rules are those of Commands.
func View(log string) []string {
	var (
		out       []string
		masks     []string
		stopToken string
		group     = -1 // index in out of the open group's title, or -1
	)
	mask := func(s string) string {
		for _, m := range masks {
			s = strings.ReplaceAll(s, m, "***")
		}
		return s
	}
	show := func(s string) {
		if group >= 0 {
			s = "  " + s
		}
		out = append(out, mask(s))
	}
	endGroup := func() {
		if group >= 0 && group == len(out)-1 {
			out[group] = "▸" + strings.TrimPrefix(out[group], "▾")
		}
		group = -1
	}
	log = strings.TrimSuffix(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(log), "\n")
	if log == "" {
		return nil
	}
	for _, line := range strings.Split(log, "\n") {
		t := strings.TrimLeftFunc(line, unicode.IsSpace)
		if stopToken != "" {
			if strings.TrimRight(t, " \t\r") == "::"+stopToken+"::" {
				stopToken = ""
				continue
			}
			show(line)
			continue
		}
		name, data, ok := command(t)
		if !ok {
			show(line)
			continue
		}
		switch name {
		case "group":
			endGroup() // the runner does not nest groups
			out = append(out, "▾ "+mask(unescapeData(data)))
			group = len(out) - 1
		case "endgroup":
			endGroup()
		case "add-mask":
			if v := strings.TrimSpace(unescapeData(data)); v != "" {
				masks = append(masks, v)
			}
		case "stop-commands":
			stopToken = data
		case "warning", "error", "notice":
			label := strings.ToUpper(name[:1]) + name[1:] + ": "
			for i, l := range strings.Split(unescapeData(data), "\n") {
				if i == 0 {
					l = label + l
				}
				show(l)
			}
		case "debug", "echo", "save-state", "set-output", "set-env", "add-path", "add-matcher", "remove-matcher":
			// Not shown in the log (debug only with step debugging on).
		default:
			show(line) // not a command the runner knows: printed as it is
		}
	}
	endGroup()
	return out
}

// command splits "::name props::data" as Commands recognises it.
func command(t string) (name, data string, ok bool) {
	if !strings.HasPrefix(t, "::") {
		return "", "", false
	}
	rest := t[2:]
	end := strings.Index(rest, "::")
	if end < 0 {
		return "", "", false
	}
	name, _, _ = strings.Cut(rest[:end], " ")
	return name, rest[end+2:], true
}

// unescapeData undoes the toolkit's escapeData, as the runner does.
var dataUnescaper = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")

func unescapeData(s string) string { return dataUnescaper.Replace(s) }
