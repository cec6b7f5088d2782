package comment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff/packdifftest"
)

// gfm renders Markdown as GitHub does (GFM: tables, strikethrough,
// autolinks, task lists), raw HTML allowed as GitHub allows <details>.
var gfm = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))

var fenceLine = regexp.MustCompile("^ {0,3}(`{3,})(.*)$")

// checkGFM renders md and checks what a reader relies on: every table row
// keeps the header's columns (GFM splits cells on unescaped pipes), every
// <details> closes and nests, every code fence closes where we closed it,
// and, outside code, nothing mentions, references, or injects HTML. It
// returns the number of ```diff blocks.
func checkGFM(t *testing.T, md string) int {
	t.Helper()
	diffs, problems := gfmProblems(md)
	for _, p := range problems {
		t.Error(p)
	}
	return diffs
}

func gfmProblems(md string) (int, []string) {
	var problems []string
	fail := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	src := []byte(md)
	doc := gfm.Parser().Parse(text.NewReader(src))
	var out bytes.Buffer
	if err := gfm.Renderer().Render(&out, src, doc); err != nil {
		return 0, []string{err.Error()}
	}
	page := out.String()

	// Tables: outside code fences, each run of "|" lines has one column count.
	fence, cols, opened := "", -1, 0
	for i, l := range strings.Split(md, "\n") {
		if m := fenceLine.FindStringSubmatch(l); m != nil {
			switch {
			case fence == "":
				fence, opened = m[1], opened+1
				continue
			case len(m[1]) >= len(fence) && strings.TrimSpace(m[2]) == "":
				fence = ""
				continue
			}
		}
		if fence != "" {
			continue
		}
		if !strings.HasPrefix(l, "|") {
			cols = -1
			continue
		}
		n := len(regexp.MustCompile(`(^|[^\\])(\\\\)*\|`).FindAllString(l, -1))
		if cols == -1 {
			cols = n
		} else if n != cols {
			fail("line %d has %d cells, its table %d: %q", i+1, n-1, cols-1, l)
		}
	}
	if fence != "" {
		fail("a code fence never closes")
	}

	// Fences: goldmark finds exactly the blocks we opened.
	blocks, diffs := 0, 0
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if fb, ok := n.(*ast.FencedCodeBlock); ok && entering {
			blocks++
			if string(fb.Language(src)) == "diff" {
				diffs++
			}
		}
		return ast.WalkContinue, nil
	})
	if blocks != opened {
		fail("goldmark sees %d code blocks, the source opens %d", blocks, opened)
	}

	// <details>: balanced in the rendered page, as many as the source opens.
	depth := 0
	for _, m := range regexp.MustCompile(`<(/?)details\b`).FindAllStringSubmatch(page, -1) {
		if m[1] == "" {
			depth++
		} else if depth--; depth < 0 {
			fail("a </details> closes nothing")
			depth = 0
		}
	}
	if depth != 0 {
		fail("%d <details> left open", depth)
	}
	if want := len(regexp.MustCompile(`(?m)^<details`).FindAllString(md, -1)); strings.Count(page, "</details>") != want {
		fail("page closes %d <details>, the source opens %d", strings.Count(page, "</details>"), want)
	}

	// Outside code: no mentions, issue references, or injected HTML.
	prose := regexp.MustCompile(`(?s)<pre>.*?</pre>|<code>.*?</code>`).ReplaceAllString(page, "")
	for _, bad := range []*regexp.Regexp{regexp.MustCompile(`@[A-Za-z]`), regexp.MustCompile(`#\d`), regexp.MustCompile(`(?i)<(script|img|iframe)`),
		// Links only where the report itself points: the repository, the
		// actor, the adapter's validated links.
		regexp.MustCompile(`<a href="(?:[^h]|h[^t]|https?://(?:[^gc]|g[^i]|c[^o]))[^"]*"`)} {
		if m := bad.FindString(prose); m != "" {
			fail("rendered prose holds %q", m)
		}
	}
	return diffs, problems
}

func examplePack(t testing.TB) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "example", "support-bot.pack.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func promptOf(m map[string]any, name string) map[string]any {
	return m["prompts"].(map[string]any)[name].(map[string]any)
}

