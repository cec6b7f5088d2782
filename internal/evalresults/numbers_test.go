package evalresults

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// junitRun is promptarena's JUnit of one run, its system-out carrying
// the cost and token lines given.
func junitRun(out string) string {
	return `<testsuites><testsuite name="greet"><testcase classname="greet" name="openai-mini.us.r1" time="1.5"><system-out>Run ID: r1
Provider: openai-mini
Region: us
` + out + `</system-out></testcase></testsuite></testsuites>`
}

// TestBadNumbers: a cost that is not a finite, non-negative number (NaN,
// Inf, one too large to add up, negative), negative tokens or durations,
// and a trial pass rate outside 0..1 are damaged results naming the file.
// Read as numbers, a NaN cost passed max-cost-growth (NaN > 20% is false),
// reached the outputs as "NaN", and made the baseline unwritable (JSON has
// no NaN), so the apply deployed and silently kept the old baseline; a
// plan failed artifact-upload-failed.
func TestBadNumbers(t *testing.T) {
	cases := []struct {
		name, file, body, says string
	}{
		{"JUnit NaN cost", "j.xml", junitRun("Cost: $NaN\n"), "out/j.xml: the run r1 has the cost"},
		{"JUnit Inf cost", "j.xml", junitRun("Cost: $+Inf\n"), "out/j.xml: the run r1 has the cost"},
		{"JUnit cost out of range", "j.xml", junitRun("Cost: $1e999\n"), "out/j.xml: the run r1 has the cost"},
		{"JUnit negative cost", "j.xml", junitRun("Cost: $-0.5\n"), "out/j.xml: the run r1 has the cost"},
		{"JUnit cost not a number", "j.xml", junitRun("Cost: $lots\n"), "out/j.xml: the run r1 has the cost"},
		{"JUnit negative tokens", "j.xml", junitRun("Cost: $0.01\nInput Tokens: -5\n"), "out/j.xml: the run r1 has the input tokens"},
		{"JUnit tokens not a number", "j.xml", junitRun("Cost: $0.01\nOutput Tokens: many\n"), "out/j.xml: the run r1 has the output tokens"},
		{"JUnit time past any run", "j.xml", `<testsuite name="pkg"><testcase name="TestA" classname="pkg" time="1e300"/></testsuite>`, "out/j.xml: the test case pkg · TestA has the time 1e300"},
		{"JSON negative cost", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "Cost": {"total_cost_usd": -1}}`, "out/r1.json: the run r1 has the cost"},
		{"JSON huge costs", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "Cost": {"total_cost_usd": 1e307}}`, "out/r1.json: the run r1 has the cost"},
		{"JSON negative tokens", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "Cost": {"input_tokens": -3}}`, "out/r1.json: the run r1 has the input tokens"},
		{"JSON tokens that overflow a sum", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "Cost": {"output_tokens": 9000000000000000000}}`, "out/r1.json: the run r1 has the output tokens"},
		{"JSON negative duration", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "Duration": -5000000}`, "out/r1.json: the run r1 has the duration"},
		{"JSON trial pass rate above 1", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "trial_results": {"trial_count": 3, "pass_rate": 7}}`, "out/r1.json: the run r1 has the trial pass rate"},
		{"JSON trial count past any run", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "trial_results": {"trial_count": 4611686018427387904, "pass_rate": 1}}`, "out/r1.json: the run r1 has 4611686018427387904 trials"},
		{"JSON trial count that overflows a pass count", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "trial_results": {"trial_count": 9223372036854775807, "pass_rate": 1}}`, "out/r1.json: the run r1 has 9223372036854775807 trials"},
		{"JSON negative trial count", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "trial_results": {"trial_count": -3, "pass_rate": 1}}`, "out/r1.json: the run r1 has the trial pass rate 1 of -3 trials"},
		{"JSON trial pass rate below 0", "run.json", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "trial_results": {"trial_count": 3, "pass_rate": -1}}`, "out/r1.json: the run r1 has the trial pass rate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, dir := copyFixture(t, "otherpack")
			path := filepath.Join(dir, c.file)
			if c.file == "run.json" {
				write(t, filepath.Join(dir, "index.json"), `{"total_runs": 1, "run_ids": ["r1"]}`)
				path = filepath.Join(dir, "r1.json")
			}
			write(t, path, c.body)
			if c.file == "run.json" {
				path = dir
			}
			res, err := Load(root, path, root.Dir())
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.says) {
				var got any = err
				if res != nil {
					got = res.Totals
				}
				t.Fatalf("got %v; want %v saying %q", got, ErrInvalid, c.says)
			}
		})
	}
	// Costs that are each within range but add up past what a float holds.
	root, dir := copyFixture(t, "otherpack")
	ids := []string{}
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("r%d", i)
		ids = append(ids, `"`+id+`"`)
		write(t, filepath.Join(dir, id+".json"), `{"RunID": "`+id+`", "ScenarioID": "s`+id+`", "ProviderID": "p", "Cost": {"total_cost_usd": 1e300}}`)
	}
	write(t, filepath.Join(dir, "index.json"), `{"total_runs": 300, "run_ids": [`+strings.Join(ids, ",")+`]}`)
	if res, err := Load(root, dir, root.Dir()); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "out: the runs' costs add up to +Inf") {
		var got any = err
		if res != nil {
			got = res.Totals
		}
		t.Fatalf("costs adding up past a float: %v", got)
	}
}

