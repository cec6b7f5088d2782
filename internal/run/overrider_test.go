package run

import "testing"

// TestOverrider: who overrode an evaluation gate is the run's triggering
// actor in GitHub Actions, and the local user at a terminal (it was
// "unknown" for everyone there).
func TestOverrider(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		gh   *GitHubContext
		want string
	}{
		{"re-run by another", Options{LocalUser: "runner"}, &GitHubContext{Actor: "alice", TriggeringActor: "bob"}, "bob"},
		{"first attempt", Options{}, &GitHubContext{Actor: "alice"}, "alice"},
		{"terminal", Options{LocalUser: "ana"}, nil, "ana (outside GitHub Actions)"},
		{"terminal, no user", Options{}, nil, "unknown (outside GitHub Actions)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{o: &tc.o, d: &Deps{GH: tc.gh}}
			if got := s.overrider(); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}
