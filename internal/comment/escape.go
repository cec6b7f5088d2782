package comment

import (
	"strings"
	"unicode/utf8"
)

// cellReplacer neutralises everything in adapter text that Markdown or HTML
// would act on: table pipes, line breaks, tags and entities, code spans,
// emphasis, links and images, and @mentions (a zero-width space after @).
var cellReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "&#96;",
	"|", `\|`, "\\", `\\`, "*", `\*`, "_", `\_`, "~", `\~`,
	"[", `\[`, "]", `\]`, "!", `\!`, "#", `\#`,
	"@", "@\u200b",
	"\r\n", "<br>", "\n", "<br>", "\r", "<br>",
)

// Escape makes untrusted text safe inside a Markdown table cell or line.
func Escape(s string) string { return cellReplacer.Replace(s) }

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

// Fence wraps text in a code fence longer than any backtick run inside it,
// so the text cannot close the block, and keeps @mentions inert.
func Fence(text string) string {
	longest, run := 0, 0
	for _, c := range text {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", max(3, longest+1))
	return f + "text\n" + strings.TrimRight(text, "\n") + "\n" + f
}
