// Package comment renders the plan and apply reports (PR comment and job
// summary) and keeps one sticky comment per deploy target on a pull request.
package comment

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/mdtmpl"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// Size budgets: GitHub rejects comment bodies over 65,536 characters and
// job summaries over 1 MiB per step.
const (
	CommentBudget = 65536
	SummaryBudget = 1 << 20
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// templates are rendered by mdtmpl, not text/template: see that package for
// the 3.66 MB it saves.
var templates = mdtmpl.ParseFS(templateFS, "templates/*.tmpl")

// Target identifies one deploy target; each keeps its own sticky comment.
type Target = target.Key

// Plan is what a plan report shows.
type Plan struct {
	Target         Target
	Provider       string
	AdapterName    string
	AdapterVersion string
	PackID         string
	PackVersion    string
	Changes        []deploy.ResourceChange
	// Summary is the adapter's own summary of the plan, shown as it gave
	// it: agentcore reports drift only there.
	Summary      string
	Warnings     []string
	PackChecksum string
	PlanID       string
	HeadSHA      string
	RunURL       string
	RunLabel     string
	// NotApplicable, when set, says why merging will not apply this plan
	// (it replaces the promise that it will).
	NotApplicable string
	// NoPullRequest: the plan is not a pull request's (the CLI, a direct
	// push), so nothing is said about merging.
	NoPullRequest bool
	// Error and FailureReason are set when planning failed.
	Error         string
	FailureReason string
	Hint          string
	// PackDiff is the semantic pack diff shown under the change table.
	PackDiff *PackDiff
	// Follows is the environment this one applies after (the follows
	// input or the arena-deploy/follows annotation).
	Follows string
	// Unlisted: the environment is not under deploy.environments, which
	// lists Listed; it deploys with the base config (as promptarena does),
	// and the report says so first: in its title and right under it.
	Unlisted bool
	Listed   []string
	// Evaluation is the evaluation section, above the pack diff (nil:
	// no evaluation results).
	Evaluation *Evaluation
	// Actor, At and Duration say who started the run, when, and how long
	// it took (the plan's, or the apply's in an apply report).
	Actor    string
	At       time.Time
	Duration time.Duration
	// RepoURL is the repository's web address, for commit links;
	// ServerURL GitHub's, for the actor's profile.
	RepoURL, ServerURL string
	verb               string // of the provenance line: "Planned" unless set
}

// UnchangedFold is how many unchanged rows a comment lists; above it they
// fold to a count, and their names are in the job summary.
const UnchangedFold = 50

// Counts tallies a plan's changes by action.
type Counts struct {
	Create, Update, Delete, Drift, NoChange, Other int
}

// CountChanges tallies changes.
func CountChanges(changes []deploy.ResourceChange) Counts {
	var c Counts
	for _, ch := range changes {
		switch ch.Action {
		case deploy.ActionCreate:
			c.Create++
		case deploy.ActionUpdate:
			c.Update++
		case deploy.ActionDelete:
			c.Delete++
		case deploy.ActionDrift:
			c.Drift++
		case deploy.ActionNoChange:
			c.NoChange++
		default:
			c.Other++
		}
	}
	return c
}

// HasChanges is true when applying would change anything.
func (c Counts) HasChanges() bool { return c.Create+c.Update+c.Delete+c.Drift+c.Other > 0 }

// String is the counts line: "+3 to create, ~1 to update, ...".
func (c Counts) String() string {
	parts := []string{
		fmt.Sprintf("+%d to create", c.Create), fmt.Sprintf("~%d to update", c.Update),
		fmt.Sprintf("-%d to delete", c.Delete), fmt.Sprintf("!%d drifted", c.Drift),
	}
	if c.Other > 0 {
		parts = append(parts, fmt.Sprintf("?%d other", c.Other))
	}
	return strings.Join(append(parts, fmt.Sprintf("%d unchanged", c.NoChange)), ", ")
}

// Headline names only the non-zero kinds of change: "+2 to create, -1 to delete".
func (c Counts) Headline() string {
	var parts []string
	for _, p := range []struct {
		n    int
		text string
	}{{c.Create, "+%d to create"}, {c.Update, "~%d to update"}, {c.Delete, "-%d to delete"}, {c.Drift, "!%d drifted"}, {c.Other, "?%d other"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf(p.text, p.n))
		}
	}
	return strings.Join(parts, ", ")
}

