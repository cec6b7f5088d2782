package comment

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// TestEscapeHostile: one row per way untrusted text could steer Markdown.
// mustNot are substrings that would act (link, mention, reference, hide);
// must is what a reader sees instead.
func TestEscapeHostile(t *testing.T) {
	cases := []struct {
		name, in string
		mustNot  []string
		must     []string
	}{
		{"issue reference", "see #123", []string{"#123"}, []string{"#" + zwj + "123"}},
		{"cross-repo reference", "octo/app#7", []string{"#7"}, []string{"#" + zwj + "7"}},
		{"GH- reference", "fixes GH-9 and gh-10", []string{"GH-9", "gh-10"}, []string{"GH" + zwj + "-9", "gh" + zwj + "-10"}},
		{"mention", "@octocat", []string{"@octocat"}, []string{"@" + zwsp + "octocat"}},
		{"bare URL autolink", "go to https://evil.test now", []string{"https://"}, []string{"https:" + zwj + "//evil.test"}},
		{"bidi override", "\u202egnp.exe", []string{"\u202e"}, []string{"&lt;U+202E&gt;gnp.exe"}},
		{"bidi isolate", "a\u2066b\u2069", []string{"\u2066", "\u2069"}, []string{"&lt;U+2066&gt;", "&lt;U+2069&gt;"}},
		{"zero-width space", "ad\u200bmin", []string{"ad\u200bmin"}, []string{"ad&lt;U+200B&gt;min"}},
		{"tag character", "x\U000E0041", []string{"\U000E0041"}, []string{"&lt;U+E0041&gt;"}},
		{"escape character", "\x1b[31mred", []string{"\x1b"}, []string{"&lt;U+001B&gt;"}},
		{"line separator", "a\u2028b", []string{"\u2028"}, []string{"&lt;U+2028&gt;"}},
		{"invalid UTF-8", "a\xffb", []string{"\xff"}, []string{"&lt;U+FFFD&gt;"}},
		{"table row", "a|b\n| x | y |", []string{"a|b", "\n"}, []string{`a\|b<br>\| x`}},
		{"html", "<img src=x onerror=alert(1)>", []string{"<img"}, []string{"&lt;img"}},
		{"link", "[click](https://evil.test)", []string{"[click]("}, []string{`\[click\]`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Escape(tc.in)
			for _, bad := range tc.mustNot {
				if strings.Contains(got, bad) {
					t.Errorf("Escape(%q) = %q still holds %q", tc.in, got, bad)
				}
			}
			for _, want := range tc.must {
				if !strings.Contains(got, want) {
					t.Errorf("Escape(%q) = %q, want it to hold %q", tc.in, got, want)
				}
			}
		})
	}
}

func TestLink(t *testing.T) {
	cases := []struct{ name, label, url, want string }{
		{"plain", "console", "https://example.test/a?b=1", "[console](https://example.test/a?b=1)"},
		{"no label", "", "https://example.test/x", "[example.test](https://example.test/x)"},
		{"closing paren", "x", "https://example.test/a)b", "[x](https://example.test/a\\)b)"},
		{"underscores", "x", "https://console.example.com/agent_runtime/support-agent", "[x](https://console.example.com/agent_runtime/support-agent)"},
		{"pipe", "x", "https://example.test/a|b", "[x](https://example.test/a%7Cb)"},
		{"label steering", "[evil](https://evil.test) #1", "https://example.test/", "[\\[evil\\](https:" + zwj + "//evil.test) #" + zwj + "1](https://example.test/)"},
		{"newline in URL", "x", "https://example.test/a\n| injected | row |", "x: https:" + zwj + "//example.test/a<br>\\| injected \\| row \\|"},
		{"space in URL", "x", "https://example.test/a b", "x: https:" + zwj + "//example.test/a b"},
		{"javascript", "x", "javascript:alert(1)", "x: javascript:alert(1)"},
		{"file", "state", "file:///tmp/x", "state: file:" + zwj + "///tmp/x"},
		{"user info", "x", "https://github.com@evil.test/", "x: https:" + zwj + "//github.com@" + zwsp + "evil.test/"},
		{"bidi in URL", "x", "https://example.test/\u202eabc", "x: https:" + zwj + "//example.test/&lt;U+202E&gt;abc"},
		{"no host", "x", "https:///path", "x: https:" + zwj + "///path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Link(tc.label, tc.url); got != tc.want {
				t.Errorf("Link(%q, %q)\n got %q\nwant %q", tc.label, tc.url, got, tc.want)
			}
		})
	}
}

