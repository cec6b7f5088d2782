package comment

import (
	"fmt"
	"html"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/packdiff"
)

// DiffBase says what the pull request's pack was compared with.
type DiffBase int

// What the deployed side of the pack diff is.
const (
	// BaseDeployed: the pack recorded at the environment's last apply.
	BaseDeployed DiffBase = iota
	// BaseCommit: nothing recorded yet, so the pack at the pull request's
	// base commit stands in for what is deployed.
	BaseCommit
	// BaseNone: nothing recorded and no pack at the base commit: all new.
	BaseNone
	// BaseNothingDeployed: no state, so nothing is deployed (the CLI,
	// which has no base commit to look at): all new.
	BaseNothingDeployed
)

// PackDiff is the semantic pack diff a report shows under the change table.
type PackDiff struct {
	Diff *packdiff.Diff
	Base DiffBase
	// BaseSHA and BaseURL name the base commit (BaseCommit).
	BaseSHA, BaseURL string

	// sections rendered so far, by form: a report measures the block, then
	// renders it in the room the table left, from the same sections.
	sections map[sectionForm][]string
}

type sectionForm struct{ summary, open bool }

// Per-section line caps: the comment shows the start of each prompt's diff
// and points to the job summary for the rest; the summary shows it all
// unless its own budget runs out.
const (
	commentDiffLines = 40
	summaryDiffLines = 5000
	// openSections: with this many changed prompts or fewer the plan
	// comment shows their diffs unfolded.
	openSections = 3
)

// source is the sentence saying what the diff compares with.
func (pd *PackDiff) source(env string) string {
	switch pd.Base {
	case BaseCommit:
		c := "`" + Escape(short(pd.BaseSHA, 7)) + "`"
		if pd.BaseURL != "" && SafeURL(pd.BaseURL) {
			c = "[" + c + "](" + urlReplacer.Replace(pd.BaseURL) + ")"
		}
		return "Compared with the pack at the base commit " + c + ", which stands in for what is deployed: no applied pack is recorded for " + env + " yet."
	case BaseNone:
		return "Nothing is recorded as deployed to " + env + " and the base commit has no pack: every prompt is new."
	case BaseNothingDeployed:
		return "Nothing is deployed to " + env + ": every prompt is new."
	}
	return "Compared with the pack last applied to " + env + "."
}

// heading is the line above the sections: counts by kind and line totals.
func (pd *PackDiff) heading() string {
	n, frag := map[packdiff.Kind]int{}, map[packdiff.Kind]int{}
	for _, p := range pd.Diff.Prompts {
		if p.Fragment {
			frag[p.Kind]++
		} else {
			n[p.Kind]++
		}
	}
	var parts []string
	for _, k := range []packdiff.Kind{packdiff.Changed, packdiff.Removed, packdiff.Added, packdiff.Renamed} {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
		}
	}
	for _, k := range []packdiff.Kind{packdiff.Changed, packdiff.Removed, packdiff.Added} {
		switch f := frag[k]; {
		case f == 1:
			parts = append(parts, fmt.Sprintf("1 fragment %s", k))
		case f > 1:
			parts = append(parts, fmt.Sprintf("%d fragments %s", f, k))
		}
	}
	if len(pd.Diff.Pack) > 0 {
		parts = append(parts, fmt.Sprintf("%d pack fields changed", len(pd.Diff.Pack)))
	}
	if len(parts) == 0 {
		return "#### Prompts: no changes"
	}
	a, r := pd.Diff.Totals()
	return fmt.Sprintf("#### Prompts: %s (+%d −%d lines)", strings.Join(parts, ", "), a, r)
}

// htmlText makes untrusted text safe inside an HTML element such as
// <summary>, where Markdown escapes would show as backslashes: HTML
// escaping plus the same inert @mentions, issue references and URLs as
// Escape.
var htmlText = strings.NewReplacer("#", "#"+zwj, "@", "@"+zwsp, "://", ":"+zwj+"//")

func escapeHTML(s string) string {
	return htmlText.Replace(breakGHRefs(html.EscapeString(Visible(s))))
}

// fieldLine is one changed field as a list item, every part escaped.
func fieldLine(f packdiff.Field) string {
	path := "**" + EscapeMax(f.Path, 120) + "**"
	switch {
	case f.Old == "":
		return "- " + path + ": added " + Escape(Truncate(f.New, 150))
	case f.New == "":
		return "- " + path + ": removed (was " + Escape(Truncate(f.Old, 150)) + ")"
	}
	return "- " + path + ": " + Escape(Truncate(f.Old, 150)) + " → " + Escape(Truncate(f.New, 150))
}