// actionRank orders rows: what needs attention first.
func actionRank(a deploy.Action) int {
	switch a {
	case deploy.ActionDelete:
		return 0
	case deploy.ActionDrift:
		return 1
	case deploy.ActionUpdate:
		return 2
	case deploy.ActionCreate:
		return 3
	case deploy.ActionNoChange:
		return 5
	}
	return 4 // unknown actions are shown, never dropped
}

func actionLabel(a deploy.Action) string {
	switch a {
	case deploy.ActionDelete:
		return "🔴 | **delete**"
	case deploy.ActionDrift:
		return "🟠 | **drift**"
	case deploy.ActionUpdate:
		return "🟡 | **update**"
	case deploy.ActionCreate:
		return "🟢 | **create**"
	case deploy.ActionNoChange:
		return "⚪ | no change"
	}
	return "❔ | **" + Escape(strings.ToLower(string(a))) + "**"
}

func row(c deploy.ResourceChange) string {
	return "| " + actionLabel(c.Action) + " | " + EscapeMax(c.Type, 80) + " | " + EscapeMax(c.Name, 120) + " | " + EscapeMax(c.Detail, 300) + " |"
}

// SortChanges orders changes for display, keeping the adapter's order
// within one action: one pass that counts the ranks and one that places
// each change (a stable counting sort; ranks are few).
func SortChanges(changes []deploy.ResourceChange) []deploy.ResourceChange {
	out := make([]deploy.ResourceChange, len(changes))
	for i, j := range sortedOrder(changes) {
		out[i] = changes[j]
	}
	return out
}

// sortedOrder is SortChanges as indices into changes: a comment shows a
// few hundred of 10,000 changes, and copying all of them in order (64
// bytes each, with pointers the collector follows) was most of its cost.
func sortedOrder(changes []deploy.ResourceChange) []int32 {
	var start [6]int
	for _, c := range changes {
		if r := actionRank(c.Action); r+1 < len(start) {
			start[r+1]++
		}
	}
	for r := 1; r < len(start); r++ {
		start[r] += start[r-1]
	}
	out := make([]int32, len(changes))
	for i, c := range changes {
		r := actionRank(c.Action)
		out[start[r]] = int32(i)
		start[r]++
	}
	return out
}

// planView is the template's data.
type planView struct {
	Env, EnvTitle, Icon, Headline, Provider, Adapter, Pack string
	Counts                                                 string
	HasChanges                                             bool
	Rows, UnchangedRows, Warnings                          []string
	Omitted, Unchanged, UnchangedOmitted                   int
	Error, ErrorBlock, FailureReason, Hint, Footer         string
	PackDiff, Summary, Evaluation                          string
	UnchangedFolded                                        bool
	Follows, Unlisted                                      string
}

// envTitle is the environment as a report's title names it: bold, with
// its project when that is not the repository's root arena.yaml (two
// projects' comments on one pull request must not look alike), and
// marked when arena.yaml does not list it.
func envTitle(p *Plan) string {
	t := "**" + Escape(p.Target.Env) + "**"
	if proj := projectOf(p.Target); proj != "" {
		t += " in `" + codeSpan(proj) + "`"
	}
	if p.Unlisted {
		t += " (not in arena.yaml)"
	}
	return t
}

// projectOf names a target's project: its folder, or its arena file when
// that is not arena.yaml; "" for the repository's root arena.yaml.
func projectOf(t Target) string {
	switch {
	case t.ConfigPath != "arena.yaml" && t.ConfigPath != "":
		return path.Join(t.WorkingDir, t.ConfigPath)
	case t.WorkingDir != "." && t.WorkingDir != "":
		return t.WorkingDir
	}
	return ""
}

