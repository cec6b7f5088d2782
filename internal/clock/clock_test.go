package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait returned %v", err)
	}
	if err := Sleep(context.Background(), time.Millisecond, nil); err != nil {
		t.Fatal(err)
	}
	var asked time.Duration
	if err := Sleep(context.Background(), time.Hour, func(_ context.Context, d time.Duration) error { asked = d; return nil }); err != nil || asked != time.Hour {
		t.Fatalf("override not used: %v %v", err, asked)
	}
}
