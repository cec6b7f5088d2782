// Package evalresults reads the evaluation results an earlier step of the
// job wrote: promptarena's JSON results (index.json and one file per run,
// as `promptarena run --format json` writes them) and JUnit XML
// (promptarena's, and any other tool's). It turns them into one summary of
// cases (a scenario on a provider in a region), each passed, failed or
// skipped, with its cost, tokens and duration, and a digest of the files
// read. It only reads: whether the results may be trusted for this pack is
// bind.go's question, what blocks a deploy is internal/evalgate's.
package evalresults

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Errors callers branch on; each error names the file.
var (
	// ErrNotFound: the path names nothing, or a folder without results.
	ErrNotFound = errors.New("no evaluation results")
	// ErrInvalid: the files are results, but damaged or inconsistent (not
	// JSON, a run file missing, a run without its scenario), or too large.
	ErrInvalid = errors.New("evaluation results are damaged")
	// ErrEmpty: valid results with no run in them.
	ErrEmpty = errors.New("evaluation results hold no run")
	// ErrForeign: a file that is neither promptarena's JSON results nor
	// JUnit XML.
	ErrForeign = errors.New("not promptarena's results or JUnit XML")
)

// Formats of results.
const (
	FormatPromptArena = "promptarena"
	FormatJUnit       = "junit"
)

// Statuses of a case.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped"
)

// Why a case failed.
const (
	WhyError      = "error"      // the run did not complete (promptarena's Error; JUnit <error>)
	WhyAssertions = "assertions" // a turn or conversation assertion failed (JUnit <failure>)
	WhyViolations = "violations" // guardrail violations no assertion expected
	WhyTrials     = "trials"     // some of its trials failed
)

// Case is one evaluated case: a scenario on a provider in a region
// (promptarena), or a test case (JUnit). Several runs of the same case
// (trials) make one case.
type Case struct {
	Scenario string `json:"scenario"`
	Provider string `json:"provider,omitempty"`
	Region   string `json:"region,omitempty"`
	// Name is a JUnit test case's own name, when the file is not
	// promptarena's (whose test names are provider.region.run-id).
	Name   string `json:"name,omitempty"`
	Status string `json:"status"`
	// Why is WhyError, WhyAssertions, WhyViolations or WhyTrials for a
	// failed case, empty otherwise.
	Why string `json:"why,omitempty"`
	// Message is the first failure's text, or the skip reason.
	Message string `json:"message,omitempty"`
	// Runs is how many times it ran (its trials), RunsPassed how many of
	// those passed; a skipped case ran 0 times.
	Runs       int `json:"runs"`
	RunsPassed int `json:"runs_passed"`
	// Cost, tokens and duration add up Measured runs: a trial group's
	// file carries its first trial's alone.
	Measured     int      `json:"measured_runs"`
	CostUSD      float64  `json:"cost_usd"`
	InputTokens  int      `json:"input_tokens"`
	OutputTokens int      `json:"output_tokens"`
	DurationMS   int64    `json:"duration_ms"`
	RunIDs       []string `json:"run_ids,omitempty"`
}

// PerRun is the case's cost, tokens and duration per measured run; ok is
// false when it ran none.
func (c *Case) PerRun() (cost float64, tokens int, ms int64, ok bool) {
	if c.Measured <= 0 || c.Runs == 0 {
		return 0, 0, 0, false
	}
	n := c.Measured
	return c.CostUSD / float64(n), (c.InputTokens + c.OutputTokens) / n, c.DurationMS / int64(n), true
}

// Key identifies the case across runs of the evaluations (the baseline's
// and the pull request's).
func (c *Case) Key() string {
	return c.Scenario + "\x1f" + c.Provider + "\x1f" + c.Region + "\x1f" + c.Name
}

// Label is the case as people name it: "scenario · provider · region".
func (c *Case) Label() string {
	parts := []string{c.Scenario}
	for _, p := range []string{c.Name, c.Provider, c.Region} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " · ")
}

// Totals add the cases up.
type Totals struct {
	Cases   int `json:"cases"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// Runs and RunsPassed count trials: the pass rate's terms.
	Runs         int     `json:"runs"`
	RunsPassed   int     `json:"runs_passed"`
	CostUSD      float64 `json:"cost_usd"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	DurationMS   int64   `json:"duration_ms"`
}

// Tokens is input and output tokens together.
func (t Totals) Tokens() int { return t.InputTokens + t.OutputTokens }

// PassRate is the share of runs that passed (trials counted), 0 when
// nothing ran.
func (t Totals) PassRate() float64 {
	if t.Runs == 0 {
		return 0
	}
	return float64(t.RunsPassed) / float64(t.Runs)
}

// Summary is what the plan records and the baseline keeps of a set of
// results: no message text beyond each failure's first line.
type Summary struct {
	Format string `json:"format"`
	// Source is the path read, relative to the repository root.
	Source string `json:"source"`
	// Digest is sha256 over the files read (names and bytes).
	Digest string `json:"digest"`
	Files  int    `json:"files"`
	Totals Totals `json:"totals"`
	Cases  []Case `json:"cases"`
}

