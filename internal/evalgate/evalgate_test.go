package evalgate

import (
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/evalresults"
)

func TestParsePolicy(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{"", "no-failures", ""},
		{"none", "none", ""},
		{"no-failures", "no-failures", ""},
		{"no-regressions, max-cost-growth: 20%", "no-regressions, max-cost-growth: 20%", ""},
		{"min-pass-rate=0.95\nno-regressions", "no-regressions, min-pass-rate: 95%", ""},
		{"min-pass-rate: 87.5%", "min-pass-rate: 87.5%", ""},
		{"max-cost-growth: 0%", "max-cost-growth: 0%", ""},
		{"NO-FAILURES", "no-failures", ""},
		{"none, no-failures", "", "none cannot be combined"},
		{"min-pass-rate", "", "needs a percentage"},
		{"min-pass-rate: 0%", "", "above 0%"},
		{"min-pass-rate: 120%", "", "at most 100%"},
		{"max-cost-growth: lots", "", "needs a percentage"},
		{"max-cost-growth: -5%", "", "needs a percentage"},
		{"no-failures: yes", "", "takes no value"},
		{"no-flakes", "", `unknown rule "no-flakes"`},
	}
	for _, c := range cases {
		p, err := ParsePolicy(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one saying %q", c.in, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.in, err)
		case p.String() != c.want:
			t.Errorf("%q reads as %q, want %q", c.in, p.String(), c.want)
		}
	}
}

func kase(scenario, provider, status string, cost float64, ms int64) evalresults.Case {
	c := evalresults.Case{Scenario: scenario, Provider: provider, Region: "default", Status: status, CostUSD: cost, DurationMS: ms, InputTokens: 100, OutputTokens: 20, Measured: 1}
	switch status {
	case evalresults.Passed:
		c.Runs, c.RunsPassed = 1, 1
	case evalresults.Failed:
		c.Runs, c.Why, c.Message = 1, evalresults.WhyAssertions, "content_includes: missing"
	}
	return c
}

func summary(cs ...evalresults.Case) *evalresults.Summary {
	s := &evalresults.Summary{Cases: cs}
	for _, c := range cs {
		t := &s.Totals
		t.Cases++
		switch c.Status {
		case evalresults.Passed:
			t.Passed++
		case evalresults.Failed:
			t.Failed++
		default:
			t.Skipped++
		}
		t.Runs += c.Runs
		t.RunsPassed += c.RunsPassed
		t.CostUSD += c.CostUSD
	}
	return s
}

func TestCompare(t *testing.T) {
	base := summary(kase("greet", "mini", "passed", 0.010, 1000), kase("refund", "mini", "passed", 0.010, 1000),
		kase("escalate", "mini", "failed", 0.010, 1000), kase("gone", "mini", "passed", 0.5, 1000), kase("flaky", "mini", "failed", 0.01, 1000))
	now := summary(kase("greet", "mini", "passed", 0.012, 1500), kase("refund", "mini", "failed", 0.010, 1000),
		kase("escalate", "mini", "passed", 0.010, 500), kase("new", "mini", "failed", 9, 1000), kase("flaky", "mini", "failed", 0.01, 1000))
	d := Compare(now, base)
	names := func(cs []Change) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Now.Scenario)
		}
		return strings.Join(out, ",")
	}
	if got := names(d.NewlyFailing); got != "refund" {
		t.Errorf("newly failing %q", got)
	}
	if got := names(d.Fixed); got != "escalate" {
		t.Errorf("fixed %q", got)
	}
	if got := names(d.StillFailing); got != "flaky" {
		t.Errorf("still failing %q", got)
	}
	if len(d.Added) != 1 || d.Added[0].Scenario != "new" || len(d.Removed) != 1 || d.Removed[0].Scenario != "gone" {
		t.Errorf("added %v removed %v", d.Added, d.Removed)
	}
	// Like for like: the new case's $9 and the removed one's $0.50 are not
	// in the cost comparison.
	if g, _ := Growth(d.CostUSD, d.BaseCostUSD); g < 0.049 || g > 0.051 {
		t.Errorf("cost growth %v (%.4f → %.4f), want 5%%", g, d.BaseCostUSD, d.CostUSD)
	}
	if d.BaseDurationMS != 4000 || d.DurationMS != 4000 {
		t.Errorf("durations %d → %d", d.BaseDurationMS, d.DurationMS)
	}
}