// UnlistedNote says what planning an environment arena.yaml does not list
// means; "" when it lists it.
func UnlistedNote(p *Plan) string {
	if !p.Unlisted {
		return ""
	}
	env := Escape(p.Target.Env)
	listed := "none"
	if len(p.Listed) > 0 {
		names := make([]string, len(p.Listed))
		for i, n := range p.Listed {
			names[i] = "**" + Escape(n) + "**"
		}
		listed = strings.Join(names, ", ")
	}
	return "**" + env + " is not an environment of " + Escape(p.Target.ConfigPath) + "** (its deploy.environments: " + listed +
		"): this deploys with the base `deploy.config`, as promptarena does. If that is not intended, fix the environment's name, or add `deploy.environments." + env + "`."
}

// RenderPlan renders the plan report within budget characters (bytes, which
// are never fewer): rows that do not fit are counted instead of shown.
func RenderPlan(p *Plan, budget int) string {
	v := planView{Env: "**" + Escape(p.Target.Env) + "**", EnvTitle: envTitle(p), Provider: Escape(p.Provider), Footer: footer(p, p.Error == ""), Unlisted: UnlistedNote(p)}
	v.Adapter = Escape(strings.TrimSpace(p.AdapterName + " " + p.AdapterVersion))
	if p.PackID != "" {
		v.Pack = Escape(strings.TrimSpace(p.PackID + " " + p.PackVersion))
	}
	for _, w := range p.Warnings {
		v.Warnings = append(v.Warnings, EscapeMax(w, 500))
	}
	if p.Follows != "" {
		v.Follows = "⏳ Follows **" + Escape(p.Follows) + "**: on merge, " + v.Env + " applies after " + "**" + Escape(p.Follows) + "** has applied."
	}
	if p.Error != "" {
		v.Icon, v.Headline = "❌", "failed"
		v.Error, v.FailureReason, v.Hint = "yes", "`"+p.FailureReason+"`", Escape(p.Hint)
		v.ErrorBlock = Fence(Truncate(p.Error, 4000))
		return render(v, planMarker(p))
	}
	v.Summary = AdapterSummary(p.Summary)
	counts := CountChanges(p.Changes)
	v.Counts, v.HasChanges, v.Unchanged = counts.String(), counts.HasChanges(), counts.NoChange
	v.Icon, v.Headline = "✅", "no changes"
	if v.HasChanges {
		v.Icon, v.Headline = "📝", counts.Headline()
		if counts.Delete+counts.Drift > 0 {
			v.Icon = "⚠️"
		}
	}
	if p.Unlisted {
		v.Icon = "⚠️"
	}
	// Rows are escaped only while they fit: a comment shows a few hundred
	// of a plan's ten thousand changes.
	order := sortedOrder(p.Changes)
	split := len(order) - counts.NoChange // no change ranks last
	rows, same := changeRows{p.Changes, order[:split]}, changeRows{p.Changes, order[split:]}
	summary := budget > CommentBudget
	if !summary && same.len() > UnchangedFold {
		same, v.UnchangedFolded = changeRows{}, true
	}
	// The evaluation section may take up to a quarter of the budget,
	// first: it is what reviewers decide on.
	if p.Evaluation != nil {
		v.Evaluation = p.Evaluation.block(budget/4, summary)
	}
	if p.PackDiff == nil {
		fit(&v, rows, same, planMarker(p), budget)
		return render(v, planMarker(p))
	}
	// The table and the diff share the budget: the diff may take up to
	// half, the table the rest; then the diff gets whatever the table left.
	reserve := min(p.PackDiff.size(p.Target.Env, summary, budget/2), budget/2)
	fit(&v, rows, same, planMarker(p), budget-reserve)
	room := budget - len(render(v, planMarker(p))) - 200
	v.PackDiff = p.PackDiff.block(p.Target.Env, room, summary, false)
	return render(v, planMarker(p))
}

