package comment

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/evalresults"
)

// Gate states of an evaluation section.
const (
	GatePreview    = ""           // a plan: what apply would decide on these results
	GatePassed     = "passed"     // an apply the gate let through
	GateBlocked    = "blocked"    // an apply the gate refused
	GateOverridden = "overridden" // an apply let through a block by an override
)

// Evaluation is the evaluation section of a report: the results, how they
// compare with the baseline, and what the policy makes of them. All its
// text from results files is untrusted and escaped here.
type Evaluation struct {
	Results *evalresults.Summary
	// Baseline is the results recorded when the deployed pack was applied
	// (nil: none); Delta compares with it. BaseNote says why there is
	// none, or what to know about it.
	Baseline *evalgate.Baseline
	Delta    *evalgate.Delta
	BaseNote string
	Policy   string
	Blocks   []evalgate.Block
	Override *evalgate.Override
	Gate     string
	// FromPullRequest: the results are a pull request run's, evidence for
	// its review only.
	FromPullRequest bool
}

// Row kinds, in the order rows are shown: what needs attention first.
const (
	rowNewlyFailing = iota
	rowFailing
	rowFixed
	rowNew
	rowPassed
	rowSkipped
	rowRemoved
)

type evalRow struct {
	kind int
	text string
}

// heading is the section's first line: the counts and totals.
func (e *Evaluation) heading() string {
	t := e.Results.Totals
	icon := "✅"
	switch {
	case t.Failed > 0:
		icon = "❌"
	case t.Runs == 0:
		icon = "⚪"
	}
	var parts []string
	if t.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", t.Failed))
	}
	parts = append(parts, fmt.Sprintf("%d passed", t.Passed))
	if t.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", t.Skipped))
	}
	line := fmt.Sprintf("#### Evaluations: %s %s · pass rate %s (%d of %d runs)", icon, strings.Join(parts, ", "),
		evalgate.Percent(t.PassRate()), t.RunsPassed, t.Runs)
	return line + " · " + Cost(t.CostUSD) + " · " + Tokens(t.Tokens()) + " tokens · " + Duration(time.Duration(t.DurationMS)*time.Millisecond)
}

// source says what the results are and where they came from.
func (e *Evaluation) source() string {
	r := e.Results
	kind := "promptarena's JSON results"
	if r.Format == evalresults.FormatJUnit {
		kind = "JUnit XML"
	}
	s := fmt.Sprintf("From %s in `%s` (%d files, digest `%s`)", kind, inlineCode(r.Source), r.Files, Escape(short(strings.TrimPrefix(r.Digest, "sha256:"), 12)))
	if e.FromPullRequest {
		s += ", written by this pull request's workflow run: evidence for the review. On merge, apply evaluates the results its own run writes"
	}
	return s + "."
}

// inlineCode is a path for inside a one-backtick code span on a line of
// its own paragraph (never a table cell), shown as written: GitHub shows
// a code span's backslashes and entities as they are, so Escape's would
// name another path. Backticks and line breaks, which could end the span
// or the line, are replaced; mentions, references and links are inert in
// code; hidden characters are made visible.
func inlineCode(s string) string {
	return strings.NewReplacer("`", "'", "\r\n", " ", "\n", " ", "\r", " ").Replace(Visible(s))
}

// gate is the policy's verdict, as a callout.
func (e *Evaluation) gate() string {
	policy := "`" + Escape(e.Policy) + "`"
	var b strings.Builder
	blocks := func() {
		for _, bl := range e.Blocks {
			b.WriteString("> - **" + Escape(bl.Rule) + "**: " + escapeBytes(bl.Message, 400))
			if len(bl.Cases) > 0 {
				b.WriteString(": " + escapedCases(bl.Cases, 8, 1600))
			}
			b.WriteString("\n")
		}
	}
	switch {
	case e.Gate == GateOverridden && e.Override != nil:
		b.WriteString("> [!WARNING]\n> **The evaluation gate was overridden** by " + escapeBytes(Truncate(e.Override.By, 40), 200) + ": “" + escapeBytes(Truncate(e.Override.Reason, 300), 1200) + "”. evaluation-policy " + policy + " blocked:\n")
		blocks()
	case e.Gate == GateBlocked:
		b.WriteString("> [!CAUTION]\n> **The evaluation gate refused this deploy; nothing was deployed.** evaluation-policy " + policy + " blocks:\n")
		blocks()
	case len(e.Blocks) > 0:
		b.WriteString("> [!CAUTION]\n> **On merge, apply refuses to deploy if its own evaluation gives these results.** evaluation-policy " + policy + " blocks:\n")
		blocks()
	case e.Gate == GatePassed:
		b.WriteString("✅ The evaluation gate passed (evaluation-policy " + policy + ").\n")
	default:
		b.WriteString("✅ These results pass evaluation-policy " + policy + ".\n")
	}
	return b.String()
}

