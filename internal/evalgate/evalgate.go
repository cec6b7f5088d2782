// Package evalgate compares evaluation results with a baseline (the
// results recorded when the deployed pack was applied) and decides, by a
// policy, whether they block a deploy. It knows nothing of where results
// come from (internal/evalresults) or where the baseline is kept (beside
// the state, internal/state).
package evalgate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/evalresults"
)

// FileName is the baseline's file beside the state (the state branch's
// target folder, the state artifact) and the plan artifact's results
// summary: a public file name.
const FileName = "evaluations.json"

// Baseline is the evaluation recorded at an apply: what the next pull
// request is compared with.
type Baseline struct {
	Version int `json:"version"`
	// Commit is the commit applied, PlanID the plan, RunID the apply's run.
	Commit       string `json:"applied_commit,omitempty"`
	PlanID       string `json:"plan_id,omitempty"`
	RunID        int64  `json:"run_id,omitempty"`
	PackChecksum string `json:"pack_checksum"`
	RecordedAt   string `json:"recorded_at,omitempty"`
	// Policy is the policy the apply was gated by; Override, when set,
	// says who let it through a block, and why.
	Policy   string              `json:"policy"`
	Override *Override           `json:"override,omitempty"`
	Results  evalresults.Summary `json:"results"`
}

// Override is a gate overridden: who, why, and what it blocked.
type Override struct {
	By      string   `json:"by"`
	Reason  string   `json:"reason"`
	Blocked []string `json:"blocked"`
}

// BaselineVersion is the newest baseline format this version writes.
const BaselineVersion = 1

// Encode is the baseline's file content.
func (b *Baseline) Encode() ([]byte, error) {
	b.Version = BaselineVersion
	return json.MarshalIndent(b, "", "  ")
}

// ErrBadBaseline is matched when the recorded baseline cannot be read.
var ErrBadBaseline = errors.New("the recorded evaluation baseline is not readable")

// DecodeBaseline reads a baseline file; nil, nil for none.
func DecodeBaseline(raw []byte) (*Baseline, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var b Baseline
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBaseline, err)
	}
	if b.Version > BaselineVersion {
		return nil, fmt.Errorf("%w: it is version %d; this action reads up to %d", ErrBadBaseline, b.Version, BaselineVersion)
	}
	return &b, nil
}

// Change is a case in both the results and the baseline.
type Change struct {
	Now, Base evalresults.Case
}

// Delta is how results differ from the baseline.
type Delta struct {
	// NewlyFailing passed in the baseline and fail now; Fixed the
	// reverse; StillFailing failed in both.
	NewlyFailing, Fixed, StillFailing []Change
	// Same are the other cases in both (passed or skipped in either).
	Same []Change
	// Added are cases the baseline has not; Removed cases it has that
	// did not run now.
	Added, Removed []evalresults.Case
	// Cost and duration of the cases both ran (like for like), and the
	// baseline's of the same cases.
	CostUSD, BaseCostUSD       float64
	DurationMS, BaseDurationMS int64
	Tokens, BaseTokens         int
	PassRate, BasePassRate     float64
}

// compared is how many cases are in both.
func (d *Delta) compared() int {
	return len(d.NewlyFailing) + len(d.Fixed) + len(d.StillFailing) + len(d.Same)
}

// Compare is how now differs from base.
func Compare(now, base *evalresults.Summary) *Delta {
	d := &Delta{PassRate: now.Totals.PassRate(), BasePassRate: base.Totals.PassRate()}
	old := map[string]evalresults.Case{}
	for _, c := range base.Cases {
		old[c.Key()] = c
	}
	seen := map[string]bool{}
	for _, c := range now.Cases {
		b, ok := old[c.Key()]
		if !ok {
			d.Added = append(d.Added, c)
			continue
		}
		seen[c.Key()] = true
		ch := Change{Now: c, Base: b}
		switch {
		case c.Status == evalresults.Failed && b.Status == evalresults.Passed:
			d.NewlyFailing = append(d.NewlyFailing, ch)
		case c.Status == evalresults.Passed && b.Status == evalresults.Failed:
			d.Fixed = append(d.Fixed, ch)
		case c.Status == evalresults.Failed && b.Status == evalresults.Failed:
			d.StillFailing = append(d.StillFailing, ch)
		default:
			d.Same = append(d.Same, ch)
		}
		// Per run, so a case run with more trials is not "costlier".
		cc, ct, cd, ok1 := c.PerRun()
		bc, bt, bd, ok2 := b.PerRun()
		if ok1 && ok2 {
			d.CostUSD, d.BaseCostUSD = d.CostUSD+cc, d.BaseCostUSD+bc
			d.DurationMS, d.BaseDurationMS = d.DurationMS+cd, d.BaseDurationMS+bd
			d.Tokens, d.BaseTokens = d.Tokens+ct, d.BaseTokens+bt
		}
	}
	for _, c := range base.Cases {
		if !seen[c.Key()] {
			d.Removed = append(d.Removed, c)
		}
	}
	return d
}