// diffFence wraps diff lines in a ```diff fence longer than any backtick
// run in them, so no pack text can close it (or the <details> around it);
// hidden characters are made visible.
func diffFence(lines []string) string {
	for i, l := range lines {
		lines[i] = Visible(strings.ReplaceAll(l, "\r", "␍"))
	}
	f := fenceFor(lines...)
	return f + "diff\n" + strings.Join(lines, "\n") + "\n" + f
}

// section is one prompt's collapsible block: its name and +N −M in the
// summary, the changed fields, then the template diff cut at maxLines with
// a pointer to where the rest is.
func section(p *packdiff.Prompt, maxLines int, open bool, rest string) string {
	var b strings.Builder
	b.WriteString("<details")
	if open {
		b.WriteString(" open")
	}
	b.WriteString("><summary><code>" + escapeHTML(Truncate(p.Name, 120)) + "</code> ")
	if p.Fragment {
		b.WriteString("fragment ")
	}
	switch p.Kind {
	case packdiff.Renamed:
		b.WriteString("renamed from <code>" + escapeHTML(Truncate(p.From, 120)) + "</code>")
	default:
		b.WriteString(string(p.Kind))
	}
	b.WriteString(" · " + html.EscapeString(p.Summary()) + "</summary>\n\n")
	const maxFields = 30
	fields := p.FieldChanges()
	for i, f := range fields {
		if i == maxFields {
			fmt.Fprintf(&b, "- _… %d more fields %s._\n", len(fields)-maxFields, rest)
			break
		}
		b.WriteString(fieldLine(f) + "\n")
	}
	if len(fields) > 0 {
		b.WriteString("\n")
	}
	if diffLines := p.DiffLines(); len(diffLines) > 0 {
		lines := append([]string(nil), diffLines...)
		more := 0
		if len(lines) > maxLines {
			lines, more = lines[:maxLines], len(lines)-maxLines
		}
		b.WriteString(diffFence(lines) + "\n")
		if more > 0 {
			fmt.Fprintf(&b, "\n_… %d more lines %s._\n", more, rest)
		}
	} else if len(fields) == 0 {
		b.WriteString("_The template text is the same._\n")
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

// packSection lists changes outside the prompts.
func packSection(fields []packdiff.Field, rest string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>Pack fields outside the prompts · %d changed</summary>\n\n", len(fields))
	for i, f := range fields {
		if i == 50 {
			fmt.Fprintf(&b, "- _… %d more %s._\n", len(fields)-50, rest)
			break
		}
		b.WriteString(fieldLine(f) + "\n")
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

// diffBlock is the rendered pack diff: a heading, the source sentence, and
// as many sections as fit in room, most important first; a line counts
// those left out. summary selects the job summary's form (whole diffs).
func (pd *PackDiff) block(env string, room int, summary, folded bool) string {
	if pd == nil || pd.Diff == nil {
		return ""
	}
	head := pd.heading() + "\n\n" + pd.source(env) + "\n\n"
	if pd.Diff.Empty() {
		return head
	}
	rest, maxLines := "in the job summary", commentDiffLines
	if summary {
		rest, maxLines = "in `pack.diff` in the plan artifact", summaryDiffLines
	}
	open := !folded && len(pd.Diff.Prompts) <= openSections
	// Sections are rendered one at a time and only while they fit: a pack
	// of thousands of new prompts must not be rendered whole to show ten.
	total := len(pd.Diff.Prompts)
	if len(pd.Diff.Pack) > 0 {
		total++
	}
	const tail = 300 // the "… and N more" line
	var b strings.Builder
	b.WriteString(head)
	room -= len(head) + tail
	shown := 0
	if pd.sections == nil {
		pd.sections = map[sectionForm][]string{}
	}
	form := sectionForm{summary, open}
	for shown < total {
		var s string
		switch cached := pd.sections[form]; {
		case shown < len(cached):
			s = cached[shown]
		case shown < len(pd.Diff.Prompts):
			s = section(&pd.Diff.Prompts[shown], maxLines, open, rest)
			pd.sections[form] = append(cached, s)
		default:
			s = packSection(pd.Diff.Pack, rest)
		}
		if len(s)+1 > room {
			break
		}
		b.WriteString(s + "\n")
		room -= len(s) + 1
		shown++
	}
	if left := total - shown; left > 0 {
		where := "the full diff is in the job summary and in `pack.diff` in the plan artifact"
		if summary {
			where = "the full diff is in `pack.diff` in the plan artifact"
		}
		fmt.Fprintf(&b, "_… and %d more sections not shown here: %s._\n", left, where)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// size is what the whole block would take, or about limit when it would
// take more: rendering stops there.
func (pd *PackDiff) size(env string, summary bool, limit int) int {
	return len(pd.block(env, limit, summary, false))
}