func diffOf(t testing.TB, old, cur map[string]any) *packdiff.Diff {
	t.Helper()
	a, _ := json.Marshal(old)
	b, _ := json.Marshal(cur)
	d, err := packdiff.Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func diffPlan(d *packdiff.Diff, changes ...deploy.ResourceChange) *Plan {
	p := basePlan()
	p.Changes = changes
	p.PackDiff = &PackDiff{Diff: d, Base: BaseCommit, BaseSHA: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807", BaseURL: "https://github.com/octo-org/app/commit/9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807"}
	p.RepoURL, p.ServerURL = "https://github.com/octo-org/app", "https://github.com"
	p.Actor, p.At, p.Duration = "octocat", time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC), 3200*time.Millisecond
	return p
}

func updated(name string) deploy.ResourceChange {
	return deploy.ResourceChange{Type: "prompt", Name: name, Action: deploy.ActionUpdate, Detail: "content changes"}
}

func same(name string) deploy.ResourceChange {
	return deploy.ResourceChange{Type: "prompt", Name: name, Action: deploy.ActionNoChange, Detail: "up to date"}
}

func TestRenderPackDiffGolden(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(m map[string]any)
		changes []deploy.ResourceChange
		diffs   int
	}{
		{
			name: "diff_edit",
			edit: func(m map[string]any) {
				promptOf(m, "escalation")["system_template"] = "Summarise the conversation for a human agent in three bullet points."
			},
			changes: []deploy.ResourceChange{updated("escalation"), same("greeting"), same("refund")},
			diffs:   1,
		},
		{
			name: "diff_rename",
			edit: func(m map[string]any) {
				ps := m["prompts"].(map[string]any)
				p := ps["escalation"].(map[string]any)
				p["id"], p["name"] = "handoff", "Hand-off"
				ps["handoff"] = p
				delete(ps, "escalation")
			},
			changes: []deploy.ResourceChange{
				{Type: "prompt", Name: "escalation", Action: deploy.ActionDelete, Detail: "remove"},
				{Type: "prompt", Name: "handoff", Action: deploy.ActionCreate, Detail: "write"},
				same("greeting"), same("refund"),
			},
		},
		{
			name: "diff_fields",
			edit: func(m map[string]any) {
				p := promptOf(m, "refund")
				p["variables"] = []any{
					map[string]any{"name": "max_refund", "type": "string", "required": true},
					map[string]any{"name": "currency", "type": "string", "required": false, "default": "EUR"},
				}
				p["parameters"] = map[string]any{"temperature": 0.2, "max_tokens": 800}
				p["model_overrides"] = map[string]any{"gpt-4o": map[string]any{"system_template_suffix": "Be brief."}}
				p["system_template"] = "Help the customer with a refund.\nLook the order up with lookup_order first.\nNever promise a refund above {{max_refund}} {{currency}}."
			},
			changes: []deploy.ResourceChange{updated("refund"), same("greeting"), same("escalation")},
			diffs:   1,
		},
		{
			name: "diff_fragment",
			edit: func(m map[string]any) {
				m["fragments"] = map[string]any{"tone": "Be kind.\nBe brief."}
				promptOf(m, "greeting")["system_template"] = "{{fragments.tone}}\nGreet the customer of {{company}}."
			},
			changes: []deploy.ResourceChange{updated("greeting"), same("refund"), same("escalation")},
			diffs:   2,
		},
		{
			name: "diff_hostile",
			edit: func(m map[string]any) {
				p := promptOf(m, "greeting")
				p["system_template"] = "Hello {{company}}.\n```\n</details>\n</code></pre><script>alert(1)</script>\n <img src=x onerror=alert(1)>\n@octocat fixes #1 and org/repo#2, see https://evil.test\n````````\n\u202egnp.exe\r```\n"
				p["variables"] = []any{map[string]any{"name": "company", "type": "string", "required": true, "default": "</details>@admins #3 `x` | y"}}
				ps := m["prompts"].(map[string]any)
				ps["</details><b>@octocat</b>"] = map[string]any{"id": "x", "system_template": "``` #1"}
			},
			changes: []deploy.ResourceChange{updated("greeting"), {Type: "prompt", Name: "</details><b>@octocat</b>", Action: deploy.ActionCreate}, same("refund"), same("escalation")},
			diffs:   2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := examplePack(t), examplePack(t)
			tc.edit(cur)
			p := diffPlan(diffOf(t, old, cur), tc.changes...)
			out := RenderPlan(p, CommentBudget)
			golden(t, tc.name+".md", out)
			if got := checkGFM(t, out); got != tc.diffs {
				t.Errorf("%d diff blocks, want %d", got, tc.diffs)
			}
			checkGFM(t, RenderPlan(p, SummaryBudget))
		})
	}
}

