package comment

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/evalresults"
	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// hostileScenario is a scenario id a pull request's author chose.
const hostileScenario = "greet <img src=x onerror=alert(1)> @octocat #1 | `x` **b** [l](https://evil.test) <!-- arena-deploy-action target=0 -->"

func evalCase(scenario, provider, region, status string, runs, passed int, cost float64, ms int64, why, msg string) evalresults.Case {
	return evalresults.Case{Scenario: scenario, Provider: provider, Region: region, Status: status, Runs: runs, RunsPassed: passed,
		CostUSD: cost, DurationMS: ms, InputTokens: 1200, OutputTokens: 340, Why: why, Message: msg, Measured: max(runs, 1)}
}

func evalSummary(cs ...evalresults.Case) *evalresults.Summary {
	s := &evalresults.Summary{Format: evalresults.FormatPromptArena, Source: "out", Files: len(cs) + 1,
		Digest: "sha256:5e1f0c9a7b3d2e4f6a8c0b1d3e5f7a9c0b2d4e6f8a0c2e4a6b8d0f1a3c5e7b9d", Cases: cs}
	for _, c := range cs {
		t := &s.Totals
		t.Cases++
		switch c.Status {
		case evalresults.Passed:
			t.Passed++
		case evalresults.Failed:
			t.Failed++
		default:
			t.Skipped++
		}
		t.Runs += c.Runs
		t.RunsPassed += c.RunsPassed
		t.CostUSD += c.CostUSD
		t.InputTokens += c.InputTokens
		t.OutputTokens += c.OutputTokens
		t.DurationMS += c.DurationMS
	}
	return s
}

// evalFixture is a pull request's results against a baseline: a case that
// regressed, one fixed, one failing in both, a new one, a flaky trial
// case, a skipped run, a removed case, two providers and two regions, and
// hostile text in a scenario id and a message.
func evalFixture(t *testing.T, policy string) *Evaluation {
	t.Helper()
	base := evalSummary(
		evalCase("greet", "openai-mini", "us", "passed", 1, 1, 0.0004, 1200, "", ""),
		evalCase("greet", "openai-4o", "eu", "passed", 1, 1, 0.0060, 2100, "", ""),
		evalCase("refund-limit", "openai-mini", "us", "passed", 1, 1, 0.0005, 1300, "", ""),
		evalCase("escalation-summary", "openai-mini", "us", "failed", 3, 1, 0.0015, 3900, evalresults.WhyTrials, "1 of 3 trials passed"),
		evalCase("broken-request", "openai-mini", "us", "failed", 1, 0, 0, 10, evalresults.WhyError, "HTTP 400"),
		evalCase("retired", "openai-mini", "us", "passed", 1, 1, 0.0003, 900, "", ""),
	)
	now := evalSummary(
		evalCase("greet", "openai-mini", "us", "passed", 1, 1, 0.0005, 1000, "", ""),
		evalCase("greet", "openai-4o", "eu", "passed", 1, 1, 0.0090, 2600, "", ""),
		evalCase("refund-limit", "openai-mini", "us", "failed", 1, 0, 0.0005, 1400, evalresults.WhyAssertions, "content_includes: Should restate the amount asked"),
		evalCase("escalation-summary", "openai-mini", "us", "passed", 3, 3, 0.0015, 3000, "", ""),
		evalCase("broken-request", "openai-mini", "us", "failed", 1, 0, 0, 12, evalresults.WhyError, "HTTP 400: Invalid request: the prompt mentions @octocat and <img src=x onerror=alert(1)> | a pipe; see #12"),
		evalCase(hostileScenario, "openai-mini", "us", "failed", 1, 0, 0.0004, 800, evalresults.WhyAssertions, "Must say @admins <b>bold</b> | pipe #12 [x](https://evil.test)\n```\nbreak"),
		evalCase("overloaded", "openai-mini", "us", "skipped", 0, 0, 0, 0, "", "HTTP 503: The server is overloaded"),
	)
	p, err := evalgate.ParsePolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	d := evalgate.Compare(now, base)
	return &Evaluation{Results: now, Delta: d, Policy: p.String(), Blocks: p.Evaluate(now, d), FromPullRequest: true,
		Baseline: &evalgate.Baseline{Commit: "f00dfeedcafe0123456789abcdef0123456789ab", RunID: 17, Results: *base}}
}

