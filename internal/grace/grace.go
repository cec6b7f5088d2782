// Package grace gives the last steps of a run their own short time after a
// cancellation. When a workflow run is cancelled, the runner sends SIGINT to
// the step (docker passes it into the container), SIGTERM 7.5 s later and
// kills it 2.5 s after that
// (https://docs.github.com/en/actions/reference/workflow-cancellation-reference).
// The deploy is stopped at the first signal, but what it leaves behind must
// still be written: the state after a deploy, and the final report (the
// comment, the summary, the outputs), so no comment stays "applying".
package grace

import (
	"context"
	"time"
)

// Default fits in the 10 s between the runner's SIGINT and its kill.
const Default = 8 * time.Second

// Context returns a context that carries parent's values but not its
// cancellation: it ends d after parent is done (or when cancel is called).
// Until then the steps run with all the time they need.
func Context(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = Default
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	// A timer left running after cancel only calls cancel again: harmless.
	stop := context.AfterFunc(parent, func() { time.AfterFunc(d, cancel) })
	return ctx, func() {
		stop()
		cancel()
	}
}
