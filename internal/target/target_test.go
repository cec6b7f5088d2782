package target

import (
	"strings"
	"testing"
)

func TestKeysDiffer(t *testing.T) {
	keys := []Key{
		New(".", "arena.yaml", "production"),
		New(".", "arena.yaml", "staging"),
		New("svc", "arena.yaml", "production"),
		New(".", "other.yaml", "production"),
	}
	seen := map[string]bool{}
	for _, k := range keys {
		for _, name := range []string{k.ID(), k.Marker(), k.PlanArtifact("abc"), k.StateArtifact(), k.StateDir()} {
			if seen[name] {
				t.Errorf("%v: %q is shared with another target", k, name)
			}
			seen[name] = true
		}
	}
}

func TestNormalised(t *testing.T) {
	a := New("", "arena.yaml", "prod")
	for _, b := range []Key{New(".", "./arena.yaml", "prod"), New("./", "arena.yaml", "prod")} {
		if a.ID() != b.ID() || a.Marker() != b.Marker() {
			t.Errorf("%#v and %#v should be one target", a, b)
		}
	}
	if New("svc/", "arena.yaml", "p").ID() != New("svc", "arena.yaml", "p").ID() {
		t.Error("trailing slash changes the target")
	}
}

// The marker is a public contract: sticky comments written by earlier
// releases must still be found.
func TestMarkerStable(t *testing.T) {
	got := New(".", "arena.yaml", "production").Marker()
	if !strings.HasPrefix(got, "<!-- arena-deploy-action target=") || len(got) != len("<!-- arena-deploy-action target=")+16+4 {
		t.Fatalf("marker %q", got)
	}
}

func TestNames(t *testing.T) {
	k := New(".", "arena.yaml", "prod/eu: 1")
	for _, name := range []string{k.PlanArtifact("0123abcd"), k.StateArtifact(), k.StateDir()} {
		if strings.ContainsAny(name, "\"<>|*?\r\n\\/: ") {
			t.Errorf("%q holds a character artifact names may not", name)
		}
	}
	if got := k.PlanArtifact("0123abcd"); !strings.HasPrefix(got, "arena-plan-prod-eu--1-") || !strings.HasSuffix(got, "-0123abcd") {
		t.Errorf("plan artifact %q", got)
	}
}
