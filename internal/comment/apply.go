package comment

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// Apply statuses.
const (
	StatusApplying = "applying"
	StatusApplied  = "applied"
	StatusFailed   = "failed"
	// StatusDestroyed: a preview torn down when its pull request closed.
	StatusDestroyed = "destroyed"
)

// Apply is what an apply report shows: the reviewed plan (embedded) and
// what happened to it.
type Apply struct {
	Plan
	Status   string
	MergeSHA string
	Results  []deploy.ResourceResult
	Notes    []string
	Diff     string // unified diff of the reviewed and the current plan
	// ReviewedDiff is the pack diff the plan showed (its pack.diff), kept
	// folded in the apply report.
	ReviewedDiff string
	// ResultsFromPlan says Results were made from the reviewed plan because
	// the adapter reported none (adapters on PromptKit's v1.3.5 SDK).
	ResultsFromPlan bool
	// Links are the deployment-wide links the adapter reported.
	Links []deploy.Link
	// PreviewOf is the pull request whose preview this is (0: an apply).
	PreviewOf int
	// Rollback is set for a rollback's report.
	Rollback *Rollback
}

// Rollback is what a rollback restores and who asked.
type Rollback struct {
	ToCommit string // the commit whose applied pack is restored
	ToSerial int64
	PR       int    // the pull request that commit merged (0: none found)
	By       string // who asked
	Reason   string
}

// RollbackMarker is the hidden line of a target's rollback comment on the
// pull request whose pack a rollback restored: its own, so the pull
// request's plan and apply report stays as it was.
func RollbackMarker(t Target) string {
	return strings.Replace(t.Marker(), "arena-deploy-action target=", "arena-deploy-action rollback target=", 1)
}

func (a *Apply) marker() string {
	if a.Rollback != nil {
		return RollbackMarker(a.Target)
	}
	return a.Target.Marker()
}

// FromPlanNote is how a report marks results made from the reviewed plan.
const FromPlanNote = "reported by plan; this adapter does not report per-resource results"

type applyView struct {
	Title, Icon, StatusLine, ErrorBlock, Diff, PlanCounts, Footer string
	ReviewedDiff, Links, PlanLabel, Evaluation                    string
	Notes, Rows, PlanRows, Warnings                               []string
	Omitted, PlanOmitted                                          int
}

func resultRow(r deploy.ResourceResult) string {
	icon := map[string]string{"created": "🟢", "updated": "🟡", "deleted": "🔴", "failed": "❌", "planned": "📝", "unchanged": "⚪"}[r.Status]
	if icon == "" {
		icon = "❔"
	}
	return "| " + icon + " | **" + Escape(r.Status) + "** | " + EscapeMax(r.Type, 80) + " | " + EscapeMax(r.Name, 120) + " | " +
		EscapeMax(r.Detail, 300) + " | " + links(r.Links) + " |"
}

// links shows an adapter's links in a table cell: http(s) ones through
// Link, as [label](url); others (file://, custom schemes) cannot be
// clicked, so they show as their label and the end of the address, which
// keeps a long local path from stretching the table.
func links(ls []deploy.Link) string {
	var out []string
	for _, l := range ls {
		if SafeURL(l.URL) {
			out = append(out, Link(l.Label, l.URL))
			continue
		}
		out = append(out, inertLink(l.Label, l.URL))
	}
	return strings.Join(out, "<br>")
}

// inertLink is a link that is not clickable: "label: …/end/of/the/url".
func inertLink(label, rawURL string) string {
	const tail = 40
	r := []rune(rawURL)
	if len(r) > tail {
		end := string(r[len(r)-tail+1:])
		if i := strings.IndexByte(end, '/'); i > 0 {
			end = end[i:] // start at a path segment
		}
		rawURL = "…" + end
	}
	label = strings.TrimSpace(label)
	if label == "" {
		return Escape(rawURL)
	}
	return EscapeMax(label, 40) + ": " + Escape(rawURL)
}

// DeploymentLinks shows deployment-wide links on one line, each through
// Link; none gives "" (links are never made up).
func DeploymentLinks(ls []deploy.Link) string {
	if len(ls) > 20 {
		ls = ls[:20]
	}
	var out []string
	for _, l := range ls {
		out = append(out, Link(l.Label, l.URL))
	}
	if len(out) == 0 {
		return ""
	}
	return "**Links** " + strings.Join(out, " · ")
}

