// Package evaltest writes evaluation results as promptarena run writes
// them, from the results it wrote for this repository's tests
// (internal/evalresults/testdata/promptarena): a stand-in for the
// evaluation step of a job, shared by tests, the demo and the examples'
// harness. It writes files; it never runs promptarena.
package evaltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// Fixtures: promptarena's results for the example pack's prompts.
const (
	// Base passes refund-limit and every trial: the baseline.
	Base = "base"
	// PR regresses refund-limit and the escalation trials, and costs more.
	PR = "pr"
	// OtherPack ran another pack's prompts.
	OtherPack = "otherpack"
)

// Dir is where a fixture's files are.
func Dir(fixture string) string {
	return filepath.Join(deploytest.RepoRoot(), "internal", "evalresults", "testdata", "promptarena", fixture)
}

// Options shape what Write writes.
type Options struct {
	// Keep, when set, keeps only the runs it accepts; index.json then
	// lists them alone, as promptarena run writes it when filtered.
	Keep func(scenario, provider, region string) bool
	// Replace rewrites text in every file, in order (old, new pairs): a
	// prompt edited the way the pack under test edits it, so that the runs'
	// system prompts are that pack's.
	Replace []string
}

// Write writes the fixture's results into dst (made empty first), as the
// evaluation step of a job writes them after the checkout.
func Write(dst, fixture string, o Options) error {
	src := Dir(fixture)
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(src, "index.json"))
	if err != nil {
		return err
	}
	var index map[string]any
	if err := json.Unmarshal(raw, &index); err != nil {
		return err
	}
	ids, _ := index["run_ids"].([]any)
	var kept []any
	passed, failed := 0, 0
	for _, v := range ids {
		id, _ := v.(string)
		b, err := os.ReadFile(filepath.Join(src, id+".json"))
		if err != nil {
			return err
		}
		var run struct {
			ScenarioID, ProviderID, Region, Error string
			Skipped                               bool
		}
		if err := json.Unmarshal(b, &run); err != nil {
			return err
		}
		if o.Keep != nil && !o.Keep(run.ScenarioID, run.ProviderID, run.Region) {
			continue
		}
		kept = append(kept, id)
		switch {
		case run.Skipped:
		case run.Error == "":
			passed++
		default:
			failed++
		}
		if err := os.WriteFile(filepath.Join(dst, id+".json"), replace(b, o.Replace), 0o600); err != nil {
			return err
		}
	}
	if len(kept) == 0 {
		return errors.New("evaltest: the filter keeps no run")
	}
	if o.Keep != nil {
		// promptarena's JSON repository writes its summary map with
		// json.MarshalIndent: keys sorted, two spaces.
		index["run_ids"], index["total_runs"], index["successful"], index["errors"] = kept, len(kept), passed, failed
		if raw, err = json.MarshalIndent(index, "", "  "); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dst, "index.json"), replace(raw, o.Replace), 0o600); err != nil {
		return err
	}
	if o.Keep == nil { // the JUnit of the whole run; a filtered run's would differ
		b, err := os.ReadFile(filepath.Join(src, "junit.xml"))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, "junit.xml"), replace(b, o.Replace), 0o644)
	}
	return nil
}

func replace(b []byte, pairs []string) []byte {
	for i := 0; i+1 < len(pairs); i += 2 {
		// JSON escapes <, > and & in strings; the pairs are plain prompt text.
		old, neu := jsonText(pairs[i]), jsonText(pairs[i+1])
		b = bytes.ReplaceAll(b, []byte(old), []byte(neu))
	}
	return b
}

// jsonText is s as it appears inside a JSON string (without the quotes).
func jsonText(s string) string {
	q, _ := json.Marshal(s)
	return strings.TrimSuffix(strings.TrimPrefix(string(q), `"`), `"`)
}

// MainUS keeps one provider in one region: a short story for the demo.
func MainUS(scenario, provider, region string) bool {
	return provider == "openai-mini" && region == "us"
}

// Only keeps the runs of these scenarios that keep also keeps.
func Only(keep func(s, p, r string) bool, scenarios ...string) func(s, p, r string) bool {
	return func(s, p, r string) bool {
		for _, x := range scenarios {
			if s == x {
				return keep == nil || keep(s, p, r)
			}
		}
		return false
	}
}

// The variables the fixtures' arena project gave its prompts.
var fixtureVars = map[string]string{"company": "Acme", "max_refund": "50"}

// ForPack is what promptarena would write evaluating pack, in this
// stand-in's model of the model: every fixture run's system prompt is the
// pack's prompt rendered as promptarena renders it (each {{variable}}
// replaced), and the refund scenario passes while the refund prompt still
// says "Never promise a refund above" (Base), and regresses once it does
// not (PR). It returns the fixture and the replacements for Write.
func ForPack(pack []byte) (fixture string, replace []string, err error) {
	var p, example struct {
		Prompts map[string]struct {
			SystemTemplate string `json:"system_template"`
		} `json:"prompts"`
	}
	if err := json.Unmarshal(pack, &p); err != nil {
		return "", nil, fmt.Errorf("evaltest: the pack is not JSON: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(), "testdata", "example", "support-bot.pack.json"))
	if err != nil {
		return "", nil, err
	}
	if err := json.Unmarshal(raw, &example); err != nil {
		return "", nil, err
	}
	for id, ex := range example.Prompts {
		now, ok := p.Prompts[id]
		if !ok {
			return "", nil, fmt.Errorf("evaltest: the pack has no %s prompt, which the evaluation's scenarios use", id)
		}
		if now.SystemTemplate != ex.SystemTemplate {
			replace = append(replace, render(ex.SystemTemplate), render(now.SystemTemplate))
		}
	}
	fixture = Base
	if !strings.Contains(p.Prompts["refund"].SystemTemplate, "Never promise a refund above") {
		fixture = PR
	}
	return fixture, replace, nil
}

func render(t string) string {
	for k, v := range fixtureVars {
		t = strings.ReplaceAll(t, "{{"+k+"}}", v)
	}
	return t
}
