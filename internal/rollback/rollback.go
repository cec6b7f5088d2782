// Package rollback chooses which earlier apply a rollback restores and
// proves that the pack it would deploy is the exact one that was reviewed
// and applied then: taken from the default branch's history (protected)
// at the commit that apply recorded, and equal to the checksum the state
// recorded for it, and to the copy the state branch kept. A pack found
// only on the state branch, which more people can write, is never
// deployed.
package rollback

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

// Errors callers branch on.
var (
	// ErrNothingToRestore: the history holds no earlier apply to go back to.
	ErrNothingToRestore = errors.New("no earlier apply to roll back to")
	// ErrNoSuchApply: the apply named by rollback-to is not in the history.
	ErrNoSuchApply = errors.New("no such apply in the state's history")
	// ErrPackNotProven: the pack at the recorded commit is missing or is
	// not the one that was applied.
	ErrPackNotProven = errors.New("the pack to restore is not the one that was applied")
	// ErrBadSpec: rollback-to is neither previous, a commit nor serial:N.
	ErrBadSpec = errors.New("rollback-to names no apply")
)

// Entry is one state the target's history held: the record a write
// committed, and the state in it.
type Entry struct {
	// Where names the write: the state branch's commit, or the artifact.
	Where  string
	Record *state.Record
	State  *deploy.State
}

// Deployed says whether the entry records a complete apply of a pack: a
// plan applied whole (a partial state records no plan), not a destroy.
func (e *Entry) Deployed() bool {
	return e != nil && e.Record != nil && e.Record.Commit != "" && e.Record.PlanID != "" &&
		e.State != nil && e.State.State != "" && e.State.PackChecksum != ""
}

// Pick chooses the entry to restore from entries (newest first), given the
// pack deployed now (its checksum): spec "" or "previous" is the newest
// complete apply of another pack; "serial:N" the write of that serial;
// anything else a commit (a prefix of 7 or more hex digits) an apply
// recorded, its newest complete apply. An entry whose pack is the one
// deployed now is nothing to roll back to.
func Pick(entries []Entry, deployedNow, spec string) (*Entry, error) {
	spec = strings.TrimSpace(spec)
	e, err := pick(entries, deployedNow, spec)
	if err == nil && e.State.PackChecksum == deployedNow {
		return nil, fmt.Errorf("%w: the apply %s names (serial %d) deployed the pack deployed now (%s)", ErrNothingToRestore, spec, e.Record.Serial, deployedNow)
	}
	return e, err
}

func pick(entries []Entry, deployedNow, spec string) (*Entry, error) {
	switch {
	case spec == "" || spec == "previous":
		for i := range entries {
			e := &entries[i]
			if e.Deployed() && e.State.PackChecksum != deployedNow {
				return e, nil
			}
		}
		return nil, fmt.Errorf("%w: the state's history holds no complete apply of another pack than the one deployed now (%s)", ErrNothingToRestore, deployedNow)
	case strings.HasPrefix(spec, "serial:"):
		n, err := strconv.ParseInt(strings.TrimPrefix(spec, "serial:"), 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: %q: serial:N takes a whole number from 1", ErrBadSpec, spec)
		}
		for i := range entries {
			e := &entries[i]
			if e.Record != nil && e.Record.Serial == n {
				if !e.Deployed() {
					return nil, fmt.Errorf("%w: serial %d recorded no complete apply (a partial apply, a refresh or a destroy)", ErrNoSuchApply, n)
				}
				return e, nil
			}
		}
		return nil, fmt.Errorf("%w: no write of serial %d is in the history read", ErrNoSuchApply, n)
	case isHexPrefix(spec):
		for i := range entries {
			e := &entries[i]
			if e.Deployed() && strings.HasPrefix(e.Record.Commit, strings.ToLower(spec)) {
				return e, nil
			}
		}
		return nil, fmt.Errorf("%w: no complete apply of a commit %s is in the history read", ErrNoSuchApply, spec)
	}
	return nil, fmt.Errorf("%w: %q; use previous, an applied commit (7 or more hex digits) or serial:N", ErrBadSpec, spec)
}

func isHexPrefix(s string) bool {
	if len(s) < 7 || len(s) > 40 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// Prove checks that pack, read from the default branch's history at the
// entry's applied commit, is what that apply deployed: its sha256 is the
// checksum the state recorded, and its git blob id the deployed.pack.json
// the state branch kept (when the record names one). Both must hold: the
// state branch alone could point at any pack; the commit alone at a pack
// that was never applied.
func Prove(pack []byte, e *Entry) error {
	if pack == nil {
		return fmt.Errorf("%w: the pack is not in commit %s", ErrPackNotProven, short(e.Record.Commit))
	}
	if got := deploy.ComputePackChecksum(pack); got != e.State.PackChecksum {
		return fmt.Errorf("%w: the pack at commit %s is %s, the state recorded %s", ErrPackNotProven, short(e.Record.Commit), got, e.State.PackChecksum)
	}
	if e.Record.PackSHA != "" && state.BlobSHA(pack) != e.Record.PackSHA {
		return fmt.Errorf("%w: the pack the state branch kept for serial %d (blob %s) differs from the one at commit %s (blob %s)",
			ErrPackNotProven, e.Record.Serial, short(e.Record.PackSHA), short(e.Record.Commit), short(state.BlobSHA(pack)))
	}
	return nil
}

func short(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	if s == "" {
		return "(none)"
	}
	return s
}
