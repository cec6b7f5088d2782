package comment

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Zero-width characters this package inserts to keep text inert. GitHub
// ignores a backslash before # (it still links #123), but a zero-width
// joiner between # and the number breaks the reference and shows nothing.
const (
	zwsp = "\u200b"
	zwj  = "\u200d"
)

// cellReplacer neutralises everything in untrusted text that Markdown or
// HTML would act on: table pipes, line breaks, tags and entities, code
// spans, emphasis, links and images, @mentions, issue references (#123,
// owner/repo#7) and bare URLs, which GitHub would otherwise autolink.
var cellReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "&#96;",
	"|", `\|`, "\\", `\\`, "*", `\*`, "_", `\_`, "~", `\~`,
	"[", `\[`, "]", `\]`, "!", `\!`,
	"#", "#"+zwj,
	"@", "@"+zwsp,
	"://", ":"+zwj+"//",
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
)

// ghRef is GitHub's other issue-reference form, GH-123 (any case).
var ghRef = regexp.MustCompile(`(?i)\b(gh)(-\d)`)

// breakGHRefs puts a zero-width joiner inside every GH-123. The regular
// expression runs only on text that has a "gh-" at all: it was half the
// time of rendering a 10,000-row plan.
func breakGHRefs(s string) string {
	for i := strings.IndexByte(s, '-'); i >= 0; {
		if i >= 2 && s[i-1]|0x20 == 'h' && s[i-2]|0x20 == 'g' {
			return ghRef.ReplaceAllString(s, "${1}"+zwj+"${2}")
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return s
}

// Escape makes untrusted text safe inside a Markdown table cell or line:
// it cannot format, link, mention, reference an issue, break the table or
// hide characters (bidi and other invisible controls are shown as <U+XXXX>).
func Escape(s string) string {
	return cellReplacer.Replace(breakGHRefs(Visible(s)))
}

// EscapeMax escapes s after cutting it to at most n runes.
func EscapeMax(s string, n int) string { return Escape(Truncate(s, n)) }

// Truncate cuts s to at most n runes, marking the cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Visible replaces characters a reader cannot see, or that reorder what
// they see, with a visible <U+XXXX>: bidi overrides and isolates (so
// "\u202egnp.exe" cannot pose as "exe.png"), zero-width characters, other
// format characters, control characters other than tab and line breaks,
// and invalid UTF-8 (as <U+FFFD>).
func Visible(s string) string {
	if !needsVisible(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				b.WriteString("<U+FFFD>")
				continue
			}
			b.WriteRune(r)
		case hidden(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsVisible(s string) bool {
	// Plain printable ASCII is by far the common case: settle it a byte at
	// a time before decoding runes.
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && (s[i] >= 0x20 && s[i] != 0x7f || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	if i == len(s) {
		return false
	}
	s = s[i:]
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if hidden(r) {
			return true
		}
	}
	return false
}

// hidden: control characters (C0 but tab, CR, LF; DEL; C1), format
// characters (Cf: bidi controls, zero-width joiners, soft hyphen, tags),
// and the line and paragraph separators.
func hidden(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f
	}
	switch r {
	case '\t', '\n', '\r':
		return false
	case '\u2028', '\u2029':
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// Fence wraps text in a code fence longer than any backtick run inside it,
// so the text cannot close the block; @mentions are inert in code, and
// hidden characters are made visible, as code is read too.
func Fence(text string) string {
	text = Visible(text)
	f := fenceFor(text)
	return f + "text\n" + strings.TrimRight(text, "\n") + "\n" + f
}

// fenceFor is a code fence longer than any backtick run in the texts, so
// none of them can close it.
func fenceFor(texts ...string) string {
	longest := 0
	for _, t := range texts {
		run := 0
		for _, c := range t {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// Link renders an adapter's link as [label](url) when the URL is an
// absolute http(s) URL without whitespace, control characters or user
// info; anything else is shown as escaped text, never as something
// clickable. The label is escaped. The URL is the adapter's, byte for byte
// (promptarena: clients "MUST NOT synthesize links"): only what would end
// the link or the table cell is escaped, so that the rendered href is the
// URL given (TestLinksKeepTheAdaptersURL).
func Link(label, rawURL string) string {
	label = strings.TrimSpace(label)
	if !SafeURL(rawURL) {
		if label == "" {
			return EscapeMax(rawURL, 200)
		}
		return EscapeMax(label, 40) + ": " + EscapeMax(rawURL, 200)
	}
	if label == "" {
		u, _ := url.Parse(rawURL)
		label = u.Host
	}
	return "[" + EscapeMax(label, 40) + "](" + urlReplacer.Replace(rawURL) + ")"
}

// urlReplacer keeps a URL as it is inside a Markdown link destination:
// parentheses are backslash-escaped (an unbalanced one would end the link),
// & is written &amp; (entities are decoded in a destination, backslash or
// not: "&lt;" would become "<"), and the characters RFC 3986
// does not allow in a URL, which GitHub percent-encodes in the href anyway,
// are percent-encoded here, so none can close the link, start a tag or a
// code span, or split a table cell. _ ~ * ' and every other URL character
// stay as they are: emphasis does not apply inside a destination.
var urlReplacer = strings.NewReplacer(
	"(", `\(`, ")", `\)`, "&", "&amp;",
	"<", "%3C", ">", "%3E", "|", "%7C", "[", "%5B", "]", "%5D",
	"`", "%60", `"`, "%22", `\`, "%5C",
)

// SafeURL reports whether s may be rendered as a link: http or https, a
// host, no user info, and no whitespace, control or invisible characters.
func SafeURL(s string) bool {
	if s == "" || len(s) > 2048 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || hidden(r) || r == '\t' || r == '\n' || r == '\r' {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http"
}
