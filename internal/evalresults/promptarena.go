package evalresults

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
)

// paIndex is the part of promptarena's index.json read here (its JSON
// repository's "legacy" summary: total_runs, successful, errors, run_ids,
// ... prompt_packs).
type paIndex struct {
	TotalRuns   *int     `json:"total_runs"`
	RunIDs      []string `json:"run_ids"`
	PromptPacks []string `json:"prompt_packs"`
}

// paRun is the part of a run file (promptarena's engine.RunResult) read
// here. Field names are RunResult's JSON names.
type paRun struct {
	RunID      string         `json:"RunID"`
	PromptPack string         `json:"PromptPack"`
	Region     string         `json:"Region"`
	ScenarioID string         `json:"ScenarioID"`
	ProviderID string         `json:"ProviderID"`
	Params     map[string]any `json:"Params"`
	Messages   []paMessage    `json:"Messages"`
	Cost       struct {
		InputTokens  int     `json:"input_tokens"`
		OutputTokens int     `json:"output_tokens"`
		TotalCost    float64 `json:"total_cost_usd"`
	} `json:"Cost"`
	Violations []struct {
		Type   string `json:"type"`
		Tool   string `json:"tool"`
		Detail string `json:"detail"`
	} `json:"Violations"`
	Duration   int64  `json:"Duration"` // time.Duration: nanoseconds
	Error      string `json:"Error"`
	Skipped    bool   `json:"Skipped"`
	SkipReason string `json:"SkipReason"`
	// ConversationAssertions is promptarena's AssertionsSummary.
	ConversationAssertions struct {
		Failed  int  `json:"failed"`
		Passed  bool `json:"passed"`
		Total   int  `json:"total"`
		Results []struct {
			Type    string `json:"type"`
			Passed  bool   `json:"passed"`
			Message string `json:"message"`
		} `json:"results"`
	} `json:"conversation_assertions"`
	TrialResults *struct {
		TrialCount int     `json:"trial_count"`
		PassRate   float64 `json:"pass_rate"`
	} `json:"trial_results"`
}

type paMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Parts   []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"parts"`
	Meta map[string]any `json:"meta"`
}

// text is the message's text: its content, else its text parts.
func (m *paMessage) text() string {
	if strings.TrimSpace(m.Content) != "" {
		return m.Content
	}
	var parts []string
	for _, p := range m.Parts {
		if p.Type == "text" && p.Text != "" {
			parts = append(parts, p.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// promptarena reads index.json and the run files it lists, in dir.
func (r *reader) promptarena(dir, indexPath string) (*Results, error) {
	raw, err := r.file(indexPath)
	if err != nil {
		return nil, err
	}
	name := r.rel(indexPath)
	if err := checkShape(name, raw, false); err != nil {
		return nil, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("%w: %s is not JSON (%v)", ErrInvalid, name, err)
	}
	if _, ok := probe["run_ids"]; !ok {
		if _, ok := probe["total_runs"]; !ok {
			return nil, fmt.Errorf("%w: %s has neither run_ids nor total_runs: it is not the index.json promptarena run writes", ErrForeign, name)
		}
	}
	var idx paIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
	}
	if idx.TotalRuns != nil && *idx.TotalRuns != len(idx.RunIDs) {
		return nil, fmt.Errorf("%w: %s says total_runs %d but lists %d run_ids", ErrInvalid, name, *idx.TotalRuns, len(idx.RunIDs))
	}
	if len(idx.RunIDs) == 0 {
		return nil, fmt.Errorf("%w: %s lists no run (total_runs 0): promptarena ran nothing; check its --scenario, --provider and --region filters", ErrEmpty, name)
	}
	if len(idx.RunIDs) > MaxRuns {
		return nil, fmt.Errorf("%w: %s lists %d runs, more than %d", ErrInvalid, name, len(idx.RunIDs), MaxRuns)
	}
	res := &Results{Summary: Summary{Format: FormatPromptArena}}
	var cs cases
	seen := map[string]bool{}
	for _, id := range idx.RunIDs {
		if !safeRunID(id) {
			return nil, fmt.Errorf("%w: %s lists the run id %q, which is not a file name", ErrInvalid, name, id)
		}
		if seen[id] {
			return nil, fmt.Errorf("%w: %s lists the run id %q twice", ErrInvalid, name, id)
		}
		seen[id] = true
		c, ident, err := r.paRunFile(filepath.Join(dir, id+".json"), id)
		if err != nil {
			return nil, err
		}
		cs.add(c)
		if ident.PromptPack == "" && len(idx.PromptPacks) == 1 {
			ident.PromptPack = idx.PromptPacks[0]
		}
		res.Identities = append(res.Identities, ident)
	}
	for _, pp := range idx.PromptPacks {
		if pp != "" {
			res.Identities = append(res.Identities, Identity{RunID: "index.json", PromptPack: pp})
		}
	}
	res.Cases = cs.list
	return res, nil
}

// safeRunID: run ids name files in the results folder, so none may leave it.
func safeRunID(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, "/\\\x00") && len(id) <= 255
}

func (r *reader) paRunFile(p, id string) (Case, Identity, error) {
	raw, err := r.file(p)
	if err != nil {
		return Case{}, Identity{}, err
	}
	name := r.rel(p)
	if err := checkShape(name, raw, false); err != nil {
		return Case{}, Identity{}, err
	}
	var run paRun
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&run); err != nil {
		return Case{}, Identity{}, fmt.Errorf("%w: %s is not a promptarena run result (%v)", ErrInvalid, name, err)
	}
	switch {
	case run.RunID == "":
		return Case{}, Identity{}, fmt.Errorf("%w: %s has no RunID: it is not a promptarena run result", ErrForeign, name)
	case run.RunID != id:
		return Case{}, Identity{}, fmt.Errorf("%w: %s holds the run %q, not %q as index.json says", ErrInvalid, name, run.RunID, id)
	case run.ScenarioID == "" || run.ProviderID == "":
		return Case{}, Identity{}, fmt.Errorf("%w: the run %s in %s has no ScenarioID or ProviderID (promptarena writes both)", ErrInvalid, id, name)
	}
	if err := checkMeasures(name, id, run.Cost.TotalCost, run.Cost.InputTokens, run.Cost.OutputTokens, run.Duration); err != nil {
		return Case{}, Identity{}, err
	}
	if tr := run.TrialResults; tr != nil && (tr.PassRate < 0 || tr.PassRate > 1 || tr.TrialCount < 0) {
		return Case{}, Identity{}, fmt.Errorf("%w: %s: the run %s has the trial pass rate %v of %d trials; a pass rate is a fraction from 0 to 1", ErrInvalid, name, id, tr.PassRate, tr.TrialCount)
	}
	if tr := run.TrialResults; tr != nil && tr.TrialCount > MaxTrials {
		// The trials count in the pass rate: 2^62 of them outweighed any
		// number of failing runs under min-pass-rate, and past 2^53 the
		// pass count's conversion to int overflowed (negative on amd64).
		return Case{}, Identity{}, fmt.Errorf("%w: %s: the run %s has %d trials, more than %d, which no evaluation runs", ErrInvalid, name, id, tr.TrialCount, MaxTrials)
	}
	c := Case{Scenario: run.ScenarioID, Provider: run.ProviderID, Region: run.Region, RunIDs: []string{id}, Measured: 1,
		CostUSD: run.Cost.TotalCost, InputTokens: run.Cost.InputTokens, OutputTokens: run.Cost.OutputTokens,
		DurationMS: run.Duration / 1e6}
	switch {
	case run.Skipped:
		c.Status, c.Message = Skipped, firstLine(run.SkipReason, 300)
	default:
		c.Runs, c.RunsPassed, c.Status = 1, 1, Passed
		if why, msg := run.failure(); why != "" {
			c.RunsPassed, c.Status, c.Why, c.Message = 0, Failed, why, firstLine(msg, 300)
		}
		if tr := run.TrialResults; tr != nil && tr.TrialCount > 1 {
			c.Runs = tr.TrialCount
			c.RunsPassed = int(math.Round(tr.PassRate * float64(tr.TrialCount)))
			if c.Status == Failed {
				// This file is the first trial, and it failed: promptarena's
				// pass_rate does not count guardrail violations or turn
				// assertions, so it can say every trial passed.
				c.RunsPassed = min(c.RunsPassed, c.Runs-1)
			}
			if c.RunsPassed < c.Runs && c.Status == Passed {
				c.Status, c.Why = Failed, WhyTrials
				c.Message = fmt.Sprintf("%d of %d trials passed", c.RunsPassed, c.Runs)
			}
		}
	}
	ident := Identity{RunID: id, Scenario: run.ScenarioID, Provider: run.ProviderID, PromptPack: run.PromptPack}
	if sp, ok := run.Params["system_prompt"].(string); ok && strings.TrimSpace(sp) != "" {
		ident.SystemPrompts = append(ident.SystemPrompts, sp)
	}
	for _, m := range run.Messages {
		if t := m.text(); m.Role == "system" && strings.TrimSpace(t) != "" {
			ident.SystemPrompts = append(ident.SystemPrompts, t)
		}
	}
	return c, ident, nil
}

// failure decides a run's outcome as promptarena's results.RunPassed does
// (its one predicate for reports): an error fails it; so does a failed
// turn or conversation assertion; guardrail violations fail it only when
// no assertion is there to expect them. It returns why and the first
// failure's text; "" when it passed.
func (run *paRun) failure() (why, msg string) {
	has, failedMsg, failed := run.assertions()
	switch {
	case has && failed:
		// promptarena also sets Error ("validation failed: [assertion 0
		// ...]") for a failed turn assertion: the assertion says more.
		return WhyAssertions, failedMsg
	case run.Error != "":
		return WhyError, run.Error
	}
	if len(run.Violations) > 0 && !has {
		v := run.Violations[0]
		text := v.Type
		if v.Tool != "" {
			text += " (" + v.Tool + ")"
		}
		if v.Detail != "" {
			text += ": " + v.Detail
		}
		return WhyViolations, fmt.Sprintf("%d guardrail violation(s) no assertion expected; %s", len(run.Violations), text)
	}
	return "", ""
}

// assertions says whether the run has assertions, and whether one failed
// (with its message): conversation assertions, and each turn's
// meta.assertions and meta.eval_results.
func (run *paRun) assertions() (has bool, msg string, failed bool) {
	ca := run.ConversationAssertions
	if ca.Total > 0 {
		has = true
		if !ca.Passed {
			failed = true
			msg = "conversation assertion failed"
			for _, r := range ca.Results {
				if !r.Passed {
					msg = assertionText(r.Type, r.Message)
					break
				}
			}
		}
	}
	turn := 0
	for _, m := range run.Messages {
		if m.Role == "assistant" {
			turn++
		}
		if m.Meta == nil {
			continue
		}
		if a, ok := m.Meta["assertions"].(map[string]any); ok {
			has = true
			if p, ok := a["passed"].(bool); ok && !p && !failed {
				failed, msg = true, fmt.Sprintf("turn %d: an assertion failed", turn)
				if rs, ok := a["results"].([]any); ok {
					for _, r := range rs {
						rm, _ := r.(map[string]any)
						if passed, _ := rm["passed"].(bool); rm != nil && !passed {
							t, _ := rm["type"].(string)
							mm, _ := rm["message"].(string)
							msg = fmt.Sprintf("turn %d: %s", turn, assertionText(t, mm))
							break
						}
					}
				}
			}
		}
		if er, ok := m.Meta["eval_results"]; ok {
			has = true
			list, _ := er.([]any)
			for _, e := range list {
				em, _ := e.(map[string]any)
				if v, _ := em["value"].(bool); !v && !failed {
					id, _ := em["eval_id"].(string)
					failed, msg = true, fmt.Sprintf("turn %d: eval %s did not pass", turn, id)
				}
			}
		}
	}
	return has, msg, failed
}

func assertionText(typ, msg string) string {
	switch {
	case typ != "" && msg != "":
		return typ + ": " + msg
	case msg != "":
		return msg
	case typ != "":
		return typ + " failed"
	}
	return "an assertion failed"
}

func gitBlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}