// Growth is (now-base)/base; ok is false when base is 0 (growth from
// nothing has no percentage: max-cost-growth blocks any).
func Growth(now, base float64) (float64, bool) {
	if base <= 0 {
		return 0, false
	}
	return (now - base) / base, true
}

// Rule names: the policy input's words, and the blocks' names.
const (
	RuleNoFailures    = "no-failures"
	RuleMinPassRate   = "min-pass-rate"
	RuleNoRegressions = "no-regressions"
	RuleMaxCostGrowth = "max-cost-growth"
	RuleNone          = "none"
	// RuleNothingRan is the block of results where every case was
	// skipped, under any policy but none.
	RuleNothingRan = "nothing-ran"
	// RuleNothingCompared is the block of results that share no case
	// with the baseline, under no-regressions or max-cost-growth: every
	// scenario, provider or region renamed, those rules compare nothing
	// and would let any regression or cost through unseen.
	RuleNothingCompared = "nothing-compared"
)

// DefaultPolicy is the evaluation-policy input's default.
const DefaultPolicy = RuleNoFailures

// Policy says what blocks an apply.
type Policy struct {
	NoFailures    bool
	NoRegressions bool
	// MinPassRate blocks a pass rate under it (0: off).
	MinPassRate float64
	// MaxCostGrowth blocks cost growth over it (a fraction; negative:
	// off).
	MaxCostGrowth float64
}

// ErrPolicy is matched by a policy input that cannot be read.
var ErrPolicy = errors.New("evaluation-policy is not valid")

// ParsePolicy reads the evaluation-policy input: rules separated by
// commas or line breaks; "none" alone blocks nothing.
//
//	no-failures, no-regressions, min-pass-rate: 95%, max-cost-growth: 20%
func ParsePolicy(s string) (Policy, error) {
	p := Policy{MaxCostGrowth: -1}
	if strings.TrimSpace(s) == "" {
		s = DefaultPolicy
	}
	items := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' })
	for _, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, hasVal := strings.Cut(item, ":")
		if !hasVal {
			name, val, hasVal = strings.Cut(item, "=")
		}
		name, val = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(val)
		switch name {
		case RuleNone:
			if len(items) > 1 {
				return p, fmt.Errorf("%w: none cannot be combined with other rules (%q)", ErrPolicy, s)
			}
			return Policy{MaxCostGrowth: -1}, nil
		case RuleNoFailures, RuleNoRegressions:
			if hasVal {
				return p, fmt.Errorf("%w: %s takes no value (%q)", ErrPolicy, name, item)
			}
			if name == RuleNoFailures {
				p.NoFailures = true
			} else {
				p.NoRegressions = true
			}
		case RuleMinPassRate, RuleMaxCostGrowth:
			f, err := fraction(val)
			if err != nil || !hasVal {
				return p, fmt.Errorf("%w: %s needs a percentage such as %s: 20%%, not %q", ErrPolicy, name, name, item)
			}
			if name == RuleMinPassRate {
				if f <= 0 || f > 1 {
					return p, fmt.Errorf("%w: min-pass-rate must be above 0%% and at most 100%%, not %q", ErrPolicy, val)
				}
				p.MinPassRate = f
			} else {
				p.MaxCostGrowth = f
			}
		default:
			return p, fmt.Errorf("%w: unknown rule %q; the rules are no-failures, no-regressions, min-pass-rate: <percent>, max-cost-growth: <percent>, or none", ErrPolicy, name)
		}
	}
	return p, nil
}

// fraction reads "95%" or "0.95".
func fraction(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("not a percentage")
	}
	if pct || f > 1 {
		f /= 100
	}
	return f, nil
}

// None is the policy that blocks nothing.
func (p Policy) None() bool {
	return !p.NoFailures && !p.NoRegressions && p.MinPassRate == 0 && p.MaxCostGrowth < 0
}

// String is the policy as the input writes it.
func (p Policy) String() string {
	var parts []string
	if p.NoFailures {
		parts = append(parts, RuleNoFailures)
	}
	if p.NoRegressions {
		parts = append(parts, RuleNoRegressions)
	}
	if p.MinPassRate > 0 {
		parts = append(parts, RuleMinPassRate+": "+Percent(p.MinPassRate))
	}
	if p.MaxCostGrowth >= 0 {
		parts = append(parts, RuleMaxCostGrowth+": "+Percent(p.MaxCostGrowth))
	}
	if len(parts) == 0 {
		return RuleNone
	}
	return strings.Join(parts, ", ")
}

// Percent is f as a percentage: "95%", "87.5%".
func Percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}