// File is one file read, for binding: where it is, when it was written,
// its git blob id.
type File struct {
	Path    string // as opened
	Rel     string // relative to the repository root, slash-separated
	ModTime time.Time
	BlobSHA string
}

// Identity is what a run says about the pack it ran against.
type Identity struct {
	RunID, Scenario, Provider string
	// PromptPack is promptarena's PromptPack (empty in today's output).
	PromptPack string
	// SystemPrompts are the system prompts the run recorded: its
	// Params.system_prompt and the content of its system messages.
	SystemPrompts []string
}

// Results are results as read: the summary, the files and what the runs
// say of their pack.
type Results struct {
	Summary
	Read       []File
	Identities []Identity
}

// FS is where results are read: the workspace fence.
type FS interface {
	ReadFile(name string) ([]byte, error)
	Stat(name string) (fs.FileInfo, error)
}

// Limits on what is read.
const (
	MaxFileBytes  = 64 << 20
	MaxTotalBytes = 512 << 20
	MaxRuns       = 100000
	// MaxTrials bounds a trial group's trial_count (promptarena runs each
	// trial as a run of its own: no more than MaxRuns), so that the runs
	// of MaxRuns cases add up in an int.
	MaxTrials = MaxRuns
	// MaxTokensPerRun bounds a run's input and output tokens, so that
	// MaxRuns of them add up without overflowing.
	MaxTokensPerRun = 1 << 40
	// MaxValuesPerFile bounds the JSON values of a file (each object,
	// array, member and element) and MaxElementsPerFile the XML elements:
	// decoded, a value takes up to tens of times its bytes ("{}," is 3
	// bytes, a message 64), so 64 MiB of them took gigabytes. promptarena
	// writes a few hundred values a run and a few per JUnit test case.
	MaxValuesPerFile   = 1 << 21
	MaxElementsPerFile = 1 << 20
)

// checkShape fails ErrInvalid, naming the file, for JSON (xml false) or
// XML holding more values or elements than MaxValuesPerFile or
// MaxElementsPerFile: refused by one pass over the bytes, before decoding
// allocates for them.
func checkShape(name string, raw []byte, xml bool) error {
	if xml {
		if n := xmlElements(raw); n > MaxElementsPerFile {
			return fmt.Errorf("%w: %s holds more than %d XML elements, more than results hold", ErrInvalid, name, MaxElementsPerFile)
		}
		return nil
	}
	if n := jsonValues(raw); n > MaxValuesPerFile {
		return fmt.Errorf("%w: %s holds more than %d JSON values, more than results hold", ErrInvalid, name, MaxValuesPerFile)
	}
	return nil
}

// jsonValues counts a JSON document's values, from outside its strings:
// one, and one more for each {, [ and , (a comma starts the next member
// or element). For a document that is not JSON it is a bound all the
// same.
func jsonValues(b []byte) int {
	n, in := 1, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case in && c == '\\':
			i++
		case in:
			in = c != '"'
		case c == '"':
			in = true
		case c == '{' || c == '[' || c == ',':
			n++
		}
	}
	return n
}

// xmlElements counts the elements a document opens (a < not starting a
// closing tag, a comment, a declaration or an instruction), CDATA's text
// included: an upper bound.
func xmlElements(b []byte) int {
	n := 0
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 || i+1 >= len(b) {
			return n
		}
		if c := b[i+1]; c != '/' && c != '!' && c != '?' {
			n++
		}
		b = b[i+1:]
	}
}

// checkMeasures fails ErrInvalid, naming the file and the run, for a run
// measured with numbers no run has: a cost that is not a finite,
// non-negative number of dollars (a NaN compares false with every
// threshold, so max-cost-growth would let it through, and JSON cannot
// record it in the baseline), negative or absurd token counts, a
// negative duration.
func checkMeasures(file, run string, cost float64, in, out int, duration int64) error {
	bad := func(what string, v any) error {
		return fmt.Errorf("%w: %s: the run %s has the %s %v, which no run measures", ErrInvalid, file, run, what, v)
	}
	switch {
	case math.IsNaN(cost) || math.IsInf(roundCost(cost), 0) || cost < 0:
		return bad("cost", cost)
	case in < 0 || in > MaxTokensPerRun:
		return bad("input tokens", in)
	case out < 0 || out > MaxTokensPerRun:
		return bad("output tokens", out)
	case duration < 0:
		return bad("duration", duration)
	}
	return nil
}

