package run

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/pack"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// verify proves the reviewed plan still holds, in this order: pack,
// environment, config, adapter, prior state. Each failure has its own
// reason and says what to do.
func (s *session) verify(ctx context.Context, res *ApplyResult, prior string) error {
	saved, prov := res.Saved, res.Prov
	checks := []func() error{
		func() error { return s.verifyPack(saved, res) },
		func() error { return s.verifyEnvironment(saved, prov) },
		func() error { return s.verifyConfig(saved) },
		func() error { return s.verifyAdapter(saved, prov, res) },
		func() error { return s.verifyState(ctx, res, prior) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// verifyPack: the pack at the merge commit and the saved pack_json must both
// be the reviewed pack. A pack recompiled with only a new compilation block
// matches by content, and the reviewed bytes are applied.
func (s *session) verifyPack(saved *deploy.SavedPlan, res *ApplyResult) error {
	hint := capital(s.o.Surface.Replan()) + "."
	altered := "The plan artifact was altered after it was made; do not apply it. " + hint
	here := "the pack at this commit"
	if s.o.Surface == surface.CLI {
		altered = "The saved plan (" + deploy.DirName + "/" + PlanFileName + ") was altered after it was made; do not apply it. " + hint
		here = "the pack now"
	}
	reviewedBytes := []byte(saved.Request.PackJSON)
	if got := deploy.ComputePackChecksum(reviewedBytes); got != saved.PackChecksum {
		return failf(ReasonPackMismatch, altered, "the saved plan's pack_json has checksum %s, but the plan says %s", got, saved.PackChecksum)
	}
	// The bytes that would be applied must be a pack the plan job could
	// have accepted: one JSON value, valid UTF-8 (a second value appended
	// would pass a digest of the first).
	reviewed, err := pack.Parse(reviewedBytes)
	if err != nil {
		return failf(ReasonPackMismatch, altered, "the saved plan's pack_json is not a valid pack: %v", err)
	}
	if s.packChecksum == saved.PackChecksum {
		return nil
	}
	if reviewed.ContentDigest() == s.packParsed.ContentDigest() {
		s.setPack(reviewedBytes)
		res.Notes = append(res.Notes, fmt.Sprintf("The pack at this commit (%s) was recompiled since the review; only its compilation block differs, so the reviewed bytes (%s) were applied.",
			short(s.packChecksum, 12), short(saved.PackChecksum, 12)))
		s.packChecksum = saved.PackChecksum
		s.packParsed = reviewed
		return nil
	}
	return failf(ReasonPackMismatch, hint, "%s (%s, %s) is not the pack that was reviewed (%s)", here,
		relTo(s.o.WorkDir, s.packPath), s.packChecksum, saved.PackChecksum)
}

func (s *session) verifyEnvironment(saved *deploy.SavedPlan, prov *Provenance) error {
	if saved.Environment != s.env || (prov.Environment != "" && prov.Environment != s.env) {
		return failf(ReasonEnvMismatch, "Each environment needs its own plan: check "+s.o.Surface.Input("environment")+" of the plan and apply.",
			"the reviewed plan is for %q, this run deploys %q", saved.Environment, s.env)
	}
	// A plan found by its pre-target name may be another project's (same
	// environment, another working-directory or config).
	if prov.ConfigPath != "" {
		if planned := target.New(prov.WorkingDirectory, prov.ConfigPath, s.env); planned.ID() != s.target.ID() {
			return failf(ReasonEnvMismatch, "Each project needs its own plan: check "+s.o.Surface.Name("working-directory")+" and "+s.o.Surface.Name("config")+" of the plan and apply.",
				"the reviewed plan is for %s, this run deploys %s", planned, s.target)
		}
	}
	return nil
}

func (s *session) verifyConfig(saved *deploy.SavedPlan) error {
	if saved.Request.DeployConfig == s.redactedConfig {
		return nil
	}
	return failf(ReasonConfigChanged, "The deploy config changed after the review (perhaps by another merge): "+s.o.Surface.Replan()+".",
		"the deploy config of %q changed since the plan was made (keys differing: %s)", s.env, strings.Join(diffKeys(saved.Request.DeployConfig, s.redactedConfig), ", "))
}

func diffKeys(a, b string) []string {
	var ma, mb map[string]any
	_ = json.Unmarshal([]byte(a), &ma)
	_ = json.Unmarshal([]byte(b), &mb)
	var out []string
	for k, v := range ma {
		if fmt.Sprint(mb[k]) != fmt.Sprint(v) {
			out = append(out, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"(the document as a whole)"}
	}
	return out
}

func (s *session) verifyAdapter(saved *deploy.SavedPlan, prov *Provenance, res *ApplyResult) error {
	hint := reasonHint(ReasonAdapterChanged, s.o.Surface)
	if saved.Provider != s.arena.Deploy.Provider || (prov.Adapter.Name != "" && prov.Adapter.Name != s.info.Name) {
		return failf(ReasonAdapterChanged, hint, "the plan was made by the %s adapter (%s), this run has %s (%s)",
			saved.Provider, prov.Adapter.Name, s.arena.Deploy.Provider, s.info.Name)
	}
	if prov.Adapter.BinarySHA256 != "" && prov.Adapter.BinarySHA256 != s.adapterDigest {
		if !s.o.AllowAdapterChange {
			return failf(ReasonAdapterChanged, hint, "the adapter binary changed since the plan: %s %s (%s) then, %s (%s) now",
				s.info.Name, prov.Adapter.Version, short(prov.Adapter.BinarySHA256, 12), s.info.Version, short(s.adapterDigest, 12))
		}
		res.Notes = append(res.Notes, "The adapter binary changed since the plan; applied anyway (allow-adapter-change: true).")
	}
	if prov.Adapter.Version != "" && prov.Adapter.Version != s.info.Version {
		msg := fmt.Sprintf("The adapter version changed since the plan (%s then, %s now).", prov.Adapter.Version, s.info.Version)
		s.d.Report.Warningf("%s", msg)
		res.Notes = append(res.Notes, msg)
	}
	return nil
}

// verifyState: if the stored state moved since the plan (another deploy
// landed), plan again; the same change set goes ahead, another fails with
// the difference shown, unless on-stale-plan: replan.
func (s *session) verifyState(ctx context.Context, res *ApplyResult, prior string) error {
	if s.prior.Digest() == res.Prov.PriorStateDigest {
		return nil
	}
	now, err := s.plan(ctx, prior)
	if err != nil {
		return err
	}
	before, after := planLines(res.Saved.Plan.Changes), planLines(now.Changes)
	if before == after {
		if res.Prov.PriorStateDigest == "" { // promptarena's plan: no record of its state
			res.Notes = append(res.Notes, "Planning again gives the same changes, so the saved plan was applied.")
			return nil
		}
		res.Notes = append(res.Notes, "The deployed state changed since the review (another deploy landed), but planning again gives the same changes, so the reviewed plan was applied.")
		return nil
	}
	res.Diff = unifiedDiff(before, after)
	if s.o.OnStalePlan == "replan" {
		res.Saved.Plan = now
		res.Notes = append(res.Notes, "The deployed state changed since the review and the plan changed with it; the new plan was applied (on-stale-plan: replan).")
		return nil
	}
	replan := "Re-run the plan on a pull request (or merge an empty commit to it) and review the new plan"
	if s.o.Surface == surface.CLI {
		replan = "Run plan again and review the new plan"
	}
	return failf(ReasonStateChanged, "Another deploy changed what this plan would do. "+replan+"; or "+
		s.o.Surface.SetLower("on-stale-plan", "replan")+".",
		"the deployed state changed since the review, and the plan changed:\n%s", res.Diff)
}

// planLines is a plan as sorted text lines, the form the diff compares.
func planLines(changes []deploy.ResourceChange) string {
	var b strings.Builder
	for _, c := range SortedChanges(changes) {
		fmt.Fprintf(&b, "%-9s %s/%s  %s\n", c.Action, c.Type, c.Name, c.Detail)
	}
	return b.String()
}

// unifiedDiff is a line diff of two plans, "-" for the reviewed one.
func unifiedDiff(before, after string) string {
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(before, after)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)
	var out strings.Builder
	out.WriteString("--- reviewed plan\n+++ plan now\n")
	for _, d := range diffs {
		prefix := map[diffmatchpatch.Operation]string{diffmatchpatch.DiffDelete: "-", diffmatchpatch.DiffInsert: "+", diffmatchpatch.DiffEqual: " "}[d.Type]
		for _, line := range strings.SplitAfter(d.Text, "\n") {
			if line != "" {
				out.WriteString(prefix + line)
			}
		}
	}
	return strings.TrimRight(out.String(), "\n")
}