// planMarker is the target's marker, then which pull request head the
// plan is of (a plan run whose head is no longer the newest reads it).
func planMarker(p *Plan) string {
	if p.HeadSHA == "" {
		return p.Target.Marker()
	}
	return p.Target.Marker() + "\n" + HeadMarker(p.HeadSHA)
}

// HeadMarker is the hidden line naming the pull request head a plan
// comment shows.
func HeadMarker(sha string) string {
	return headPrefix + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, sha) + " -->"
}

const headPrefix = "<!-- arena-plan-head="

// ShowsHead says whether a comment says it shows the plan of head.
func ShowsHead(body, head string) bool {
	return head != "" && strings.Contains(body, "\n"+HeadMarker(head)+"\n")
}

// AdapterSummary is the adapter's plan summary as one quoted line (its
// lines kept apart by <br>), escaped like all adapter text and cut at 2,000
// characters; "" when the adapter gave none.
func AdapterSummary(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "> **The adapter's summary:** " + EscapeMax(s, 2000)
}

// changeRows are table rows of changes in the order given by indices into
// them, each escaped when it is taken.
type changeRows struct {
	changes []deploy.ResourceChange
	order   []int32
}

func (c changeRows) len() int         { return len(c.order) }
func (c changeRows) row(i int) string { return row(c.changes[c.order[i]]) }

// rowList is rows as take reads them: made one at a time.
type rowList interface {
	len() int
	row(i int) string
}

// fit puts as many rows in as the budget allows: changes first, then the
// unchanged ones. Each row's size is known once it is escaped, so this is
// one pass, not a search.
func fit(v *planView, rows, same changeRows, marker string, budget int) {
	// Reserve room for the "… and N more" lines the cut may add.
	room := rowBudget(budget - len(render(*v, marker)) - 400)
	if same.len() > 0 {
		room -= 200 // the <details> block's own lines
	}
	v.Rows, v.Omitted = room.takeRows(rows)
	v.UnchangedRows, v.UnchangedOmitted = room.takeRows(same)
}

// takeRows keeps the rows that fit, in order, escaping each only when it
// is reached, and counts the rest.
func (b *rowBudget) takeRows(rows rowList) ([]string, int) {
	var out []string
	for i := 0; i < rows.len(); i++ {
		r := rows.row(i)
		if int(*b)-len(r)-1 < 0 {
			return out, rows.len() - i
		}
		*b -= rowBudget(len(r) + 1)
		out = append(out, r)
	}
	return out, 0
}

// rowBudget is the room left for table rows, in bytes.
type rowBudget int

// take keeps the rows that fit, in order, and counts the rest.
func (b *rowBudget) take(rows []string) ([]string, int) {
	for i, r := range rows {
		if int(*b)-len(r)-1 < 0 {
			return rows[:i], len(rows) - i
		}
		*b -= rowBudget(len(r) + 1)
	}
	return rows, 0
}

func render(v planView, marker string) string {
	var buf bytes.Buffer
	err := templates.ExecuteTemplate(&buf, "plan.md.tmpl", struct {
		Marker string
		Plan   planView
	}{marker, v})
	if err != nil {
		panic(err) // the template is fixed and tested
	}
	return buf.String()
}

// footer is the provenance line; mergeNote adds what merging will do.
func footer(p *Plan, mergeNote bool) string { return footerAt(p, mergeNote, "") }

