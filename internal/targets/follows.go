package targets

import (
	"fmt"
	"sort"
	"strings"
)

// Follows maps an environment to the one it waits for: "production:
// staging" applies production only after staging.
type Follows map[string]string

// ParseFollows reads "production: staging, staging: dev" (commas or line
// breaks between pairs; "production=staging" too).
func ParseFollows(s string) (Follows, error) {
	f := Follows{}
	for _, pair := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		later, earlier, ok := strings.Cut(pair, ":")
		if !ok {
			later, earlier, ok = strings.Cut(pair, "=")
		}
		later, earlier = strings.TrimSpace(later), strings.TrimSpace(earlier)
		switch {
		case !ok || later == "" || earlier == "":
			return nil, fmt.Errorf("%w: follows takes pairs like \"production: staging\" (production applies after staging), not %q", ErrInvalid, pair)
		case later == earlier:
			return nil, fmt.Errorf("%w: %s cannot follow itself", ErrInvalid, later)
		case f[later] != "" && f[later] != earlier:
			return nil, fmt.Errorf("%w: %s follows both %s and %s; an environment follows one other", ErrInvalid, later, f[later], earlier)
		}
		f[later] = earlier
	}
	if _, err := f.Waves(); err != nil {
		return nil, err
	}
	return f, nil
}

// With is f with g's pairs added (g's win).
func (f Follows) With(g Follows) Follows {
	if len(g) == 0 {
		return f
	}
	out := make(Follows, len(f)+len(g))
	for k, v := range f {
		out[k] = v
	}
	for k, v := range g {
		out[k] = v
	}
	return out
}

// Waves numbers every environment named: 1 for one that follows nothing,
// else one more than the environment it follows. A cycle is an error
// naming it.
func (f Follows) Waves() (map[string]int, error) {
	waves := map[string]int{}
	var names []string
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, start := range names {
		var chain []string
		seen := map[string]bool{}
		env := start
		for env != "" && waves[env] == 0 {
			if seen[env] {
				return nil, fmt.Errorf("%w: the follows pairs make a cycle (%s -> %s)", ErrInvalid, strings.Join(chain, " -> "), env)
			}
			seen[env] = true
			chain = append(chain, env)
			env = f[env]
		}
		base := 0
		if env != "" {
			base = waves[env]
		}
		for i := len(chain) - 1; i >= 0; i-- {
			base++
			waves[chain[i]] = base
		}
	}
	return waves, nil
}

// ProjectFollows is the order of one project's environments: the follows
// input with the arena file's arena-deploy/follows annotation added.
func ProjectFollows(input Follows, annotations map[string]string) (Follows, error) {
	own, err := ParseFollows(annotations[FollowsAnnotation])
	if err != nil {
		return nil, err
	}
	f := input.With(own)
	if _, err := f.Waves(); err != nil {
		return nil, err
	}
	return f, nil
}