// RenderApply renders the apply report within budget.
func RenderApply(a *Apply, budget int) string {
	v := applyView{Footer: footer(&a.Plan, false)}
	env, headline := envTitle(&a.Plan), ""
	pl := a.Plan
	switch a.Status {
	case StatusApplying:
		pl.verb, pl.Duration = "Started", 0 // still running: no duration yet
	case StatusFailed:
		pl.verb = "Run" // a refused or failed apply applied nothing
	default:
		pl.verb = "Applied"
	}
	v.Footer = footerAt(&pl, false, a.MergeSHA)
	at := ""
	if a.MergeSHA != "" {
		at = " at commit " + commitLink(a.RepoURL, a.MergeSHA)
	}
	switch a.Status {
	case StatusApplying:
		v.Icon, headline, v.StatusLine = "⏳", "applying", "⏳ Applying the reviewed plan"+at+"…"
	case StatusApplied:
		v.Icon, headline, v.StatusLine = "✅", "applied", "✅ **Applied**"+at+": "+resultCounts(a.Results)+"."
		if a.ResultsFromPlan {
			v.StatusLine = "✅ **Applied**" + at + ": " + resultCounts(a.Results) + ", " + FromPlanNote + "."
		}
		if !changedAny(a.Results) && len(a.Results) > 0 {
			// omnia's dry_run: every resource "planned", nothing deployed.
			headline = "applied, nothing deployed"
			v.StatusLine = "✅ **Applied**" + at + ": " + resultCounts(a.Results) + ". The adapter reported these results, and nothing was created, " +
				"updated or deleted (an adapter's dry run reports resources as planned)."
		}
	case StatusDestroyed:
		v.Icon, headline, v.StatusLine = "🗑️", "destroyed", "🗑️ **Destroyed**: the pull request was closed."
	default:
		v.Icon, headline = "❌", "failed"
		v.StatusLine = "❌ **Failed**" + at + " (`" + a.FailureReason + "`). " + Escape(a.Hint)
		if a.Error != "" {
			v.ErrorBlock = Fence(Truncate(a.Error, 4000))
		}
	}
	v.Title, v.PlanLabel = "Arena apply to "+env+": "+headline, "Reviewed plan"
	if rb := a.Rollback; rb != nil {
		to := commitLink(a.RepoURL, rb.ToCommit) + fmt.Sprintf(" (serial %d", rb.ToSerial)
		if rb.PR != 0 {
			to += fmt.Sprintf(", pull request #%d", rb.PR)
		}
		to += ")"
		v.PlanLabel = "Rollback plan"
		v.Title = "Rollback of " + env + ": " + strings.Replace(headline, "applied", "rolled back", 1)
		if v.Icon == "✅" || v.Icon == "⏳" {
			v.Icon = "⏪"
		}
		switch a.Status {
		case StatusApplying:
			v.StatusLine = "⏪ Rolling back to the pack applied at " + to + "…"
		case StatusApplied:
			v.StatusLine = "⏪ **Rolled back** to the pack applied at " + to + ": " + resultCounts(a.Results) + "."
		}
		v.StatusLine += "\n\nAsked by " + EscapeMax(rb.By, 60)
		if rb.Reason != "" {
			v.StatusLine += ": “" + EscapeMax(rb.Reason, 300) + "”"
		}
		v.StatusLine += ". The pack is the one taken from that commit on the default branch, checked against the checksum its apply recorded; the next merge deploys as usual."
	}
	if a.PreviewOf != 0 {
		v.PlanLabel = "Plan"
		v.Title = fmt.Sprintf("Preview of #%d (%s): %s", a.PreviewOf, env, strings.Replace(headline, "applied", "deployed", 1))
		switch a.Status {
		case StatusApplying:
			v.StatusLine = "⏳ Deploying this pull request's pack" + at + "…"
		case StatusApplied:
			v.StatusLine = strings.Replace(v.StatusLine, "**Applied**", "**Deployed**", 1) +
				" It is deployed again on every push and destroyed when the pull request closes; merging deploys the reviewed plan, not this."
		}
	}
	for _, n := range a.Notes {
		v.Notes = append(v.Notes, EscapeMax(n, 500))
	}
	for _, w := range a.Warnings {
		v.Warnings = append(v.Warnings, EscapeMax(w, 500))
	}
	v.Links = DeploymentLinks(a.Links)
	if a.Diff != "" {
		v.Diff = "```diff\n" + strings.ReplaceAll(Visible(Truncate(a.Diff, 8000)), "```", "ˋˋˋ") + "\n```"
	}
	v.PlanCounts = CountChanges(a.Changes).String()
	var rows, plan []string
	for _, r := range a.Results {
		rows = append(rows, resultRow(r))
	}
	for _, c := range SortChanges(a.Changes) {
		plan = append(plan, row(c))
	}
	if a.Evaluation != nil {
		v.Evaluation = a.Evaluation.block(budget/4, budget > CommentBudget)
	}
	// The reviewed diff comes last in priority: results and the plan first,
	// then as much of the diff as is left room for.
	reserve := 0
	if a.ReviewedDiff != "" {
		reserve = min(len(a.ReviewedDiff)+200, budget/4)
	}
	room := rowBudget(budget - len(renderApply(v, a.marker())) - 600 - reserve)
	v.Rows, v.Omitted = room.take(rows)
	v.PlanRows, v.PlanOmitted = room.take(plan)
	if a.ReviewedDiff != "" {
		left := budget - len(renderApply(v, a.marker())) - 400
		v.ReviewedDiff = reviewedDiff(a.ReviewedDiff, left)
	}
	return renderApply(v, a.marker())
}

