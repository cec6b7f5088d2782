package comment

import (
	"fmt"
	"strings"
)

// TargetRow is one row of the targets table.
type TargetRow struct {
	Project     string // working directory and config
	Environment string
	Wave        int
	Follows     string
	Reason      string
	Problem     string // the arena file does not load: its plan says more
}

// Targets is what the targets command found.
type Targets struct {
	Changed  []TargetRow // the matrix
	Total    int         // targets found
	Skipped  []string    // arena files that are not targets, with why
	Compared string      // what was compared ("a1b2c3d...e4f5a6b"), or why everything counts
	Calls    int         // API requests the comparison took
}

// RenderTargets is the job summary of the targets command: the changed
// targets, project by project, and why each changed; every path is the pull
// request's, so every cell is escaped.
func RenderTargets(t *Targets, budget int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### 🎯 Arena targets: %d of %d changed\n\n", len(t.Changed), t.Total)
	if t.Compared != "" {
		fmt.Fprintf(&b, "%s\n\n", Escape(t.Compared))
	}
	if len(t.Changed) == 0 {
		b.WriteString("No target's files changed: nothing to plan or apply.\n")
	} else {
		b.WriteString("| Wave | Project | Environment | Why |\n|---:|---|---|---|\n")
		for i, r := range t.Changed {
			row := fmt.Sprintf("| %d | `%s` | %s | %s |\n", r.Wave, codeSpan(r.Project), Escape(r.Environment), reason(r))
			if b.Len()+len(row) > budget-200 {
				fmt.Fprintf(&b, "\n…and %d more (all in the matrix output).\n", len(t.Changed)-i)
				break
			}
			b.WriteString(row)
		}
	}
	if len(t.Skipped) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>%d arena files or environments are not deploy targets</summary>\n\n", len(t.Skipped))
		for _, s := range t.Skipped {
			line := "- " + Escape(s) + "\n"
			if b.Len()+len(line) > budget-100 {
				b.WriteString("- …\n")
				break
			}
			b.WriteString(line)
		}
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

func reason(r TargetRow) string {
	s := Escape(r.Reason)
	if r.Follows != "" {
		s += " · applies after " + Escape(r.Follows)
	}
	if r.Problem != "" {
		s += " · ⚠️ its arena file does not load (the plan says why)"
	}
	return s
}

// codeSpan is text for inside a one-backtick code span: backticks and line
// breaks cannot end it or the row.
func codeSpan(s string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "\r", " ", "|", `\|`).Replace(Visible(s))
}