// escapedCases lists up to n case labels, escaped, in at most about max
// bytes, and says how many more there are. The bound is on the escaped
// text: escaping grows a character up to 14 bytes (an invisible one is
// shown as <U+200B>, then written &lt;U+200B&gt;), so a bound on the
// labels' characters let a pull request's scenario ids fill the comment.
func escapedCases(cs []string, n, max int) string {
	var b strings.Builder
	shown := 0
	for _, c := range cs {
		if shown == n {
			break
		}
		e := EscapeMax(c, 300)
		if shown > 0 && b.Len()+2+len(e) > max {
			break
		}
		if shown > 0 {
			b.WriteString("; ")
		}
		b.WriteString(cutBytes(e, max))
		shown++
	}
	if rest := len(cs) - shown; rest > 0 {
		fmt.Fprintf(&b, "; and %d more", rest)
	}
	return b.String()
}

// escapeBytes is Escape(s) in at most about max bytes.
func escapeBytes(s string, max int) string { return cutBytes(Escape(s), max) }

// cutBytes cuts escaped text to at most max bytes (and "…") at a
// character's start, and never inside what Escape writes for one
// character: an entity (&lt;), a <br> or a backslash escape (\*). Every
// zero-width character Escape inserts follows what it breaks, so no cut
// lets a mention, reference or link through.
func cutBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if j := strings.LastIndexAny(s[:i], "&<"); j >= 0 && i-j < len("&gt;U+FFFF") && !strings.ContainsAny(s[j:i], ";>") {
		i = j
	}
	if n := len(s[:i]) - len(strings.TrimRight(s[:i], "\\")); n%2 == 1 {
		i--
	}
	return s[:i] + "…"
}

// comparison is the line comparing with the baseline.
func (e *Evaluation) comparison() string {
	if e.Baseline == nil || e.Delta == nil {
		if e.BaseNote != "" {
			return "No baseline to compare with: " + Escape(e.BaseNote) + "."
		}
		return ""
	}
	d := e.Delta
	var parts []string
	if n := len(d.NewlyFailing); n > 0 {
		parts = append(parts, fmt.Sprintf("**%d newly failing**", n))
	} else {
		parts = append(parts, "none newly failing")
	}
	if n := len(d.Fixed); n > 0 {
		parts = append(parts, fmt.Sprintf("%d fixed", n))
	}
	if n := len(d.StillFailing); n > 0 {
		parts = append(parts, fmt.Sprintf("%d still failing", n))
	}
	if n := len(d.Added); n > 0 {
		parts = append(parts, fmt.Sprintf("%d new", n))
	}
	if n := len(d.Removed); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not run now", n))
	}
	if d.PassRate == d.BasePassRate {
		parts = append(parts, "pass rate "+evalgate.Percent(d.PassRate)+" as before")
	} else {
		parts = append(parts, "pass rate "+evalgate.Percent(d.BasePassRate)+" → "+evalgate.Percent(d.PassRate))
	}
	ms := func(v int64) string { return Duration(time.Duration(v) * time.Millisecond) }
	switch g, ok := evalgate.Growth(d.CostUSD, d.BaseCostUSD); {
	case ok && g == 0:
		parts = append(parts, "cost per run unchanged ("+Cost(d.CostUSD)+")")
	case ok:
		parts = append(parts, "cost per run "+signedPercent(g)+" ("+Cost(d.BaseCostUSD)+" → "+Cost(d.CostUSD)+")")
	case d.CostUSD > 0:
		parts = append(parts, "cost per run "+Cost(0)+" → "+Cost(d.CostUSD))
	}
	switch g, ok := evalgate.Growth(float64(d.DurationMS), float64(d.BaseDurationMS)); {
	case ok && g == 0:
		parts = append(parts, "duration per run unchanged ("+ms(d.DurationMS)+")")
	case ok:
		parts = append(parts, "duration per run "+signedPercent(g)+" ("+ms(d.BaseDurationMS)+" → "+ms(d.DurationMS)+")")
	}
	b := e.Baseline
	what := "Compared with the results recorded when the deployed pack was applied"
	if b.Commit != "" {
		what += " (`" + Escape(short(b.Commit, 7)) + "`"
		if b.RunID != 0 {
			what += ", run " + strconv.FormatInt(b.RunID, 10)
		}
		what += ")"
	}
	s := what + ": " + strings.Join(parts, " · ") + "."
	if e.BaseNote != "" {
		s += " " + Escape(e.BaseNote) + "."
	}
	if b.Override != nil {
		s += " That apply overrode its gate (" + escapeBytes(Truncate(b.Override.By, 40), 200) + ": “" + escapeBytes(Truncate(b.Override.Reason, 200), 800) + "”)."
	}
	return s
}