// Block is one rule the results break, with the cases that break it.
type Block struct {
	Rule    string
	Message string
	Cases   []string // case labels
}

// String is the block as one line.
func (b Block) String() string {
	s := b.Rule + ": " + b.Message
	if len(b.Cases) > 0 {
		s += ": " + listCases(b.Cases, 10)
	}
	return s
}

func listCases(cs []string, n int) string {
	if len(cs) <= n {
		return strings.Join(cs, "; ")
	}
	return strings.Join(cs[:n], "; ") + fmt.Sprintf("; and %d more", len(cs)-n)
}

// Evaluate is every rule of p that now breaks (d nil: no baseline, so
// the rules that compare have nothing to compare with).
func (p Policy) Evaluate(now *evalresults.Summary, d *Delta) []Block {
	if p.None() {
		return nil
	}
	t := now.Totals
	if t.Runs == 0 {
		return []Block{{Rule: RuleNothingRan, Message: fmt.Sprintf("no evaluation ran: all %d cases were skipped", t.Cases)}}
	}
	var out []Block
	failed := failedLabels(now)
	if p.NoFailures && t.Failed > 0 {
		out = append(out, Block{Rule: RuleNoFailures, Message: plural(t.Failed, "case fails", "cases fail"), Cases: failed})
	}
	if p.MinPassRate > 0 && float64(t.RunsPassed) < p.MinPassRate*float64(t.Runs)-1e-9 {
		out = append(out, Block{Rule: RuleMinPassRate, Cases: failed,
			Message: fmt.Sprintf("the pass rate is %s (%d of %d runs), under %s", Percent(t.PassRate()), t.RunsPassed, t.Runs, Percent(p.MinPassRate))})
	}
	if (p.NoRegressions || p.MaxCostGrowth >= 0) && d != nil && d.compared() == 0 && len(d.Removed) > 0 {
		var cs []string
		for _, c := range d.Removed {
			cs = append(cs, c.Label())
		}
		out = append(out, Block{Rule: RuleNothingCompared, Cases: cs,
			Message: fmt.Sprintf("none of the baseline's %s ran now (%s new), so the rules that compare with it compared nothing; "+
				"were scenarios, providers or regions renamed? The baseline's", plural(len(d.Removed), "case", "cases"), plural(len(d.Added), "case is", "cases are"))})
	}
	if p.NoRegressions && d != nil && len(d.NewlyFailing) > 0 {
		var cs []string
		for _, c := range d.NewlyFailing {
			cs = append(cs, c.Now.Label())
		}
		out = append(out, Block{Rule: RuleNoRegressions, Cases: cs,
			Message: plural(len(cs), "case passed", "cases passed") + " in the baseline and fail" + map[bool]string{true: "s", false: ""}[len(cs) == 1] + " now"})
	}
	if p.MaxCostGrowth >= 0 && d != nil {
		switch g, ok := Growth(d.CostUSD, d.BaseCostUSD); {
		case ok && g > p.MaxCostGrowth+1e-9:
			out = append(out, Block{Rule: RuleMaxCostGrowth, Cases: costliest(d, 5),
				Message: fmt.Sprintf("the cost per run of the cases both ran grew %s ($%.4f → $%.4f), over %s", Percent(g), d.BaseCostUSD, d.CostUSD, Percent(p.MaxCostGrowth))})
		case !ok && d.CostUSD > 0:
			// From a baseline that cost nothing (a local or unpriced
			// model), any cost is growth past every percentage.
			out = append(out, Block{Rule: RuleMaxCostGrowth, Cases: costliest(d, 5),
				Message: fmt.Sprintf("the cost per run of the cases both ran grew from nothing in the baseline to $%.6f, over any percentage", d.CostUSD)})
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func failedLabels(s *evalresults.Summary) []string {
	var out []string
	for _, c := range s.Cases {
		if c.Status == evalresults.Failed {
			out = append(out, c.Label())
		}
	}
	return out
}

// costliest are the cases whose cost per run grew most.
func costliest(d *Delta, n int) []string {
	type grown struct {
		label string
		by    float64
	}
	var gs []grown
	for _, set := range [][]Change{d.NewlyFailing, d.Fixed, d.StillFailing, d.Same} {
		for _, c := range set {
			now, _, _, ok1 := c.Now.PerRun()
			base, _, _, ok2 := c.Base.PerRun()
			if !ok1 || !ok2 {
				continue
			}
			by := now - base
			if by > 0 {
				gs = append(gs, grown{c.Now.Label(), by})
			}
		}
	}
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].by > gs[j].by })
	var out []string
	for i := 0; i < len(gs) && i < n; i++ {
		out = append(out, fmt.Sprintf("%s (+$%.4f)", gs[i].label, gs[i].by))
	}
	return out
}
