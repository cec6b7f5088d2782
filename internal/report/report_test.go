package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/mask"
	"github.com/arena-deploy/arena-deploy-action/internal/report/reporttest"
)

// hostile lines, each trying a workflow command one way. The marker
// PWNED follows the line break, as reporttest.Injected expects.
var hostile = []struct{ name, text string }{
	{"error after LF", "ok\n::error title=PWNED::owned"},
	{"add-mask after LF", "ok\n::add-mask::PWNED"},
	{"stop-commands after CR", "ok\r::stop-commands::PWNED"},
	{"set-output after CRLF", "ok\r\n::set-output name=PWNED::1"},
	{"leading command", "::error::PWNED"},
	{"leading blanks", "  \t::warning::PWNED"},
	{"leading no-break space", "\u00a0::error::PWNED"},
	{"leading ideographic space", "\u3000\u2003::add-mask::PWNED"},
	{"legacy form mid-line", "see ##[set-env name=PWNED;]x"},
	{"escaped newline passed through", "ok%0A::error::PWNED"},
	{"group", "ok\n::group::PWNED"},
	{"end of a stop token", "ok\n::endtoken::\n::error::PWNED"},
}

func newActions(t *testing.T) (*Actions, *bytes.Buffer, string) {
	t.Helper()
	dir := t.TempDir()
	summary, output := filepath.Join(dir, "summary"), filepath.Join(dir, "output")
	for _, f := range []string{summary, output} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": output}
	var buf bytes.Buffer
	return NewActions(&buf, func(k string) string { return env[k] }), &buf, output
}

// TestNoCommandFromText: every way of printing hostile text, one row per
// attack and per channel of the log.
func TestNoCommandFromText(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			a, buf, _ := newActions(t)
			p := New(a, mask.NewMasker())
			p.Infof("%s", h.text)
			p.Infof("created prompt/%s", h.text)
			p.Warningf("%s", h.text)
			p.Errorf("adapter said: %s", h.text)
			p.Group("Plan " + h.text)
			p.EndGroup()
			lw := NewLineWriter(a.Log(), p.Masker())
			fmt.Fprintf(lw, "adapter log: %s\n", h.text)
			fmt.Fprint(lw, "last line without newline "+h.text)
			if err := lw.Flush(); err != nil {
				t.Fatal(err)
			}
			p.Infof("after the adapter %s", "::error::still ours")
			if bad := reporttest.Injected(buf.String(), "PWNED"); len(bad) > 0 {
				t.Errorf("commands from text: %+v\n%s", bad, buf.String())
			}
			if !strings.Contains(buf.String(), "last line without newline") {
				t.Errorf("last line lost:\n%s", buf.String())
			}
		})
	}
}

func TestEscapeLine(t *testing.T) {
	for in, want := range map[string]string{
		"50% done":            "50% done",
		"a\nb\r\nc":           "a\nb\r\nc",
		"ok\n::error::x":      "ok\n%3A:error::x",
		"ok\r::error::x":      "ok\r%3A:error::x",
		"ok\r\n  ::warning::": "ok\r\n  %3A:warning::",
		"::error::x":          "%3A:error::x",
		"  ::x::":             "  %3A:x::",
		"a ##[cmd]b":          "a ##%5Bcmd]b",
		"plain: a::b":         "plain: a::b",
		"%0A already there":   "%0A already there",
	} {
		if got := EscapeLine(in); got != want {
			t.Errorf("EscapeLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPublisherMasksEveryChannel: a secret (and each line of a multi-line
// one) is gone from the log, annotations, groups, outputs and summary.
func TestPublisherMasksEveryChannel(t *testing.T) {
	const sec = "tok-0123456789abcdef"
	pem := "-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\nEEEEFFFFGGGG\n-----END KEY-----"
	a, buf, output := newActions(t)
	p := New(a, mask.NewMasker())
	p.AddMask(sec)
	p.AddMask(pem)
	for _, line := range []string{sec, "AAAABBBBCCCCDDDD", "EEEEFFFFGGGG"} {
		if !strings.Contains(buf.String(), "::add-mask::"+line+"\n") {
			t.Errorf("runner not told to mask %q:\n%s", line, buf.String())
		}
	}
	buf.Reset()
	p.Infof("x %s", sec)
	p.Warningf("x %s", sec)
	p.Errorf("x EEEEFFFFGGGG")
	p.Group("g " + sec)
	p.SetOutput("o", "v "+sec+"\n_GitHubActionsFileCommandDelimeter_\nevil<<EOF")
	p.AddStepSummary("s `" + sec + "` a\\_b " + strings.ReplaceAll(sec, "-", `\-`))
	summary, _ := os.ReadFile(filepath.Join(filepath.Dir(output), "summary"))
	out, _ := os.ReadFile(output)
	for name, text := range map[string]string{"log": buf.String(), "summary": string(summary), "outputs": string(out)} {
		if strings.Contains(text, sec) || strings.Contains(text, "EEEEFFFFGGGG") {
			t.Errorf("secret in %s: %s", name, text)
		}
	}
	if strings.Count(string(out), "_GitHubActionsFileCommandDelimeter_\n") != 2 {
		t.Errorf("an output value broke out of its delimiter:\n%s", out)
	}
}

// TestLineWriterSplitSecret: a secret written in two pieces is still masked.
func TestLineWriterSplitSecret(t *testing.T) {
	var out bytes.Buffer
	w := NewLineWriter(&out, mask.NewMasker("hunter2hunter2"))
	fmt.Fprint(w, "pass=hunter2")
	fmt.Fprint(w, "hunter2\nnext")
	_ = w.Flush()
	if out.String() != "pass=***\nnext\n" {
		t.Errorf("%q", out.String())
	}
}

// TestInjectedSeesRawText: the checker itself finds each attack when the
// text is printed raw, so TestNoCommandFromText can fail.
func TestInjectedSeesRawText(t *testing.T) {
	for _, h := range hostile {
		if h.name == "escaped newline passed through" || h.name == "end of a stop token" {
			continue
		}
		log := "::warning::ours\n" + h.text + "\n"
		if len(reporttest.Injected(log, "PWNED")) == 0 {
			t.Errorf("%s: raw text not seen as a command:\n%s", h.name, log)
		}
	}
	if got := reporttest.Commands("::stop-commands::tok\n::error::hidden\n::tok::\n::error::seen\n"); len(got) != 2 || got[1].Text != "::error::seen" {
		t.Errorf("stop-commands not followed: %+v", got)
	}
}