// Load reads the results at path (absolute), which is a folder holding
// index.json (promptarena's JSON results) or junit.xml, index.json itself,
// or a JUnit XML file of any name. root is the repository root, for the
// names the summary records.
func Load(fsys FS, path, root string) (*Results, error) {
	r := &reader{fs: fsys, root: root}
	fi, err := fsys.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNotFound, r.rel(path))
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.rel(path), err)
	}
	var res *Results
	switch {
	case fi.IsDir():
		res, err = r.folder(path)
	case strings.EqualFold(filepath.Ext(path), ".xml"):
		res, err = r.junit(path)
	case filepath.Base(path) == indexName:
		res, err = r.promptarena(filepath.Dir(path), path)
	default:
		return nil, fmt.Errorf("%w: %s is neither promptarena's index.json nor a JUnit .xml file; name the folder promptarena run --out wrote, its index.json, or a JUnit XML file", ErrForeign, r.rel(path))
	}
	if err != nil {
		return nil, err
	}
	res.Source = r.rel(path)
	res.Digest = r.digest()
	res.Files = len(r.read)
	res.Read = r.read
	res.finish()
	if c := res.Totals.CostUSD; math.IsInf(c, 0) || math.IsNaN(c) {
		return nil, fmt.Errorf("%w: %s: the runs' costs add up to %v dollars", ErrInvalid, res.Source, c)
	}
	return res, nil
}

const indexName = "index.json"

// folder reads promptarena's JSON results in dir, else its junit.xml.
func (r *reader) folder(dir string) (*Results, error) {
	index := filepath.Join(dir, indexName)
	if _, err := r.fs.Stat(index); err == nil {
		return r.promptarena(dir, index)
	}
	junit := filepath.Join(dir, "junit.xml")
	if _, err := r.fs.Stat(junit); err == nil {
		return r.junit(junit)
	}
	return nil, fmt.Errorf("%w: %s holds neither index.json (promptarena run --format json) nor junit.xml", ErrNotFound, r.rel(dir))
}

// reader reads files through the fence, keeping what it read.
type reader struct {
	fs    FS
	root  string
	read  []File
	data  [][]byte
	total int
}

func (r *reader) rel(p string) string {
	if rel, err := filepath.Rel(r.root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}

// file reads one file, within the limits.
func (r *reader) file(p string) ([]byte, error) {
	fi, err := r.fs.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing", ErrInvalid, r.rel(p))
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.rel(p), err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalid, r.rel(p))
	}
	if fi.Size() > MaxFileBytes || r.total+int(fi.Size()) > MaxTotalBytes {
		return nil, fmt.Errorf("%w: %s is too large (%d bytes; at most %d a file, %d in all)", ErrInvalid, r.rel(p), fi.Size(), MaxFileBytes, MaxTotalBytes)
	}
	b, err := r.fs.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.rel(p), err)
	}
	r.total += len(b)
	r.read = append(r.read, File{Path: p, Rel: r.rel(p), ModTime: fi.ModTime(), BlobSHA: BlobSHA(b)})
	r.data = append(r.data, b)
	return b, nil
}

// digest is sha256 over each file's name, length and bytes, in name order.
func (r *reader) digest() string {
	idx := make([]int, len(r.read))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return r.read[idx[a]].Rel < r.read[idx[b]].Rel })
	h := sha256.New()
	for _, i := range idx {
		fmt.Fprintf(h, "%s\x00%d\x00", r.read[i].Rel, len(r.data[i]))
		h.Write(r.data[i])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// BlobSHA is git's blob id of content (what the contents API reports).
func BlobSHA(content []byte) string {
	return gitBlobSHA(content)
}

// finish sorts the cases and adds them up.
func (res *Results) finish() {
	sort.SliceStable(res.Cases, func(i, j int) bool { return res.Cases[i].Key() < res.Cases[j].Key() })
	var t Totals
	for i := range res.Cases {
		c := &res.Cases[i]
		c.CostUSD = roundCost(c.CostUSD)
		t.Cases++
		switch c.Status {
		case Passed:
			t.Passed++
		case Failed:
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
	t.CostUSD = roundCost(t.CostUSD)
	res.Totals = t
}

// roundCost keeps costs to a millionth of a dollar, so sums read the same
// wherever they are computed.
func roundCost(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// cases merges runs of the same case: a trial, a second persona, a run
// repeated.
type cases struct {
	byKey map[string]int
	list  []Case
}

func (cs *cases) add(c Case) {
	if cs.byKey == nil {
		cs.byKey = map[string]int{}
	}
	i, ok := cs.byKey[c.Key()]
	if !ok {
		cs.byKey[c.Key()] = len(cs.list)
		cs.list = append(cs.list, c)
		return
	}
	m := &cs.list[i]
	m.Runs += c.Runs
	m.RunsPassed += c.RunsPassed
	m.Measured += c.Measured
	m.CostUSD += c.CostUSD
	m.InputTokens += c.InputTokens
	m.OutputTokens += c.OutputTokens
	m.DurationMS += c.DurationMS
	m.RunIDs = append(m.RunIDs, c.RunIDs...)
	switch {
	case m.Status == Failed:
	case c.Status == Failed:
		m.Status, m.Why, m.Message = Failed, c.Why, c.Message
	case m.Status == Skipped && c.Status == Passed:
		m.Status, m.Message = Passed, ""
	}
	if m.Status == Failed && m.Runs > 1 && m.Why == "" {
		m.Why = WhyTrials
	}
}

// firstLine is s's first line, trimmed and cut to n runes.
func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