func TestRenderEvaluationGolden(t *testing.T) {
	cases := map[string]func(t *testing.T) (string, string){
		// The plan comment: the evaluation section above the prompt diff.
		"eval_plan": func(t *testing.T) (string, string) {
			p := diffPlan(diffOf(t, examplePack(t), editedPack(t)), updated("escalation"), same("greeting"), same("refund"))
			p.Evaluation = evalFixture(t, "no-regressions, max-cost-growth: 20%")
			return RenderPlan(p, CommentBudget), "#### Prompts"
		},
		"eval_plan_pass": func(t *testing.T) (string, string) {
			p := basePlan()
			p.Changes = []deploy.ResourceChange{same("greeting")}
			e := evalFixture(t, "none")
			e.Baseline, e.Delta, e.BaseNote = nil, nil, "nothing is deployed to production yet"
			p.Evaluation = e
			return RenderPlan(p, CommentBudget), ""
		},
		"eval_apply_blocked": func(t *testing.T) (string, string) {
			a := &Apply{Plan: *basePlan(), Status: StatusFailed, MergeSHA: "decade00decade00decade00decade00decade00"}
			a.Changes = []deploy.ResourceChange{updated("escalation")}
			a.FailureReason, a.Hint = "evaluation-blocked", "Fix the failing cases."
			a.Error = "the evaluation results of this run block the deploy of production"
			e := evalFixture(t, "no-regressions")
			e.FromPullRequest, e.Gate = false, GateBlocked
			a.Evaluation = e
			return RenderApply(a, CommentBudget), "refused this deploy"
		},
		"eval_apply_overridden": func(t *testing.T) (string, string) {
			a := &Apply{Plan: *basePlan(), Status: StatusApplied, MergeSHA: "decade00decade00decade00decade00decade00",
				Results: []deploy.ResourceResult{{Type: "prompt", Name: "escalation", Status: "updated"}}}
			e := evalFixture(t, "no-regressions")
			var lines []string
			for _, b := range e.Blocks {
				lines = append(lines, b.String())
			}
			e.FromPullRequest, e.Gate = false, GateOverridden
			e.Override = &evalgate.Override{By: "monalisa", Reason: "hotfix for the outage @everyone #5", Blocked: lines}
			a.Evaluation = e
			return RenderApply(a, CommentBudget), "overridden"
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			out, want := build(t)
			golden(t, name+".md", out)
			checkGFM(t, out)
			if want != "" && !strings.Contains(out, want) {
				t.Errorf("%s lacks %q", name, want)
			}
			for _, bad := range []string{"<img", "@octocat", "@admins", "#12", "<b>", "](https://evil", "\n```\nbreak"} {
				if strings.Contains(out, bad) {
					t.Errorf("hostile text %q reached the report", bad)
				}
			}
			if strings.Count(out, "<!-- arena-deploy-action") != 1 {
				t.Errorf("the marker appears %d times, want once", strings.Count(out, "<!-- arena-deploy-action"))
			}
		})
	}
}

// editedPack is the example pack with the escalation prompt edited.
func editedPack(t *testing.T) map[string]any {
	m := examplePack(t)
	promptOf(m, "escalation")["system_template"] = "Summarise the conversation for a human agent in three bullet points."
	return m
}