// BaselineLine is the evaluation the last apply recorded, as one line
// of a status report ("" without one).
func BaselineLine(b *evalgate.Baseline) string {
	if b == nil {
		return ""
	}
	t := b.Results.Totals
	s := fmt.Sprintf("**Evaluations at the last apply**")
	if b.Commit != "" {
		s += " (`" + Escape(short(b.Commit, 7)) + "`"
		if b.RunID != 0 {
			s += ", run " + strconv.FormatInt(b.RunID, 10)
		}
		s += ")"
	}
	s += fmt.Sprintf(": %d passed, %d failed, %d skipped · pass rate %s (%d of %d runs) · %s · %s tokens · evaluation-policy `%s`",
		t.Passed, t.Failed, t.Skipped, evalgate.Percent(t.PassRate()), t.RunsPassed, t.Runs, Cost(t.CostUSD), Tokens(t.Tokens()), Escape(b.Policy))
	if o := b.Override; o != nil {
		s += " · ⚠️ its gate was overridden by " + EscapeMax(o.By, 40) + ": “" + EscapeMax(o.Reason, 200) + "”"
	}
	return s + "."
}

// signedPercent is "+12.5%" or "−3%".
func signedPercent(f float64) string {
	if f < 0 {
		return "−" + evalgate.Percent(-f)
	}
	return "+" + evalgate.Percent(f)
}

// Cost is a dollar amount: four decimals, six under a cent (a run of a
// small model costs hundredths of a cent).
func Cost(usd float64) string {
	if usd != 0 && usd < 0.01 && usd > -0.01 {
		return "$" + strconv.FormatFloat(usd, 'f', 6, 64)
	}
	return "$" + strconv.FormatFloat(usd, 'f', 4, 64)
}

