package workflowtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/evalresults/evaltest"
)

// PromptArenaAction names promptarena's official test action.
const PromptArenaAction = "AltairaLabs/promptarena/.github/actions/promptarena-action"

// PromptArena stands in for promptarena's test action
// (.github/actions/promptarena-action at e90d58d): its inputs and defaults,
// results written where `promptarena run --out <output-dir>` writes them
// (index.json, one file per run, junit.xml), and its outputs computed as
// its outputs.ts computes them from index.json. Instead of running
// promptarena against providers, it writes results promptarena itself
// wrote for the example's prompts (internal/evalresults/evaltest), with
// each run's system prompt rendered from the pack in the checkout, so the
// results are the checkout's: the refund scenario passes while the refund
// prompt says "Never promise a refund above", and regresses once it does
// not (evaltest.ForPack).
var PromptArena = StandIn{
	Inputs: map[string]string{
		"config-file": "", "version": "latest", "scenarios": "", "providers": "", "regions": "", "output-dir": "out",
		"formats": "json,junit", "junit-output": "", "override-providers": "", "fail-on-error": "true", "working-directory": ".",
	},
	Run: func(s *StandInStep) error {
		cfg := s.Inputs["config-file"]
		if cfg == "" {
			return errors.New("Input required and not supplied: config-file")
		}
		wd := filepath.Join(s.Workspace, s.Inputs["working-directory"])
		cfgInfo, err := os.Stat(filepath.Join(wd, cfg))
		if err != nil {
			return fmt.Errorf("failed to load config: %w", err)
		}
		packs, _ := filepath.Glob(filepath.Join(wd, "*.pack.json"))
		if len(packs) != 1 {
			return fmt.Errorf("the stand-in evaluates the project's one *.pack.json; %s holds %d", s.Inputs["working-directory"], len(packs))
		}
		pack, err := os.ReadFile(packs[0])
		if err != nil {
			return err
		}
		fixture, replace, err := evaltest.ForPack(pack)
		if err != nil {
			return err
		}
		out := filepath.Join(wd, s.Inputs["output-dir"])
		if err := evaltest.Write(out, fixture, evaltest.Options{Replace: replace}); err != nil {
			return err
		}
		// A real run takes seconds; the stand-in writes within the same
		// tick of the file system's clock as the checkout (a few ms), so a
		// result could carry the checkout's very time, which the action
		// rightly takes for a file that was already there. Written after
		// it, as promptarena's would be.
		after := cfgInfo.ModTime().Add(10 * time.Millisecond)
		if err := filepath.WalkDir(out, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if fi, err := os.Stat(p); err == nil && !fi.ModTime().After(cfgInfo.ModTime()) {
				return os.Chtimes(p, after, after)
			}
			return nil
		}); err != nil {
			return err
		}
		fmt.Fprintf(s.Log, "Running: promptarena run --config %s --ci --format %s --out %s\n", cfg, s.Inputs["formats"], s.Inputs["output-dir"])

		// outputs.ts: parseIndexJson, setOutputs.
		raw, err := os.ReadFile(filepath.Join(out, "index.json"))
		if err != nil {
			return err
		}
		var idx struct {
			Successful, Errors int
			TotalRuns          int     `json:"total_runs"`
			TotalCost          float64 `json:"total_cost"`
		}
		if err := json.Unmarshal(raw, &idx); err != nil {
			return err
		}
		failed := max(0, idx.TotalRuns-idx.Successful-idx.Errors)
		success := failed == 0 && idx.Errors == 0 && idx.TotalRuns > 0
		// The test action's outputs (not this action's: set through a map).
		outputs := map[string]string{
			"passed": strconv.Itoa(idx.Successful), "failed": strconv.Itoa(failed), "errors": strconv.Itoa(idx.Errors),
			"total": strconv.Itoa(idx.TotalRuns), "total-cost": strconv.FormatFloat(idx.TotalCost, 'f', 6, 64), "success": strconv.FormatBool(success),
		}
		junit := filepath.Join(s.Inputs["working-directory"], s.Inputs["output-dir"], "junit.xml")
		if j := s.Inputs["junit-output"]; j != "" {
			junit = j
		}
		if _, err := os.Stat(filepath.Join(s.Workspace, junit)); !errors.Is(err, fs.ErrNotExist) {
			outputs["junit-path"] = junit
		}
		for k, v := range outputs {
			s.SetOutput(k, v)
		}
		fmt.Fprintf(s.Log, "=== PromptArena Test Results ===\nTotal:  %d\nPassed: %d\nFailed: %d\nErrors: %d\nCost:   $%.6f\n",
			idx.TotalRuns, idx.Successful, failed, idx.Errors, idx.TotalCost)
		if !success {
			msg := fmt.Sprintf("PromptArena tests failed: %d failures, %d errors", failed, idx.Errors)
			if s.Inputs["fail-on-error"] != "false" {
				return errors.New(msg)
			}
			fmt.Fprintf(s.Log, "Warning: %s\n", msg)
		}
		return nil
	},
}