// TestEvaluationOrder: the section sits above the prompt diff, newly
// failing cases lead the table, then failing, fixed, new, skipped, not
// run; passed ones fold.
func TestEvaluationOrder(t *testing.T) {
	p := diffPlan(diffOf(t, examplePack(t), editedPack(t)), updated("escalation"))
	p.Evaluation = evalFixture(t, "no-regressions")
	out := RenderPlan(p, CommentBudget)
	order := []string{"#### Evaluations", "newly failing**", "❌ **failing**", "🟢 fixed", "⏭️ skipped", "➖ not run now", "passed</summary>", "#### Prompts"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		if i < 0 || i < last {
			t.Fatalf("%q at %d, after %d:\n%s", s, i, last, out)
		}
		last = i
	}
}

// TestEvaluationBudget: thousands of cases, worst-case text, stay inside
// the comment's and the summary's budgets, and say what was cut.
func TestEvaluationBudget(t *testing.T) {
	var cs []evalresults.Case
	for i := 0; i < 5000; i++ {
		st := []string{"passed", "failed", "skipped"}[i%3]
		cs = append(cs, evalCase(fmt.Sprintf("scenario-%04d-%s", i, strings.Repeat("|", 80)), strings.Repeat("<", 60), "us", st, 1, map[string]int{"passed": 1}[st],
			0.01, 1000, "assertions", strings.Repeat("@", 200)))
	}
	e := &Evaluation{Results: evalSummary(cs...), Policy: "no-failures", Blocks: []evalgate.Block{{Rule: "no-failures", Message: "1667 cases fail", Cases: []string{strings.Repeat("x", 5000)}}}}
	for _, budget := range []int{CommentBudget, SummaryBudget} {
		p := bigPlan(3000)
		p.Evaluation = e
		out := RenderPlan(p, budget)
		if len(out) > budget {
			t.Errorf("budget %d: %d bytes", budget, len(out))
		}
		if !strings.Contains(out, "more cases not shown here") {
			t.Errorf("budget %d: the cut is not said", budget)
		}
		if budget == CommentBudget {
			checkGFM(t, out)
		}
	}
	a := &Apply{Plan: *bigPlan(100), Status: StatusFailed}
	a.Evaluation = e
	if out := RenderApply(a, CommentBudget); len(out) > CommentBudget {
		t.Errorf("apply: %d bytes", len(out))
	}
}

