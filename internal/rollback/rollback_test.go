package rollback

import (
	"errors"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
)

func entry(serial int64, commit, plan, pack string) Entry {
	e := Entry{Where: commit, Record: &state.Record{Serial: serial, Commit: commit, PlanID: plan}, State: &deploy.State{State: "s"}}
	if pack != "" {
		e.State.PackChecksum = deploy.ComputePackChecksum([]byte(pack))
		e.Record.PackSHA = state.BlobSHA([]byte(pack))
	}
	return e
}

// history, newest first: serial 5 is a refresh of commit ccc, 4 its
// apply, 3 a partial apply of bbb, 2 bbb's earlier complete apply, 1 aaa's.
var history = []Entry{
	{Where: "w5", Record: &state.Record{Serial: 5, Commit: "ccc0000000", PlanID: "p3"}, State: &deploy.State{State: "s", PackChecksum: deploy.ComputePackChecksum([]byte("C"))}},
	entry(4, "ccc0000000", "p3", "C"),
	entry(3, "bbb0000000", "", "B2"),
	entry(2, "bbb0000000", "p2", "B"),
	entry(1, "aaa0000000", "p1", "A"),
}

func TestPick(t *testing.T) {
	current := history[0].State.PackChecksum
	cases := []struct {
		spec   string
		serial int64
		err    error
	}{
		{"", 2, nil},
		{"previous", 2, nil},
		{"serial:1", 1, nil},
		{"serial:4", 0, ErrNothingToRestore}, // what is deployed now
		{"serial:3", 0, ErrNoSuchApply},      // partial: no plan recorded
		{"serial:9", 0, ErrNoSuchApply},
		{"serial:x", 0, ErrBadSpec},
		{"aaa0000", 1, nil},
		{"AAA0000", 1, nil},
		{"bbb0000", 2, nil}, // the complete apply, not the partial one
		{"ddd0000", 0, ErrNoSuchApply},
		{"aaa", 0, ErrBadSpec},
		{"main", 0, ErrBadSpec},
	}
	for _, c := range cases {
		e, err := Pick(history, current, c.spec)
		if !errors.Is(err, c.err) || (err == nil && e.Record.Serial != c.serial) {
			t.Errorf("Pick(%q) = %+v, %v; want serial %d, %v", c.spec, e, err, c.serial, c.err)
		}
	}
	if _, err := Pick(history[:2], current, "previous"); !errors.Is(err, ErrNothingToRestore) {
		t.Errorf("only the current commit: %v", err)
	}
}

func TestProve(t *testing.T) {
	e := entry(2, "bbb0000000", "p2", "B")
	if err := Prove([]byte("B"), &e); err != nil {
		t.Fatal(err)
	}
	for name, pack := range map[string][]byte{"missing": nil, "another pack": []byte("B'")} {
		if err := Prove(pack, &e); !errors.Is(err, ErrPackNotProven) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The state branch kept another pack than the commit holds, though the
	// checksum (also on the state branch) was rewritten to match it: the
	// blob the record names must agree too.
	forged := entry(2, "bbb0000000", "p2", "B")
	forged.Record.PackSHA = state.BlobSHA([]byte("evil"))
	if err := Prove([]byte("B"), &forged); !errors.Is(err, ErrPackNotProven) {
		t.Errorf("state branch's pack differs: %v", err)
	}
}
