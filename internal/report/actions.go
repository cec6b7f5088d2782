package report

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"

	"github.com/sethvargo/go-githubactions"
)

// Actions is the GitHub Actions sink: go-githubactions for commands and
// files, with every plain log line escaped (EscapeLine) and the adapter's
// log between ::stop-commands:: and its end token. All of it is written
// through one lock to one stream, so the runner never reads our commands
// while it has commands stopped, nor an adapter line outside the fence.
type Actions struct {
	a     *githubactions.Action
	w     *lockedWriter
	token string
}

// NewActions writes to w; getenv finds GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY.
func NewActions(w io.Writer, getenv func(string) string) *Actions {
	lw := &lockedWriter{w: w}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &Actions{
		a:     githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(lw)),
		w:     lw,
		token: hex.EncodeToString(b[:]),
	}
}

// Infof prints one log line, escaped.
func (s *Actions) Infof(format string, args ...any) {
	s.a.Infof("%s", EscapeLine(fmt.Sprintf(format, args...)))
}

// Warningf, Errorf, Group and AddMask go out as commands whose data
// go-githubactions escapes as the toolkit does.
func (s *Actions) Warningf(format string, args ...any) { s.a.Warningf(format, args...) }

// Errorf is an error annotation.
func (s *Actions) Errorf(format string, args ...any) { s.a.Errorf(format, args...) }

// Group opens a log group.
func (s *Actions) Group(title string) { s.a.Group(title) }

// EndGroup closes it.
func (s *Actions) EndGroup() { s.a.EndGroup() }

// AddMask asks the runner to mask s.
func (s *Actions) AddMask(v string) { s.a.AddMask(v) }

// SetOutput sets a step output.
func (s *Actions) SetOutput(k, v string) { s.a.SetOutput(k, v) }

// AddStepSummary appends to the job summary.
func (s *Actions) AddStepSummary(md string) { s.a.AddStepSummary(md) }

// Log is where the adapter's stderr goes: each write (whole lines, from a
// LineWriter) is printed between ::stop-commands::<token> and ::<token>::,
// so the runner executes no command in it. The token is random per run;
// the adapter never sees it.
func (s *Actions) Log() io.Writer { return fenced{s} }

type fenced struct{ s *Actions }

func (f fenced) Write(p []byte) (int, error) {
	var b bytes.Buffer
	b.WriteString("::stop-commands::" + f.s.token + "\n")
	b.Write(p)
	if len(p) > 0 && p[len(p)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString("::" + f.s.token + "::\n")
	if _, err := f.s.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// EscapeLine makes text log lines the runner reads no command in, shown
// as written. The runner reads each line on its own (a line ends at LF, CR
// or CRLF, as .NET's ReadLine) and prints a plain line as it is: "50%" or a
// line break must not turn into "50%25" or "%0A" on the page. So only what
// the runner would act on is changed: a line that would start with "::"
// (after any Unicode white space: it trims with .NET's TrimStart) has its
// first colon written "%3A", and the legacy "##[" prefix, which the runner
// looks for anywhere in a line, has its bracket written "%5B".
func EscapeLine(s string) string {
	s = strings.ReplaceAll(s, "##[", "##%5B")
	var b strings.Builder
	for len(s) > 0 {
		end := strings.IndexAny(s, "\r\n")
		line, rest := s, ""
		if end >= 0 {
			line, rest = s[:end+1], s[end+1:]
		}
		if t := strings.TrimLeftFunc(line, unicode.IsSpace); strings.HasPrefix(t, "::") {
			i := len(line) - len(t)
			line = line[:i] + "%3A" + line[i+1:]
		}
		b.WriteString(line)
		s = rest
	}
	return b.String()
}

// LineWriter masks whole lines, so a secret split across two writes by
// the adapter cannot slip through, and passes each batch of complete
// lines on in one write. Flush writes a last line without a newline.
type LineWriter struct {
	mu  sync.Mutex
	out io.Writer
	m   interface{ String(string) string }
	buf bytes.Buffer
}

// NewLineWriter masks with m (a *mask.Masker) on the way to out.
func NewLineWriter(out io.Writer, m interface{ String(string) string }) *LineWriter {
	return &LineWriter{out: out, m: m}
}

// maxLine is how long an unterminated line may grow before it is written.
const maxLine = 64 << 10

func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	n := len(p)
	i := bytes.LastIndexByte(w.buf.Bytes(), '\n')
	if i < 0 {
		if w.buf.Len() > maxLine {
			return n, w.flush()
		}
		return n, nil
	}
	block := w.buf.Next(i + 1)
	if _, err := io.WriteString(w.out, w.m.String(string(block))); err != nil {
		return n, err
	}
	return n, nil
}

// Flush writes what is left: a last line without a newline.
func (w *LineWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flush()
}

func (w *LineWriter) flush() error {
	if w.buf.Len() == 0 {
		return nil
	}
	_, err := io.WriteString(w.out, w.m.String(w.buf.String())+"\n")
	w.buf.Reset()
	return err
}