// footerAt is the footer of an apply at commit applied (the plan's when
// ""): the pack checksum is the commit's, and the plan the reviewed one,
// made at the pull request's head, each labelled, so a refused apply's
// three commits and ids are not read one for another.
func footerAt(p *Plan, mergeNote bool, applied string) string {
	var parts []string
	if p.PackChecksum != "" {
		part := "**Pack checksum** `" + Escape(p.PackChecksum) + "`"
		if applied != "" {
			part += " at " + commitLink(p.RepoURL, applied)
		}
		parts = append(parts, part)
	}
	switch {
	case applied != "" && p.PlanID != "":
		part := "**Reviewed plan** `" + Escape(short(p.PlanID, 12)) + "`"
		if p.HeadSHA != "" {
			part += ", made at the pull request's head " + commitLink(p.RepoURL, p.HeadSHA)
		}
		parts = append(parts, part)
	case applied != "" && p.HeadSHA != "":
		parts = append(parts, "**Pull request head** "+commitLink(p.RepoURL, p.HeadSHA))
	default:
		if p.PlanID != "" {
			parts = append(parts, "**Plan** `"+Escape(short(p.PlanID, 12))+"`")
		}
		if p.HeadSHA != "" {
			parts = append(parts, "**Head** "+commitLink(p.RepoURL, p.HeadSHA))
		}
	}
	if p.RunURL != "" {
		label := p.RunLabel
		if label == "" {
			label = "workflow run"
		}
		parts = append(parts, "["+Escape(label)+"]("+p.RunURL+")")
	}
	out := strings.Join(parts, " · ")
	if by := provenance(p); by != "" {
		out = by + "\n\n" + out
	}
	switch {
	case p.NoPullRequest:
	case mergeNote && p.NotApplicable != "":
		out += "\n\n<sub>Merging this pull request does not apply this plan: " + Escape(p.NotApplicable) + ".</sub>"
	case mergeNote && p.Evaluation != nil && len(p.Evaluation.Blocks) > 0:
		// The promise holds only if the merge's own evaluation passes: with
		// these results it would not.
		out += "\n\n<sub>Merging this pull request applies exactly this plan to " + Escape(p.Target.Env) +
			" only if the merge commit's own evaluation passes evaluation-policy; with the results above, the apply refuses to deploy it." +
			" If the pack, the config or the deployed state changes first, the apply stops and says why.</sub>"
	case mergeNote && p.Evaluation != nil:
		out += "\n\n<sub>Merging this pull request applies exactly this plan to " + Escape(p.Target.Env) +
			" if the merge commit's own evaluation passes evaluation-policy. If the pack, the config or the deployed state changes first, the apply stops and says why.</sub>"
	case mergeNote:
		out += "\n\n<sub>Merging this pull request applies exactly this plan to " + Escape(p.Target.Env) +
			". If the pack, the config or the deployed state changes first, the apply stops and says why.</sub>"
	}
	return out
}

// commitLink is a short SHA linked to its commit when the repository's
// address is known.
func commitLink(repoURL, sha string) string {
	c := "`" + Escape(short(sha, 7)) + "`"
	if repoURL == "" || !SafeURL(repoURL) || strings.Trim(sha, "0123456789abcdef") != "" {
		return c
	}
	return "[" + c + "](" + urlReplacer.Replace(strings.TrimRight(repoURL, "/")+"/commit/"+sha) + ")"
}

// provenance is "Planned by octocat on 2026-11-27 10:00 UTC in 3.1 s", for
// what is known. The login links to the profile rather than @mentioning it,
// so nobody is notified on every push.
func provenance(p *Plan) string {
	var b strings.Builder
	if p.Actor != "" {
		b.WriteString(" by ")
		if p.ServerURL != "" && validLogin(p.Actor) && SafeURL(p.ServerURL) {
			b.WriteString("[" + Escape(p.Actor) + "](" + urlReplacer.Replace(strings.TrimRight(p.ServerURL, "/")+"/"+p.Actor) + ")")
		} else {
			b.WriteString(EscapeMax(p.Actor, 40))
		}
	}
	if !p.At.IsZero() {
		b.WriteString(" on " + p.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if p.Duration > 0 {
		b.WriteString(" in " + Duration(p.Duration))
	}
	if b.Len() == 0 {
		return ""
	}
	verb := "Planned"
	if p.verb != "" {
		verb = p.verb
	}
	return "<sub>" + verb + b.String() + "</sub>"
}

// validLogin: GitHub logins are letters, digits and single hyphens (bots
// add "[bot]", which has no profile page of that name to link).
func validLogin(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Duration is a run's length as people say it: "850 ms", "3.2 s", "2 min 5 s".
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
