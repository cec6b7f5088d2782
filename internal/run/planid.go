package run

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// PlanIDInput is everything a plan depends on. The id is a digest of its
// canonical JSON: equal inputs give equal ids on any re-run, and any
// difference changes it.
type PlanIDInput struct {
	PackChecksum     string                  `json:"pack_checksum"`
	DeployConfig     string                  `json:"deploy_config"` // redacted
	Environment      string                  `json:"environment"`
	PriorStateDigest string                  `json:"prior_state_digest"`
	Provider         string                  `json:"provider"`
	AdapterName      string                  `json:"adapter_name"`
	AdapterVersion   string                  `json:"adapter_version"`
	Changes          []deploy.ResourceChange `json:"changes"`
}

// PlanID digests in: changes are sorted, so the adapter's order does not
// matter; struct fields encode in a fixed order.
//
// The JSON is json.Marshal's (TestPlanIDMatchesMarshal), written into the
// digest a piece at a time: a plan of 50,000 changes is not encoded into
// one buffer first.
func PlanID(in PlanIDInput) string {
	h := sha256.New()
	b := make([]byte, 0, 32<<10)
	field := func(sep, name, v string) {
		b = append(append(append(b, sep...), name...), `":`...)
		b = jsonwire.AppendQuotedHTML(b, v)
	}
	field(`{"`, "pack_checksum", in.PackChecksum)
	field(`,"`, "deploy_config", in.DeployConfig)
	field(`,"`, "environment", in.Environment)
	field(`,"`, "prior_state_digest", in.PriorStateDigest)
	field(`,"`, "provider", in.Provider)
	field(`,"`, "adapter_name", in.AdapterName)
	field(`,"`, "adapter_version", in.AdapterVersion)
	b = append(b, `,"changes":[`...)
	// Through indices in order, not a sorted copy: 4 bytes a change instead
	// of 64 with pointers (3.2 MB for 50,000 changes).
	order := make([]int32, len(in.Changes))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return compareChanges(&in.Changes[x], &in.Changes[y]) })
	for i, k := range order {
		c := &in.Changes[k]
		sep := `{"`
		if i > 0 {
			sep = `,{"`
		}
		field(sep, "type", c.Type)
		field(`,"`, "name", c.Name)
		field(`,"`, "action", string(c.Action))
		if c.Detail != "" {
			field(`,"`, "detail", c.Detail)
		}
		b = append(b, '}')
		if len(b) > 16<<10 {
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(append(b, "]}"...))
	return hex.EncodeToString(h.Sum(nil))
}

// SortedChanges orders changes by type, name, action and detail.
func SortedChanges(changes []deploy.ResourceChange) []deploy.ResourceChange {
	out := append([]deploy.ResourceChange{}, changes...)
	slices.SortFunc(out, func(a, b deploy.ResourceChange) int { return compareChanges(&a, &b) })
	return out
}

// compareChanges orders changes by type, name, action and detail.
func compareChanges(a, b *deploy.ResourceChange) int {
	if c := strings.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Action), string(b.Action)); c != 0 {
		return c
	}
	return strings.Compare(a.Detail, b.Detail)
}

// Provenance travels next to deploy.plan in the plan artifact: where the
// plan came from and what it was made against, for apply to verify.
type Provenance struct {
	Version           int    `json:"version"`
	Repository        string `json:"repository,omitempty"`
	PullRequest       int    `json:"pull_request,omitempty"`
	HeadSHA           string `json:"head_sha,omitempty"`
	BaseSHA           string `json:"base_sha,omitempty"`
	RunID             int64  `json:"run_id,omitempty"`
	RunAttempt        int    `json:"run_attempt,omitempty"`
	PlanID            string `json:"plan_id"`
	Environment       string `json:"environment"`
	WorkingDirectory  string `json:"working_directory"`
	ConfigPath        string `json:"config_path"`
	PackPath          string `json:"pack_path"`
	PackChecksum      string `json:"pack_checksum"`
	PackContentDigest string `json:"pack_content_digest"`
	ConfigDigest      string `json:"config_digest"`
	PriorStateDigest  string `json:"prior_state_digest"`
	Adapter           struct {
		Name         string `json:"name"`
		Version      string `json:"version"`
		BinarySHA256 string `json:"binary_sha256"`
		Release      string `json:"release,omitempty"`
	} `json:"adapter"`
	CreatedAt     string `json:"created_at"`
	ActionVersion string `json:"action_version,omitempty"`
	// FailOn is the fail-on check of the plan job, when it had one.
	FailOn *FailOnRecord `json:"fail_on,omitempty"`
	// Evaluation records the evaluation results the plan showed (the pull
	// request's: evidence for the review, never the apply's gate).
	Evaluation *EvaluationRecord `json:"evaluation,omitempty"`
}

func digestString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}