func TestNumbers(t *testing.T) {
	for in, want := range map[float64]string{0: "$0.0000", 0.0421: "$0.0421", 0.000012: "$0.000012", 0.000137: "$0.000137", 0.0042: "$0.004200", 12.5: "$12.5000"} {
		if got := Cost(in); got != want {
			t.Errorf("Cost(%v) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := Tokens(in); got != want {
			t.Errorf("Tokens(%d) = %s, want %s", in, got, want)
		}
	}
	_ = time.Second
}

// loadResults reads results promptarena run wrote
// (internal/evalresults/testdata/promptarena/<name>).
func loadResults(t *testing.T, name string) *evalresults.Summary {
	t.Helper()
	dir := filepath.Join("..", "evalresults", "testdata", "promptarena", name)
	root, err := workspace.Open(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	abs, _ := filepath.Abs(dir)
	res, err := evalresults.Load(root, abs, root.Dir())
	if err != nil {
		t.Fatal(err)
	}
	return &res.Summary
}

// TestRenderPromptArenaResultsGolden: the plan comment's section for
// results promptarena run wrote (two providers, two regions, trials,
// skipped runs, errors, a hostile scenario id and messages) against the
// baseline they regress from.
func TestRenderPromptArenaResultsGolden(t *testing.T) {
	now, base := loadResults(t, "pr"), loadResults(t, "base")
	p, err := evalgate.ParsePolicy("no-regressions, max-cost-growth: 20%")
	if err != nil {
		t.Fatal(err)
	}
	d := evalgate.Compare(now, base)
	plan := diffPlan(diffOf(t, examplePack(t), editedPack(t)), updated("escalation"), same("greeting"), same("refund"))
	plan.Evaluation = &Evaluation{Results: now, Delta: d, Policy: p.String(), Blocks: p.Evaluate(now, d), FromPullRequest: true,
		Baseline: &evalgate.Baseline{Commit: "f00dfeedcafe0123456789abcdef0123456789ab", RunID: 17, Results: *base}}
	for _, budget := range []int{CommentBudget, SummaryBudget} {
		out := RenderPlan(plan, budget)
		name := "eval_promptarena.md"
		if budget == SummaryBudget {
			name = "eval_promptarena_summary.md"
		}
		golden(t, name, out)
		checkGFM(t, out)
		for _, bad := range []string{"<img", "@octocat", "#12", "<script", "](https_evil"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: hostile text %q reached the report", name, bad)
			}
		}
	}
}

// TestEvaluationCostFromNothing: against a baseline that cost nothing (a
// local or unpriced model) the comparison says what the runs cost now,
// and max-cost-growth blocks (growth from nothing has no percentage: it
// was let through without a word).
func TestEvaluationCostFromNothing(t *testing.T) {
	base := evalSummary(evalCase("greet", "local", "us", "passed", 1, 1, 0, 1200, "", ""))
	now := evalSummary(evalCase("greet", "openai-4o", "us", "passed", 1, 1, 0, 1200, "", ""), evalCase("greet", "local", "us", "passed", 1, 1, 0.0125, 1200, "", ""))
	p, err := evalgate.ParsePolicy("max-cost-growth: 20%")
	if err != nil {
		t.Fatal(err)
	}
	d := evalgate.Compare(now, base)
	e := &Evaluation{Results: now, Delta: d, Policy: p.String(), Blocks: p.Evaluate(now, d), Baseline: &evalgate.Baseline{Results: *base}}
	out := e.block(CommentBudget, false)
	for _, want := range []string{"cost per run $0.0000 → $0.0125", "**max-cost-growth**: the cost per run of the cases both ran grew from nothing in the baseline to $0.012500, over any percentage: greet · local · us (+$0.0125)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the section lacks %q:\n%s", want, out)
		}
	}
}

// TestEvaluationTooManyCasesSaysWhere: a job summary with more cases than
// it holds points to where they all are: a plan's, to evaluations.json in
// its plan artifact; an apply's results are not in the plan artifact
// (that one holds the pull request's), so it names the results it read.
func TestEvaluationTooManyCasesSaysWhere(t *testing.T) {
	var cs []evalresults.Case
	for i := 0; i < 4000; i++ {
		cs = append(cs, evalCase(fmt.Sprintf("scenario-%04d-%s", i, strings.Repeat("x", 150)), "openai-mini", "us", "failed", 1, 0, 0.001, 1000, evalresults.WhyAssertions, strings.Repeat("m", 150)))
	}
	now := evalSummary(cs...)
	plan := &Evaluation{Results: now, Policy: "no-failures", FromPullRequest: true}
	if out := plan.block(SummaryBudget/4, true); !strings.Contains(out, "see `evaluations.json` in the plan artifact") {
		t.Errorf("a plan's summary:\n%s", out[len(out)-300:])
	}
	for _, gate := range []string{GateBlocked, GatePassed, GateOverridden} {
		apply := &Evaluation{Results: now, Policy: "no-failures", Gate: gate}
		out := apply.block(SummaryBudget/4, true)
		if strings.Contains(out, "plan artifact") || !strings.Contains(out, "more cases not shown here: see the results this job read (`out`)") {
			t.Errorf("%s apply's summary:\n%s", gate, out[len(out)-300:])
		}
	}
}