func TestEvaluateEachRule(t *testing.T) {
	base := summary(kase("greet", "mini", "passed", 0.010, 1000), kase("refund", "mini", "passed", 0.010, 1000), kase("escalate", "mini", "failed", 0.01, 1000))
	regressed := summary(kase("greet", "mini", "passed", 0.010, 1000), kase("refund", "mini", "failed", 0.010, 1000), kase("escalate", "mini", "failed", 0.01, 1000))
	costly := summary(kase("greet", "mini", "passed", 0.030, 1000), kase("refund", "mini", "passed", 0.010, 1000), kase("escalate", "mini", "passed", 0.01, 1000))
	knownFailure := summary(kase("greet", "mini", "passed", 0.010, 1000), kase("refund", "mini", "passed", 0.010, 1000), kase("escalate", "mini", "failed", 0.01, 1000))
	skippedAll := summary(kase("greet", "mini", "skipped", 0, 0))
	renamed := summary(kase("greet", "mini-2", "passed", 0.010, 1000), kase("refund", "mini-2", "failed", 0.010, 1000))
	partly := summary(kase("greet", "mini", "passed", 0.010, 1000), kase("refund", "mini-2", "failed", 0.010, 1000))
	free := summary(kase("greet", "mini", "passed", 0, 1000), kase("refund", "mini", "passed", 0, 1000), kase("escalate", "mini", "passed", 0, 1000))
	cases := []struct {
		name, policy string
		now          *evalresults.Summary
		base         *evalresults.Summary
		rules        string
		cases        string
	}{
		{"any failure", "no-failures", knownFailure, base, "no-failures", "escalate · mini · default"},
		{"a known failure is no regression", "no-regressions", knownFailure, base, "", ""},
		{"a regression", "no-regressions", regressed, base, "no-regressions", "refund · mini · default"},
		{"no baseline: nothing to regress from", "no-regressions", regressed, nil, "", ""},
		{"pass rate under", "min-pass-rate: 70%", regressed, nil, "min-pass-rate", "refund · mini · default; escalate · mini · default"},
		{"pass rate at the threshold", "min-pass-rate: 66.6%", knownFailure, nil, "", ""},
		{"cost growth over", "max-cost-growth: 20%", costly, base, "max-cost-growth", "greet · mini · default (+$0.0200)"},
		{"cost growth under", "max-cost-growth: 200%", costly, base, "", ""},
		// From a baseline that cost nothing (a local or unpriced model)
		// any cost is growth over every percentage.
		{"cost growth from nothing", "max-cost-growth: 20%", costly, free, "max-cost-growth", "greet · mini · default (+$0.0300); refund · mini · default (+$0.0100); escalate · mini · default (+$0.0100)"},
		{"nothing, as before", "max-cost-growth: 0%", free, free, "", ""},
		{"several rules", "no-failures, no-regressions", regressed, base, "no-failures,no-regressions", ""},
		{"nothing ran", "no-regressions", skippedAll, nil, "nothing-ran", ""},
		// Every case renamed (a provider id changed): a regression among
		// them would pass a comparison of nothing.
		{"nothing compared", "no-regressions", renamed, base, "nothing-compared", "greet · mini · default; refund · mini · default; escalate · mini · default"},
		{"nothing compared, cost", "max-cost-growth: 20%", renamed, base, "nothing-compared", ""},
		{"nothing compared, failures only", "no-failures", renamed, base, "no-failures", ""},
		{"some compared", "no-regressions", partly, base, "", ""},
		{"an empty baseline compares nothing, blocks nothing", "no-regressions", renamed, summary(), "", ""},
		{"none blocks nothing", "none", skippedAll, nil, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePolicy(c.policy)
			if err != nil {
				t.Fatal(err)
			}
			var d *Delta
			if c.base != nil {
				d = Compare(c.now, c.base)
			}
			blocks := p.Evaluate(c.now, d)
			var rules []string
			for _, b := range blocks {
				rules = append(rules, b.Rule)
				if b.Message == "" {
					t.Errorf("%s: no message", b.Rule)
				}
			}
			if got := strings.Join(rules, ","); got != c.rules {
				t.Fatalf("blocks %q, want %q (%v)", got, c.rules, blocks)
			}
			if c.cases != "" && strings.Join(blocks[0].Cases, "; ") != c.cases {
				t.Errorf("cases %q, want %q", strings.Join(blocks[0].Cases, "; "), c.cases)
			}
		})
	}
}

func TestBaselineRoundTrip(t *testing.T) {
	b := &Baseline{Commit: "abc", PackChecksum: "sha256:1", Policy: "no-failures", Override: &Override{By: "alice", Reason: "hotfix", Blocked: []string{"x"}},
		Results: *summary(kase("greet", "mini", "passed", 0.01, 1))}
	raw, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBaseline(raw)
	if err != nil || got.Commit != "abc" || got.Override.By != "alice" || len(got.Results.Cases) != 1 || got.Version != BaselineVersion {
		t.Fatalf("%+v %v", got, err)
	}
	if b, err := DecodeBaseline(nil); b != nil || err != nil {
		t.Errorf("empty: %v %v", b, err)
	}
	if _, err := DecodeBaseline([]byte("{")); err == nil {
		t.Error("a damaged baseline was read")
	}
	if _, err := DecodeBaseline([]byte(`{"version": 9}`)); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("a newer baseline: %v", err)
	}
}