// reviewedDiff is the plan's pack diff, folded, cut to fit in room bytes.
func reviewedDiff(text string, room int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if room < 500 {
		return ""
	}
	size, cut := 0, len(lines)
	for i, l := range lines {
		// Each line may grow when hidden characters are made visible and
		// the fence lengthens: count generously.
		size += len(l) + 1
		if size*2 > room-300 {
			cut = i
			break
		}
	}
	more := ""
	if cut < len(lines) {
		more = fmt.Sprintf("\n_… %d more lines in `pack.diff` in the plan artifact._\n", len(lines)-cut)
		lines = lines[:cut]
	}
	return "<details><summary>Reviewed pack diff</summary>\n\n" + diffFence(lines) + "\n" + more + "\n</details>"
}

// ResultCounts is "1 created, 2 updated", or "nothing needed changing".
func ResultCounts(results []deploy.ResourceResult) string { return resultCounts(results) }

// resultCounts counts every status an adapter reported: the protocol's
// four first, then any other (omnia's "planned", "unchanged") by name, so
// no result goes uncounted.
func resultCounts(results []deploy.ResourceResult) string {
	n := map[string]int{}
	var others []string
	for _, r := range results {
		if n[r.Status] == 0 && !knownStatus(r.Status) {
			others = append(others, r.Status)
		}
		n[r.Status]++
	}
	if len(results) == 0 {
		return "nothing needed changing"
	}
	sort.Strings(others)
	var parts []string
	for _, s := range append([]string{"created", "updated", "deleted", "failed"}, others...) {
		if n[s] > 0 {
			label := s
			if label == "" {
				label = "without a status"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n[s], Escape(label)))
		}
	}
	return strings.Join(parts, ", ")
}

func knownStatus(s string) bool {
	return s == "created" || s == "updated" || s == "deleted" || s == "failed"
}

// changedAny: some result says a resource was created, updated, deleted or
// failed (a failure may have changed something).
func changedAny(results []deploy.ResourceResult) bool {
	for _, r := range results {
		if knownStatus(r.Status) {
			return true
		}
	}
	return false
}

// RenderDestroy is the job summary of a destroy: what the adapter deleted,
// counted; or, when it reported no per-resource results, that it did not,
// and what it said instead (its progress messages, at most 50).
func RenderDestroy(env string, results []deploy.ResourceResult, messages []string, footer string) string {
	var b strings.Builder
	b.WriteString("### 🗑️ Arena destroy of **" + Escape(env) + "**: destroyed\n\n")
	if len(results) == 0 {
		b.WriteString("🗑️ **Destroyed**: the adapter reported no per-resource results.\n")
		if len(messages) > 0 {
			b.WriteString("\nWhat it said:\n\n")
			for i, m := range messages {
				if i == 50 {
					fmt.Fprintf(&b, "- … and %d more\n", len(messages)-i)
					break
				}
				b.WriteString("- " + EscapeMax(m, 300) + "\n")
			}
		}
	} else {
		b.WriteString("🗑️ **Destroyed**: " + resultCounts(results) + ".\n\n| | Result | Type | Name | Detail | Links |\n|---|---|---|---|---|---|\n")
		for i, r := range results {
			if i == 1000 {
				fmt.Fprintf(&b, "\n_… and %d more._\n", len(results)-i)
				break
			}
			b.WriteString(resultRow(r) + "\n")
		}
	}
	if footer != "" {
		b.WriteString("\n" + footer + "\n")
	}
	return b.String()
}

func renderApply(v applyView, marker string) string {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, "apply.md.tmpl", struct {
		Marker string
		A      applyView
	}{marker, v}); err != nil {
		panic(err)
	}
	return buf.String()
}
