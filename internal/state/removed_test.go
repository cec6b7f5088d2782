package state

import (
	"errors"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// TestWitnessRefusesRemovedFiles: a file the proven record names and the
// branch no longer holds was removed after the run that wrote the record
// (a gate's evaluations baseline, the pack a plan diffs against): as
// untrusted as a rewritten one. Removed, it read as "none recorded", and
// the gate had nothing to compare with. A file the record never named,
// and that is not there, is simply none.
func TestWitnessRefusesRemovedFiles(t *testing.T) {
	s := ghemu.New(t)
	b := trusted(t, s, "sha1")
	if _, err := b.LockTarget(ctx, holder(1), 0); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Save(ctx, &Write{State: st("prod", "s1"), Message: "apply", Pack: []byte(`{"id":"reviewed"}`),
		Files: map[string][]byte{"evaluations.json": []byte(`{"score":1}`)}}, snap); err != nil {
		t.Fatal(err)
	}
	s.DeleteFile(stateBranch, dir+"/evaluations.json")
	s.DeleteFile(stateBranch, dir+"/deployed.pack.json")
	next := trusted(t, s, "sha2")
	if _, err := next.Load(ctx); err != nil {
		t.Fatalf("the record itself is proven: %v", err)
	}
	_, err = next.LoadFile(ctx, "evaluations.json")
	var u *UntrustedError
	if !errors.Is(err, ErrUntrusted) || !errors.As(err, &u) || !strings.Contains(u.Reason, "evaluations.json is missing") {
		t.Errorf("removed file: %v", err)
	}
	if _, err := next.LoadDeployedPack(ctx); !errors.Is(err, ErrUntrusted) {
		t.Errorf("removed pack: %v", err)
	}
	if got, err := next.LoadFile(ctx, "never.json"); got != nil || err != nil {
		t.Errorf("a file the record never named: %q %v", got, err)
	}
}