// TestBigPackDiffFits: 3,000 prompts, 200 edited. The comment stays under
// GitHub's limit, shows the table of changes, folds the unchanged rows to a
// count, shows as many diffs as fit and says where the rest are; the job
// summary lists everything.
func TestBigPackDiffFits(t *testing.T) {
	old, cur := packdifftest.Packs(3000, 200, 1200)
	d, err := packdiff.Compare(old, cur)
	if err != nil {
		t.Fatal(err)
	}
	var changes []deploy.ResourceChange
	edited := map[string]bool{}
	for _, p := range d.Prompts {
		edited[p.Name] = true
		changes = append(changes, updated(p.Name))
	}
	for i := range 3000 {
		if n := fmt.Sprintf("prompt-%05d", i); !edited[n] {
			changes = append(changes, same(n))
		}
	}
	p := diffPlan(d, changes...)
	out := RenderPlan(p, CommentBudget)
	golden(t, "diff_big.md", out)
	if len(out) > CommentBudget || utf8.RuneCountInString(out) > CommentBudget {
		t.Fatalf("comment of %d bytes", len(out))
	}
	diffs := checkGFM(t, out)
	if diffs < 20 || diffs >= 180 {
		t.Errorf("%d diffs shown: want as many as fit, and a cut", diffs)
	}
	for _, want := range []string{"2800 resources unchanged: their names are in the job summary", "more sections not shown here", "| 🟡 | **update** | prompt | prompt-00195 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	sum := RenderPlan(p, SummaryBudget)
	if len(sum) > SummaryBudget {
		t.Fatalf("summary of %d bytes", len(sum))
	}
	// 180 template diffs: every tenth edit changes fields only.
	if got := checkGFM(t, sum); got != 180 || strings.Count(sum, "<details><summary><code>prompt-") != 200 || !strings.Contains(sum, "prompt-02999") {
		t.Errorf("summary: %d diffs, unchanged names listed: %v", got, strings.Contains(sum, "prompt-02999"))
	}
}

// TestPackDiffCuts: a long template diff is cut in the comment with the
// count of lines left, and shown whole in the summary.
func TestPackDiffCuts(t *testing.T) {
	old, cur := examplePack(t), examplePack(t)
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "Step %d: do the thing.\n", i)
	}
	promptOf(cur, "escalation")["system_template"] = b.String()
	p := diffPlan(diffOf(t, old, cur), updated("escalation"))
	out := RenderPlan(p, CommentBudget)
	if !strings.Contains(out, "_… 62 more lines in the job summary._") {
		t.Errorf("no cut line in:\n%s", out)
	}
	if sum := RenderPlan(p, SummaryBudget); !strings.Contains(sum, "+Step 99: do the thing.") || strings.Contains(sum, "more lines") {
		t.Error("summary does not hold the whole diff")
	}
}

func TestApplyKeepsReviewedDiffFolded(t *testing.T) {
	old, cur := examplePack(t), examplePack(t)
	promptOf(cur, "escalation")["system_template"] = "Summarise in three bullets.\n```\n</details>"
	d := diffOf(t, old, cur)
	a := &Apply{Plan: *diffPlan(nil, updated("escalation")), Status: StatusApplied, MergeSHA: "f00dfeedcafe0123456789abcdef0123456789ab",
		Results:      []deploy.ResourceResult{{Type: "prompt", Name: "escalation", Action: deploy.ActionUpdate, Status: "updated", Links: []deploy.Link{{Label: "Console", URL: "https://console.example.com/p/escalation", Rel: "console"}}}},
		ReviewedDiff: d.Text("base 9e8d7c6", "pull request")}
	a.PackDiff = nil
	out := RenderApply(a, CommentBudget)
	golden(t, "apply_diff.md", out)
	checkGFM(t, out)
	if !strings.Contains(out, "<details><summary>Reviewed pack diff</summary>") || strings.Contains(out, "<details open><summary>Reviewed") {
		t.Errorf("reviewed diff not folded:\n%s", out)
	}
	if !strings.Contains(out, "[`f00dfee`](https://github.com/octo-org/app/commit/f00dfeedcafe0123456789abcdef0123456789ab)") {
		t.Error("merge commit not linked")
	}
	if !strings.Contains(out, "[Console](https://console.example.com/p/escalation)") {
		t.Error("adapter link not shown as a link")
	}
}

