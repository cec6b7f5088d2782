//go:build nodemo

package main

import (
	"context"
	"fmt"
	"io"
)

// demo is left out of the image (-tags nodemo): the emulator it runs on
// would triple the binary's size. Run it from a clone instead.
func demo(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "the demo is not part of this build; from a clone of the repository run: go run ./cmd/action demo")
	return exitUsage
}