// TestTrialsOfAFailedRun: a trial group's file is its first trial, and
// trial_results.pass_rate is promptarena's count (assertions and errors:
// guardrail violations and turn assertions do not lower it). A first
// trial that fails here is a failed run of the group, so no more than
// all but one of its trials passed: the pass rate said 3 of 3 for a
// failing case, and min-pass-rate: 100% let it through.
func TestTrialsOfAFailedRun(t *testing.T) {
	trials := `"trial_results": {"trial_count": 3, "pass_rate": %s}`
	cases := []struct {
		name, run          string
		status             string
		runs, passed       int
		passRateOfTheTotal float64
	}{
		{"error, all trials passed by promptarena's count", `"Error": "provider timeout", ` + fmt.Sprintf(trials, "1"), Failed, 3, 2, 2.0 / 3},
		{"violations no assertion expects", `"Violations": [{"type": "banned_word", "detail": "refund"}], ` + fmt.Sprintf(trials, "1"), Failed, 3, 2, 2.0 / 3},
		{"a failed turn assertion", `"Messages": [{"role": "assistant", "content": "hi", "meta": {"assertions": {"passed": false, "results": [{"type": "content_includes", "passed": false, "message": "missing"}]}}}], ` + fmt.Sprintf(trials, "1"), Failed, 3, 2, 2.0 / 3},
		{"error, one trial of three passed", `"Error": "provider timeout", ` + fmt.Sprintf(trials, "0.3333333333333333"), Failed, 3, 1, 1.0 / 3},
		{"passed, all trials passed", fmt.Sprintf(trials, "1"), Passed, 3, 3, 1},
		{"passed, two trials of three passed", fmt.Sprintf(trials, "0.6666666666666666"), Failed, 3, 2, 2.0 / 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, dir := copyFixture(t, "otherpack")
			write(t, filepath.Join(dir, "index.json"), `{"total_runs": 1, "run_ids": ["r1"]}`)
			write(t, filepath.Join(dir, "r1.json"), `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", `+c.run+`}`)
			res, err := Load(root, dir, root.Dir())
			if err != nil {
				t.Fatal(err)
			}
			got := res.Cases[0]
			if got.Status != c.status || got.Runs != c.runs || got.RunsPassed != c.passed || res.Totals.PassRate() != c.passRateOfTheTotal {
				t.Errorf("%s %d/%d (pass rate %v); want %s %d/%d (%v)", got.Status, got.RunsPassed, got.Runs, res.Totals.PassRate(), c.status, c.passed, c.runs, c.passRateOfTheTotal)
			}
		})
	}
}
