package targets

import (
	"encoding/json"
	"fmt"
)

// MaxJobs is the most jobs GitHub makes of one matrix ("A matrix will
// generate a maximum of 256 jobs per workflow run").
const MaxJobs = 256

// MaxWaves is how many wave outputs the action declares (wave-1..wave-3):
// dev, staging, production.
const MaxWaves = 3

// Matrix is the value of strategy.matrix: {"include": [targets]}.
func Matrix(ts []Target) (string, error) {
	if ts == nil {
		ts = []Target{}
	}
	if len(ts) > MaxJobs {
		return "", fmt.Errorf("%w: %d targets changed, more than the %d jobs GitHub makes of one matrix; split the repository's targets between workflows (the configs input takes globs)", ErrInvalid, len(ts), MaxJobs)
	}
	b, err := json.Marshal(struct {
		Include []Target `json:"include"`
	}{ts})
	return string(b), err
}

// Waves splits targets by wave: [0] holds wave 1.
func Waves(ts []Target) ([][]Target, error) {
	var out [][]Target
	for _, t := range ts {
		if t.Wave > MaxWaves {
			return nil, fmt.Errorf("%w: %s (%s/%s) is in wave %d; the follows pairs may chain at most %d environments (e.g. dev, staging, production)",
				ErrInvalid, t.Environment, t.WorkingDirectory, t.Config, t.Wave, MaxWaves)
		}
		for len(out) < t.Wave {
			out = append(out, nil)
		}
		out[t.Wave-1] = append(out[t.Wave-1], t)
	}
	return out, nil
}
