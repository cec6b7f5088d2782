package evalresults

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// JUnit XML as the common writers write it: <testsuites> around
// <testsuite>s (promptarena, Maven Surefire, pytest, jest-junit,
// go-junit-report), or one <testsuite> alone; suites may nest.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
	junitCounts
}

type junitSuite struct {
	Name   string       `xml:"name,attr"`
	Suites []junitSuite `xml:"testsuite"`
	Cases  []junitCase  `xml:"testcase"`
	junitCounts
}

// junitCounts are the failures and errors a suite (or all of them)
// says it holds: attributes, so anything or nothing ("" is no claim).
type junitCounts struct {
	Failures string `xml:"failures,attr"`
	Errors   string `xml:"errors,attr"`
}

// missing is how many failures and errors c claims beyond the test cases
// that carry one (failed and errored: cases with a <failure>, with an
// <error>): a suite that failed to run (its setup, a file that did not
// load) may report an error and hold no test case for it.
func (c junitCounts) missing(failed, errored int) (failures, errors int) {
	if n, err := strconv.Atoi(strings.TrimSpace(c.Failures)); err == nil && n > failed {
		failures = n - failed
	}
	if n, err := strconv.Atoi(strings.TrimSpace(c.Errors)); err == nil && n > errored {
		errors = n - errored
	}
	return failures, errors
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failures  []junitDetail `xml:"failure"`
	Errors    []junitDetail `xml:"error"`
	Skipped   *junitDetail  `xml:"skipped"`
	SystemOut string        `xml:"system-out"`
	Props     []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
}

type junitDetail struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Content string `xml:",chardata"`
}

// junit reads a JUnit XML file.
func (r *reader) junit(p string) (*Results, error) {
	raw, err := r.file(p)
	if err != nil {
		return nil, err
	}
	name := r.rel(p)
	if err := checkShape(name, raw, true); err != nil {
		return nil, err
	}
	root, err := rootElement(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not XML (%v)", ErrInvalid, name, err)
	}
	var suites []junitSuite
	var total junitCounts // the root's claim over every suite
	switch root {
	case "testsuites":
		var all junitSuites
		if err := xml.Unmarshal(raw, &all); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
		}
		suites, total = all.Suites, all.junitCounts
	case "testsuite":
		var one junitSuite
		if err := xml.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
		}
		suites = []junitSuite{one}
	default:
		return nil, fmt.Errorf("%w: %s is XML whose root is <%s>, not JUnit's <testsuites> or <testsuite>", ErrForeign, name, root)
	}
	res := &Results{Summary: Summary{Format: FormatJUnit}}
	var cs cases
	n := 0
	// walk adds the suites' cases, and a failed case of its own for each
	// suite claiming failures or errors its test cases do not carry;
	// failed and errored count the cases with a <failure>, an <error>,
	// the suites' nested ones included (a claim may count them).
	var walk func(s []junitSuite) (failed, errored int, err error)
	walk = func(ss []junitSuite) (failed, errored int, err error) {
		for _, s := range ss {
			f, e := 0, 0
			for _, tc := range s.Cases {
				if n++; n > MaxRuns {
					return 0, 0, fmt.Errorf("%w: %s holds more than %d test cases", ErrInvalid, name, MaxRuns)
				}
				c, err := junitToCase(name, s.Name, tc)
				if err != nil {
					return 0, 0, err
				}
				cs.add(c)
				if len(tc.Failures) > 0 {
					f++
				}
				if len(tc.Errors) > 0 {
					e++
				}
			}
			nf, ne, err := walk(s.Suites)
			if err != nil {
				return 0, 0, err
			}
			f, e = f+nf, e+ne
			if mf, me := s.missing(f, e); mf+me > 0 {
				cs.add(unreportedCase(s.Name, mf, me))
				f, e = f+mf, e+me
			}
			failed, errored = failed+f, errored+e
		}
		return failed, errored, nil
	}
	failed, errored, err := walk(suites)
	if err != nil {
		return nil, err
	}
	if mf, me := total.missing(failed, errored); mf+me > 0 {
		cs.add(unreportedCase(name, mf, me))
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s holds no test case", ErrEmpty, name)
	}
	res.Cases = cs.list
	return res, nil
}

