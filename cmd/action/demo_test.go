//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/report/reporttest"
)

// TestDemo runs the README's first command in process and checks that the
// story a newcomer reads is told: each step's log as GitHub shows it, its
// outputs, the decoded state and the refused apply.
func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	code := demo(context.Background(), nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	text := out.String()
	for _, want := range []string{
		// 1: the plan, its outputs and comment.
		"━━━ 1. Pull request #1", "  │ ▸ Plan production", "to-create=4", "has-changes=true", "+4 to create",
		// 2: the apply, folded sections of its comment, the state decoded.
		"  │ ▾ Apply production", "  │   created prompt/greeting", "applied=true", "created=4", "✅ **Applied**",
		"  ║ ▸ Reviewed plan: +4 to create", "[skip ci]", `"environment": "production"`,
		"characters of base64: the adapter's own state, decoded below>", "The adapter's state, decoded", `"prompt/escalation": {`,
		// 3: status and its job summary.
		"status=deployed", "Its job summary", "Arena status of **production**: deployed",
		// 4: the second plan with the prompt's diff.
		"~1 to update", "▾ `escalation` changed · +1 −1", "+Summarise the conversation for a human agent in three bullet points.",
		// 5: a direct push deploys nothing.
		"━━━ 5. A teammate pushes", "  │ Error: no merged pull request is associated with", "failure-reason=plan-not-found",
		// 6: the refusal.
		"━━━ 6. Pull request #2 is merged: the pack is not the one reviewed, so the apply is refused", "  │ Error: the pack at this commit (support-bot.pack.json",
		"is not the pack that was reviewed", "failure-reason=pack-mismatch", "applied=false", "❌ **Failed** at commit [`decade0`]", "(`pack-mismatch`)",
		// ... whose comment says which commit is which: the refused one, the
		// reviewed plan and the pull request's head it was made at.
		"**Pack checksum** `sha256:", "` at [`decade0`](", "**Reviewed plan** `", "`, made at the pull request's head [`0badc0d`](",
		"Production is untouched", "still asks for five bullet points",
		// Evaluations: each job's results, the baseline at the last apply.
		"#### Evaluations: ✅ 3 passed · pass rate 100% (5 of 5 runs)", "The evaluation gate passed (evaluation-policy: no-regressions)",
		"**Evaluations at the last apply** (`f00dfee`",
		// 7: the regression in the plan comment, against the baseline.
		"━━━ 7. Pull request #3", "evaluation-verdict=blocked", "**2 newly failing**", "🔴 **newly failing** | refund-limit | openai-mini | us",
		// 8: the apply refused for it.
		"━━━ 8. Pull request #3 is merged", "failure-reason=evaluation-blocked",
		"The evaluation gate refused this deploy; nothing was deployed.", "never deployed",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	for _, unwanted := range []string{"::group::", "::endgroup::", "::add-mask::", "::stop-commands::", "<!--", "<details", "</details>", "eyJ"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("demo output shows %q, which a reader on GitHub never sees", unwanted)
		}
	}
	if cmds := reporttest.Commands(text); len(cmds) > 0 {
		t.Errorf("demo output holds workflow commands: %+v", cmds)
	}
	// A run that deployed nothing counts nothing: only the applies that ran
	// (step 2) print created=.
	if n := strings.Count(text, "created="); n != 1 {
		t.Errorf("created= is printed %d times: only step 2 applied anything", n)
	}
	// What GitHub shows: no invisible joiner (a copied file:// link works),
	// no entity, no backslash escape outside code.
	for _, hidden := range []string{"\u200d", "\u200b", "&lt;", "&amp;", "\\_"} {
		if strings.Contains(text, hidden) {
			t.Errorf("demo output holds %q, which GitHub does not show", hidden)
		}
	}
	if !strings.Contains(text, "deploy directory: file://$DEMO/repo/.deployed/production") {
		t.Error("the deploy directory's link is not shown as it is")
	}
	if strings.Contains(text, os.TempDir()) {
		t.Error("demo output shows its temporary directory instead of $DEMO")
	}
	if n := strings.Count(text, "\n"); n > 440 {
		t.Errorf("demo output is %d lines: too long to read", n)
	}
	if t.Failed() {
		t.Log(text)
	}
}

func TestRenderComment(t *testing.T) {
	cases := []struct {
		name, body string
		want       []string
	}{
		{name: "marker hidden", body: "<!-- arena-deploy-action target=x -->\n### Plan\n", want: []string{"### Plan"}},
		{name: "closed details fold to their summary", body: "a\n\n<details><summary>3 unchanged</summary>\n\n| x |\n\n</details>\n\nb",
			want: []string{"a", "", "▸ 3 unchanged", "", "b"}},
		{name: "open details show their content", body: "<details open><summary><code>p</code> changed</summary>\n\n```diff\n-x\n```\n\n</details>",
			want: []string{"▾ `p` changed", "", "```diff", "-x", "```", ""}},
		{name: "nested details inside a folded one stay folded", body: "<details><summary>outer</summary>\n<details open><summary>inner</summary>\nx\n</details>\ny\n</details>\nz",
			want: []string{"▸ outer", "z"}},
		{name: "inline tags", body: "<sub>Planned by <code>me</code></sub>", want: []string{"Planned by `me`"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := renderComment(c.body); !slices.Equal(got, c.want) {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestOrderedOutputs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "output")
	// As go-githubactions writes them: heredocs, a value set twice, an empty one.
	file := "applied<<D1\nfalse\nD1\nfailure-reason<<D2\n\nD2\nnote<<D3\ntwo\nlines\nD3\nfailure-reason<<D4\npack-mismatch\nD4\n"
	if err := os.WriteFile(p, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := orderedOutputs(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []output{{"applied", "false"}, {"failure-reason", "pack-mismatch"}, {"note", "two\nlines"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if lines := wrapPairs(got, 30); !slices.Equal(lines, []string{"applied=false", "failure-reason=pack-mismatch", `note=two\nlines`}) {
		t.Errorf("wrapPairs: %q", lines)
	}
}