// TestEvaluationSourceAsWritten: the results' path is shown in a code span,
// where GitHub shows backslashes and entities as they are written: escaped
// for a table cell, test_results/junit.xml read test\_results/junit.xml,
// a path that does not exist. Shown as written, it stays inert (no link,
// mention or reference in code) and cannot end the span.
func TestEvaluationSourceAsWritten(t *testing.T) {
	for _, c := range []struct{ source, shown string }{
		{"test_results/junit.xml", "test_results/junit.xml"},
		{"out/*~[x]!/index.json", "out/*~[x]!/index.json"},
		{"a&b <c>/index.json", "a&amp;b &lt;c&gt;/index.json"},
		{"eval #1/@team/https://evil.test/out", "eval #1/@team/https://evil.test/out"},
		{"a`b\\c/out", "a'b\\c/out"},
	} {
		t.Run(c.source, func(t *testing.T) {
			now := evalSummary(evalCase("greet", "openai-mini", "us", "failed", 1, 0, 0.001, 1000, evalresults.WhyAssertions, "m"))
			now.Source = c.source
			for _, e := range []*Evaluation{{Results: now, Policy: "no-failures", FromPullRequest: true}, {Results: now, Policy: "no-failures", Gate: GateBlocked}} {
				out := e.block(200, true) // too small for the table: the summary names the results
				var html strings.Builder
				if err := gfm.Convert([]byte(out), &html); err != nil {
					t.Fatal(err)
				}
				want := "<code>" + c.shown + "</code>"
				if n := strings.Count(html.String(), want); n != 1+map[bool]int{true: 0, false: 1}[e.FromPullRequest] {
					t.Errorf("%s shown %d times in:\n%s", want, n, html.String())
				}
			}
		})
	}
}

// TestEvaluationBudgetWithHostileNames: the gate's lists of cases were cut
// to 1,200 characters before they were escaped, and escaping grows a
// character up to 14 bytes (an invisible one is shown as <U+200B>, its <
// and > then &lt; and &gt;): a pull request's scenario ids made its
// evaluation section 2 to 4 times its quarter of the comment, and the
// resource changes and the prompt diff that reviewers read were left out.
func TestEvaluationBudgetWithHostileNames(t *testing.T) {
	for _, name := range []string{strings.Repeat("\u200b", 150), strings.Repeat("<", 150), strings.Repeat("&@", 75)} {
		var cs []evalresults.Case
		var labels []string
		for i := 0; i < 20; i++ {
			c := evalCase(fmt.Sprintf("%s%02d", name, i), "openai-mini", "us", "failed", 1, 0, 0.01, 1000, "assertions", "m")
			cs = append(cs, c)
			labels = append(labels, c.Label())
		}
		var blocks []evalgate.Block
		for _, rule := range []string{"no-failures", "min-pass-rate", "no-regressions", "max-cost-growth"} {
			blocks = append(blocks, evalgate.Block{Rule: rule, Message: "fails", Cases: labels})
		}
		e := &Evaluation{Results: evalSummary(cs...), Policy: "no-failures", Blocks: blocks}
		p := bigPlan(50)
		p.Evaluation = e
		out := RenderPlan(p, CommentBudget)
		if len(out) > CommentBudget {
			t.Errorf("%q: the comment is %d bytes, over %d", name[:3], len(out), CommentBudget)
		}
		if section := e.block(CommentBudget/4, false); len(section) > CommentBudget/4 {
			t.Errorf("%q: the evaluation section is %d bytes, over its %d", name[:3], len(section), CommentBudget/4)
		}
		if !strings.Contains(out, "prompt-00049") {
			t.Errorf("%q: the changes table was left out", name[:3])
		}
		checkGFM(t, out)
	}
}

// TestCutBytes: escaped text cut to a size never ends inside what Escape
// wrote for one character.
func TestCutBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcdef", 5, "ab…"},
		{"ab&lt;cd", 7, "ab…"},
		{"ab&lt;cdef", 9, "ab&lt;…"},
		{"ab<br>cd", 7, "ab…"},
		{`ab\*cdef`, 6, "ab…"},
		{`ab\\*cdef`, 7, `ab\\…`},
		{"aébcd", 5, "a…"},
	} {
		if got := cutBytes(c.in, c.max); got != c.want {
			t.Errorf("cutBytes(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}