// TestGFMCheckerCatchesBreakage: the checker itself fails on what it must
// catch.
func TestGFMCheckerCatchesBreakage(t *testing.T) {
	for name, md := range map[string]string{
		"row with an extra cell": "| a | b |\n|---|---|\n| 1 | 2 | 3 |\n",
		"unclosed details":       "<details><summary>x</summary>\n\ny\n",
		"unclosed fence":         "```diff\n+x\n",
		"mention":                "hello @octocat\n",
	} {
		if _, problems := gfmProblems(md); len(problems) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

// BenchmarkRenderPlanDiff3000 renders the comment and the summary of a
// 3,000-prompt plan with 200 edited prompts.
func BenchmarkRenderPlanDiff3000(b *testing.B) {
	old, cur := packdifftest.Packs(3000, 200, 1200)
	d, err := packdiff.Compare(old, cur)
	if err != nil {
		b.Fatal(err)
	}
	var changes []deploy.ResourceChange
	for _, p := range d.Prompts {
		changes = append(changes, updated(p.Name))
	}
	for range 2800 {
		changes = append(changes, same("prompt"))
	}
	p := diffPlan(d, changes...)
	b.ResetTimer()
	for b.Loop() {
		_ = RenderPlan(p, CommentBudget)
		_ = RenderPlan(p, SummaryBudget)
	}
}

// TestTableLinks: in a table cell, http(s) links are [label](url); others
// show their label and the end of the address, never clickable, never
// long.
func TestTableLinks(t *testing.T) {
	cases := []struct {
		link deploy.Link
		want string
	}{
		{deploy.Link{Label: "Console", URL: "https://console.example.com/p/escalation"}, "[Console](https://console.example.com/p/escalation)"},
		{deploy.Link{Label: "file", URL: "file:///tmp/arena-deploy-demo-3769621978/repo/.deployed/production/prompts/escalation.json"},
			"file: …/production/prompts/escalation.json"},
		{deploy.Link{Label: "run", URL: "javascript:alert(1)"}, "run: javascript:alert(1)"},
		{deploy.Link{URL: "file:///x"}, "file:" + zwj + "///x"},
	}
	for _, tc := range cases {
		if got := links([]deploy.Link{tc.link}); got != tc.want {
			t.Errorf("%+v:\n got %q\nwant %q", tc.link, got, tc.want)
		}
	}
}

func TestProvenanceLine(t *testing.T) {
	for d, want := range map[time.Duration]string{850 * time.Millisecond: "850 ms", 3200 * time.Millisecond: "3.2 s", 125 * time.Second: "2 min 5 s"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	p := diffPlan(nil)
	p.Actor = "github-actions[bot]"
	if got := provenance(p); got != "<sub>Planned by github-actions\\[bot\\] on 2026-11-27 10:04 UTC in 3.2 s</sub>" {
		t.Errorf("bot actor: %q", got)
	}
	a := &Apply{Plan: *diffPlan(nil), Status: StatusApplying}
	if out := RenderApply(a, CommentBudget); !strings.Contains(out, "<sub>Started by [octocat](https://github.com/octocat) on 2026-11-27 10:04 UTC</sub>") {
		t.Errorf("applying:\n%s", out)
	}
}

// TestBudgetHoldsWithDiff: the worst of both, a 20,000-row plan and a diff
// of 3,000 prompts whose text is all backticks and escapes, stays within
// both budgets, and keeps the table's changes first.
func TestBudgetHoldsWithDiff(t *testing.T) {
	old, cur := map[string]any{"prompts": map[string]any{}}, map[string]any{"prompts": map[string]any{}}
	for i := range 3000 {
		name := fmt.Sprintf("p%04d<@#1>", i)
		old["prompts"].(map[string]any)[name] = map[string]any{"system_template": strings.Repeat("`|<@#1\n", 30)}
		cur["prompts"].(map[string]any)[name] = map[string]any{"system_template": strings.Repeat("``|<@#2\n", 30), "variables": []any{map[string]any{"name": "v", "default": strings.Repeat("<", 400)}}}
	}
	p := bigPlan(20000)
	p.PackDiff = &PackDiff{Diff: diffOf(t, old, cur), Base: BaseDeployed}
	for _, budget := range []int{CommentBudget, SummaryBudget} {
		out := RenderPlan(p, budget)
		if len(out) > budget {
			t.Errorf("budget %d: %d bytes", budget, len(out))
		}
		if !strings.Contains(out, "| 🔴 | **delete** | prompt | prompt-00003 |") || !strings.Contains(out, "#### Prompts: 3000 changed") {
			t.Errorf("budget %d: table or diff missing", budget)
		}
		checkGFM(t, out)
	}
}
