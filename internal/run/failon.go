package run

import (
	"errors"
	"fmt"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// FailOnRecord is the fail-on check as the plan job decided it, kept in the
// plan's provenance so apply can refuse a plan that failed it.
type FailOnRecord struct {
	Actions []string `json:"actions"`
	Failed  bool     `json:"failed"`
	Hits    []string `json:"hits,omitempty"`
}

// failOnHits lists the changes that hold an action named in fail-on.
func failOnHits(failOn []deploy.Action, changes []deploy.ResourceChange) []string {
	var hits []string
	for _, c := range changes {
		for _, a := range failOn {
			if c.Action == a {
				hits = append(hits, fmt.Sprintf("%s %s/%s", strings.ToLower(string(a)), c.Type, c.Name))
			}
		}
	}
	return hits
}

// checkFailOn fails the run when changes hold an action named in fail-on.
func (s *session) checkFailOn(changes []deploy.ResourceChange) error {
	hits := failOnHits(s.o.FailOn, changes)
	if len(hits) == 0 {
		return nil
	}
	if len(hits) > 10 {
		hits = append(hits[:10], fmt.Sprintf("… and %d more", len(hits)-10))
	}
	return failf(ReasonFailOn, "Review the plan; change fail-on if these actions are intended.",
		"the plan contains actions listed in fail-on:\n- %s", strings.Join(hits, "\n- "))
}

// recordFailOn checks fail-on on a new plan and records the outcome in its
// provenance.
func (s *session) recordFailOn(res *PlanResult) error {
	if len(s.o.FailOn) == 0 {
		return nil
	}
	rec := &FailOnRecord{Hits: failOnHits(s.o.FailOn, res.Saved.Plan.Changes)}
	for _, a := range s.o.FailOn {
		rec.Actions = append(rec.Actions, strings.ToLower(string(a)))
	}
	rec.Failed = len(rec.Hits) > 0
	res.Provenance.FailOn = rec
	return s.checkFailOn(res.Saved.Plan.Changes)
}

// refuseFailedFailOn is apply's side: a plan that failed fail-on when it
// was made, or that fails this job's fail-on, is not applied.
func (s *session) refuseFailedFailOn(res *ApplyResult) error {
	hint := "Change the pull request until its plan passes fail-on (or change fail-on if these actions are intended), and merge that. Make the plan job a required check so such pull requests cannot merge."
	if p := res.Prov; p != nil && p.FailOn != nil && p.FailOn.Failed {
		return failf(ReasonFailOn, hint, "the reviewed plan failed its fail-on check (%s), so it is not applied:\n- %s",
			strings.Join(p.FailOn.Actions, ", "), strings.Join(p.FailOn.Hits, "\n- "))
	}
	if err := s.checkFailOn(res.Saved.Plan.Changes); err != nil {
		return fail(ReasonFailOn, hint, fmt.Errorf("not applied: %w", errorUnwrapped(err)))
	}
	return nil
}

// errorUnwrapped is a Failure's cause, so a reason is not wrapped twice.
func errorUnwrapped(err error) error {
	var f *Failure
	if errors.As(err, &f) {
		return f.Err
	}
	return err
}