// TestLinksCannotInjectRows: a URL with a newline and pipes stays in its
// cell of the apply and status tables.
func TestLinksCannotInjectRows(t *testing.T) {
	bad := []deploy.Link{{Label: "console", URL: "https://x.test/\n| 🟢 | **created** | fake | row | ok | |"}}
	a := &Apply{Plan: *basePlan(), Status: StatusApplied, Results: []deploy.ResourceResult{{Type: "prompt", Name: "a", Status: "created", Links: bad}}}
	st := &Status{Kind: "status", Env: "production", Response: &deploy.StatusResponse{Status: "deployed", Resources: []deploy.ResourceStatus{{Type: "prompt", Name: "a", Status: "healthy", Links: bad}}}}
	for name, out := range map[string]string{"apply": RenderApply(a, CommentBudget), "status": RenderStatus(st, CommentBudget)} {
		if strings.Count(out, "\n| 🟢") != 1 {
			t.Errorf("%s: a row was injected:\n%s", name, out)
		}
	}
}

func TestFenceShowsHidden(t *testing.T) {
	got := Fence("error in \u202egnp.exe\n```\n@octocat")
	if strings.Contains(got, "\u202e") || !strings.Contains(got, "<U+202E>") || !strings.HasPrefix(got, "````text\n") {
		t.Errorf("%q", got)
	}
}

// TestLinksKeepTheAdaptersURL: a link is shown as the adapter gave it
// (promptarena: clients "MUST NOT synthesize links"): rendered as GitHub
// renders Markdown, in a table cell and on the links line, the href is the
// adapter's URL byte for byte. Characters a URL may not hold unencoded
// (RFC 3986: | [ ] < > " \ ` and spaces) are percent-encoded, which is
// what GitHub's renderer does with them anyway.
func TestLinksKeepTheAdaptersURL(t *testing.T) {
	exact := []string{
		"https://console.example.com/agent_runtime/support-agent",
		"https://example.test/~user/*star*/it's",
		"https://example.test/a_(b)_c",
		"https://example.test/unbalanced)paren",
		"https://example.test/unbalanced(paren",
		"https://example.test/path?q=a_b&x=1&amp;y=2&lt;#frag_1",
		"https://example.test/%5Falready%20encoded",
		"https://example.test/!$,;=+:@-._~",
	}
	encoded := map[string]string{
		"https://example.test/a|b[c]<d>\"e\"":          "https://example.test/a%7Cb%5Bc%5D%3Cd%3E%22e%22",
		"https://example.test/back\\slash?x=`tick`{^}": "https://example.test/back%5Cslash?x=%60tick%60%7B%5E%7D",
		"https://example.test/ünï/日本":                  "https://example.test/%C3%BCn%C3%AF/%E6%97%A5%E6%9C%AC",
	}
	for _, u := range exact {
		encoded[u] = u
	}
	hrefRe := regexp.MustCompile(`<a href="([^"]*)"`)
	for in, want := range encoded {
		ls := []deploy.Link{{Label: "Console", URL: in}, {Label: "Logs", URL: "https://logs.example.test/x_y"}}
		for where, md := range map[string]string{
			"cell": "| a | b |\n|---|---|\n| x | " + links(ls) + " |\n",
			"line": DeploymentLinks(ls) + "\n",
		} {
			var out bytes.Buffer
			if err := gfm.Convert([]byte(md), &out); err != nil {
				t.Fatal(err)
			}
			hrefs := hrefRe.FindAllStringSubmatch(out.String(), -1)
			if len(hrefs) != 2 {
				t.Errorf("%s %q: %d links in %s", where, in, len(hrefs), out.String())
				continue
			}
			if html.UnescapeString(hrefs[0][1]) != want || html.UnescapeString(hrefs[1][1]) != "https://logs.example.test/x_y" {
				t.Errorf("%s: the adapter's %q shows as %q (%q), want %q\n%s", where, in, html.UnescapeString(hrefs[0][1]), md, want, out.String())
			}
		}
	}
}

// TestResultCountsCountsEveryStatus: no status an adapter reports goes
// uncounted, and none can steer the Markdown.
func TestResultCountsCountsEveryStatus(t *testing.T) {
	rs := func(statuses ...string) []deploy.ResourceResult {
		var out []deploy.ResourceResult
		for _, s := range statuses {
			out = append(out, deploy.ResourceResult{Type: "t", Name: "n", Status: s})
		}
		return out
	}
	for _, tc := range []struct {
		in   []deploy.ResourceResult
		want string
	}{
		{nil, "nothing needed changing"},
		{rs("planned", "planned"), "2 planned"},
		{rs("unchanged", "created", "planned", "failed"), "1 created, 1 failed, 1 planned, 1 unchanged"},
		{rs("", "**x**"), "1 without a status, 1 \\*\\*x\\*\\*"},
	} {
		if got := ResultCounts(tc.in); got != tc.want {
			t.Errorf("ResultCounts(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
