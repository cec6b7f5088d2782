package reporttest

import (
	"slices"
	"strings"
	"testing"
)

func TestView(t *testing.T) {
	cases := []struct {
		name string
		log  string
		want []string
	}{
		{name: "plain lines", log: "one\ntwo\n", want: []string{"one", "two"}},
		{name: "empty group folds", log: "::group::Plan production\n::endgroup::\nafter\n", want: []string{"▸ Plan production", "after"}},
		{name: "group with lines opens", log: "::group::Apply production\ncreated a\ncreated b\n::endgroup::\nafter\n",
			want: []string{"▾ Apply production", "  created a", "  created b", "after"}},
		{name: "unclosed empty group", log: "::group::Plan\n", want: []string{"▸ Plan"}},
		{name: "a group closes the one before", log: "::group::A\nx\n::group::B\n::endgroup::\n", want: []string{"▾ A", "  x", "▸ B"}},
		{name: "annotations", log: "::warning::disk 90%25 full\n::error file=a.yaml,line=3::bad%0Asecond line\n::notice title=x::hi\n",
			want: []string{"Warning: disk 90% full", "Error: bad", "second line", "Notice: hi"}},
		{name: "masks hide values from the next line on", log: "token s3cret\n::add-mask::s3cret\ntoken s3cret\n",
			want: []string{"token s3cret", "token ***"}},
		{name: "hidden commands", log: "::debug::internal\n::set-output name=a::b\n::echo::on\nshown\n", want: []string{"shown"}},
		{name: "stop-commands fence shows its lines as they are", log: "::stop-commands::tok\n::error::from the adapter\n::tok::\n::warning::ours\n",
			want: []string{"::error::from the adapter", "Warning: ours"}},
		{name: "CRLF", log: "a\r\n::group::G\r\n::endgroup::\r\n", want: []string{"a", "▸ G"}},
		{name: "not a command", log: "::no end\n  indented\n", want: []string{"::no end", "  indented"}},
		{name: "empty", log: "", want: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := View(c.log); !slices.Equal(got, c.want) {
				t.Errorf("View(%q)\n got %q\nwant %q", c.log, got, c.want)
			}
		})
	}
}

// TestViewHasNoCommands: whatever the action writes, what a person reads
// has no command the runner executed left in it (only text the runner
// itself printed verbatim inside a fence).
func TestViewHasNoCommands(t *testing.T) {
	log := "::add-mask::x\n::group::G\nline\n::endgroup::\n::warning::w\n"
	for _, l := range View(log) {
		if strings.HasPrefix(strings.TrimSpace(l), "::") {
			t.Errorf("command left in view: %q", l)
		}
	}
}
