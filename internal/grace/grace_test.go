package grace

import (
	"context"
	"testing"
	"time"
)

func TestOutlivesParentByGrace(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	ctx, cancel := Context(parent, 50*time.Millisecond)
	defer cancel()
	if ctx.Value(key{}) != "v" {
		t.Error("values not carried")
	}
	cancelParent()
	time.Sleep(10 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatal("ended with its parent: no grace")
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("grace never ends")
	}
}

func TestLivesWhileParentDoes(t *testing.T) {
	ctx, cancel := Context(context.Background(), time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatal("ended without a cancellation")
	}
	cancel()
	if ctx.Err() == nil {
		t.Fatal("cancel did not end it")
	}
}

type key struct{}