// Tokens is a count with thousands separators.
func Tokens(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

const evalHeader = "| | Scenario | Provider | Region | Runs | Cost | Tokens | Duration | Detail |\n|---|---|---|---|---|---|---|---|---|\n"

// rows are the table's rows, most important first.
func (e *Evaluation) rows() []evalRow {
	var out []evalRow
	base := map[string]evalresults.Case{}
	kind := map[string]int{}
	if d := e.Delta; d != nil {
		for _, set := range []struct {
			cs []evalgate.Change
			k  int
		}{{d.NewlyFailing, rowNewlyFailing}, {d.StillFailing, rowFailing}, {d.Fixed, rowFixed}, {d.Same, -1}} {
			for _, c := range set.cs {
				base[c.Now.Key()] = c.Base
				if set.k >= 0 {
					kind[c.Now.Key()] = set.k
				}
			}
		}
		for _, c := range d.Added {
			kind[c.Key()] = rowNew
		}
	}
	for _, c := range e.Results.Cases {
		k, inDelta := kind[c.Key()]
		switch {
		case c.Status == evalresults.Skipped:
			k = rowSkipped
		case c.Status == evalresults.Failed && (!inDelta || k == rowNew):
			k = rowFailing // a new case that fails is failing first
		case !inDelta:
			k = rowPassed
		}
		var b *evalresults.Case
		if bc, ok := base[c.Key()]; ok {
			b = &bc
		}
		out = append(out, evalRow{k, caseRow(k, &c, b)})
	}
	if e.Delta != nil {
		for _, c := range e.Delta.Removed {
			out = append(out, evalRow{rowRemoved, caseRow(rowRemoved, &c, nil)})
		}
	}
	// Stable by kind: cases keep their (sorted) order within a kind.
	sorted := make([]evalRow, 0, len(out))
	for k := rowNewlyFailing; k <= rowRemoved; k++ {
		for _, r := range out {
			if r.kind == k {
				sorted = append(sorted, r)
			}
		}
	}
	return sorted
}

var rowLabels = map[int]string{
	rowNewlyFailing: "🔴 **newly failing**", rowFailing: "❌ **failing**", rowFixed: "🟢 fixed", rowNew: "🆕 new",
	rowPassed: "✅ passed", rowSkipped: "⏭️ skipped", rowRemoved: "➖ not run now",
}

func caseRow(kind int, c, base *evalresults.Case) string {
	scenario := EscapeMax(c.Scenario, 80)
	if c.Name != "" {
		scenario += " · " + EscapeMax(c.Name, 80)
	}
	cells := []string{rowLabels[kind], scenario, EscapeMax(c.Provider, 60), EscapeMax(c.Region, 30)}
	if kind == rowRemoved {
		cells = append(cells, "", "", "", "", "in the baseline, not in these results")
		return "| " + strings.Join(cells, " | ") + " |"
	}
	runs := "–"
	if c.Runs > 0 {
		runs = fmt.Sprintf("%d/%d", c.RunsPassed, c.Runs)
	}
	cost, dur := Cost(c.CostUSD), Duration(time.Duration(c.DurationMS)*time.Millisecond)
	if base != nil {
		nc, _, nd, ok1 := c.PerRun()
		bc, _, bd, ok2 := base.PerRun()
		if g, ok := evalgate.Growth(nc, bc); ok && ok1 && ok2 && g != 0 {
			cost += " (" + signedPercent(g) + ")"
		}
		if g, ok := evalgate.Growth(float64(nd), float64(bd)); ok && ok1 && ok2 && g != 0 {
			dur += " (" + signedPercent(g) + ")"
		}
	}
	detail := ""
	if c.Why != "" {
		detail = "**" + c.Why + "**"
		if c.Message != "" {
			detail += ": "
		}
	}
	detail += EscapeMax(c.Message, 200)
	cells = append(cells, runs, cost, Tokens(c.InputTokens+c.OutputTokens), dur, detail)
	return "| " + strings.Join(cells, " | ") + " |"
}

// block is the rendered section within room bytes. The comment shows every
// case that needs attention and folds the passed ones; the job summary
// (summary) shows them all.
func (e *Evaluation) block(room int, summary bool) string {
	if e == nil || e.Results == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(e.heading() + "\n\n" + e.source() + "\n\n" + e.gate())
	if c := e.comparison(); c != "" {
		b.WriteString("\n" + c + "\n")
	}
	rows := e.rows()
	var top, passed []string
	for _, r := range rows {
		if r.kind == rowPassed && !summary {
			passed = append(passed, r.text)
		} else {
			top = append(top, r.text)
		}
	}
	const tail = 400
	left := rowBudget(room - b.Len() - len(evalHeader)*2 - tail)
	shown, omitted := left.take(top)
	if len(shown) > 0 {
		b.WriteString("\n" + evalHeader + strings.Join(shown, "\n") + "\n")
	}
	var foldShown []string
	foldOmitted := len(passed)
	if len(passed) > 0 {
		left -= rowBudget(len(evalHeader) + 100)
		foldShown, foldOmitted = left.take(passed)
		if len(foldShown) > 0 {
			fmt.Fprintf(&b, "\n<details><summary>%d passed</summary>\n\n%s%s\n\n</details>\n", len(passed), evalHeader, strings.Join(foldShown, "\n"))
		}
	}
	if n := omitted + foldOmitted; n > 0 {
		where := "the job summary"
		switch {
		case summary && e.Gate == GatePreview:
			where = "`" + evalgate.FileName + "` in the plan artifact"
		case summary:
			// An apply's results are its own run's: the plan artifact
			// holds the pull request's.
			where = "the results this job read (`" + inlineCode(e.Results.Source) + "`)"
		}
		fmt.Fprintf(&b, "\n_… and %d more cases not shown here: see %s._\n", n, where)
	}
	return b.String()
}

// size is what the whole block would take, at most about limit.
func (e *Evaluation) size(limit int, summary bool) int {
	return len(e.block(limit, summary))
}