// unreportedCase is a failed case for the failures and errors a suite
// (or the file, for its root) reports and no test case of it carries.
// Left out, a suite that errored before its cases ran (its setup failed,
// a file did not load) would read as passed.
func unreportedCase(suite string, failures, errors int) Case {
	why := WhyAssertions
	if errors > 0 {
		why = WhyError
	}
	return Case{Scenario: suite, Name: "(the suite itself)", Status: Failed, Why: why, Runs: 1,
		Message: fmt.Sprintf("the suite reports %d failures and %d errors beyond its test cases'", failures, errors)}
}

// rootElement is the name of the document's first element.
func rootElement(raw []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return "", fmt.Errorf("no element")
		}
		if err != nil {
			return "", err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local, nil
		}
	}
}

// maxCaseSeconds bounds a test case's time (about 31 years), so that
// MaxRuns of them add up in int64 milliseconds.
const maxCaseSeconds = 1e9

// junitToCase makes a case of a test case. promptarena's (its system-out
// says "Run ID:", "Provider:", "Region:") are named by scenario (the
// class), provider and region, as its JSON results are; others by suite
// or class and test name.
func junitToCase(file, suite string, tc junitCase) (Case, error) {
	meta := systemOut(tc.SystemOut)
	c := Case{Scenario: tc.Classname, Runs: 1, RunsPassed: 1, Measured: 1, Status: Passed}
	if c.Scenario == "" {
		c.Scenario = suite
	}
	if id, ok := meta["Run ID"]; ok && meta["Provider"] != "" {
		c.Provider, c.Region, c.RunIDs = meta["Provider"], meta["Region"], []string{id}
		// promptarena writes these lines only for a run that cost
		// something ("Cost: $%.6f"); a line there that is no number is
		// damaged, not zero.
		bad := func(what, v string) error {
			return fmt.Errorf("%w: %s: the run %s has the %s %q, which is not a number", ErrInvalid, file, id, what, v)
		}
		var err error
		if v, ok := meta["Cost"]; ok {
			if c.CostUSD, err = strconv.ParseFloat(strings.TrimPrefix(v, "$"), 64); err != nil && !errors.Is(err, strconv.ErrRange) {
				return c, bad("cost", v)
			}
		}
		if v, ok := meta["Input Tokens"]; ok {
			if c.InputTokens, err = strconv.Atoi(v); err != nil {
				return c, bad("input tokens", v)
			}
		}
		if v, ok := meta["Output Tokens"]; ok {
			if c.OutputTokens, err = strconv.Atoi(v); err != nil {
				return c, bad("output tokens", v)
			}
		}
		if err := checkMeasures(file, id, c.CostUSD, c.InputTokens, c.OutputTokens, 0); err != nil {
			return c, err
		}
	} else {
		c.Name = tc.Name
	}
	if secs, err := strconv.ParseFloat(strings.TrimSpace(tc.Time), 64); err == nil && secs > 0 {
		// Past int64 milliseconds the conversion is undefined (amd64
		// gives the most negative duration): no test runs for decades.
		if secs > maxCaseSeconds {
			return c, fmt.Errorf("%w: %s: the test case %s has the time %s, which no run takes (seconds)", ErrInvalid, file, c.Label(), strings.TrimSpace(tc.Time))
		}
		c.DurationMS = int64(math.Round(secs * 1000))
	}
	switch {
	case len(tc.Errors) > 0:
		c.Status, c.Why, c.RunsPassed = Failed, WhyError, 0
		c.Message = detailText(tc.Errors[0])
	case len(tc.Failures) > 0:
		c.Status, c.Why, c.RunsPassed = Failed, WhyAssertions, 0
		c.Message = detailText(tc.Failures[0])
		if tc.Failures[0].Type == "ValidationError" {
			c.Why = WhyViolations
		}
	case tc.Skipped != nil:
		c.Status, c.Runs, c.RunsPassed = Skipped, 0, 0
		c.Message = firstLine(tc.Skipped.Message, 300)
	}
	return c, nil
}

func detailText(d junitDetail) string {
	if m := firstLine(d.Message, 300); m != "" {
		return m
	}
	return firstLine(d.Content, 300)
}

// systemOut reads promptarena's "Key: value" lines.
func systemOut(s string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if ok {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}
