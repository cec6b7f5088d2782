package run

import (
	"context"
	"errors"
	"fmt"
)

// whenCancelled names a failure that came from the run being cancelled
// (SIGINT/SIGTERM from the runner) for what it is: the adapter stopped
// mid-call, or a request cut short, is not a bug or an adapter fault.
func whenCancelled(ctx context.Context, err error, hint string) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	var f *Failure
	if errors.As(err, &f) {
		if f.Reason == ReasonStateConflict {
			return err // more telling than the cancellation
		}
		err = f.Err // its hint is for another cause
	}
	return fail(ReasonCancelled, hint, fmt.Errorf("the run was cancelled: %w", err))
}
