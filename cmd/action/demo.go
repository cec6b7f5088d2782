package main

import (
	"context"
	"fmt"
	"io"
)

// demo runs the whole journey on the bundled example (filled in with apply).
func demo(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "demo: not available yet")
	return exitUsage
}
