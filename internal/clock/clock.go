// Package clock is the one way the action waits: every retry, poll and
// backoff sleeps through Sleep, so a cancelled run stops waiting at once and
// tests replace the wait in one place per component.
package clock

import (
	"context"
	"time"
)

// SleepFunc waits d or until ctx ends. Components hold one as an option;
// nil means Sleep.
type SleepFunc func(ctx context.Context, d time.Duration) error

// Sleep waits d, or returns ctx's error as soon as ctx ends. With override
// set (tests make waits instant), it calls that instead.
func Sleep(ctx context.Context, d time.Duration, override SleepFunc) error {
	if override != nil {
		return override(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
