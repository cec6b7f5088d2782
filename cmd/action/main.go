// Command action is arena-deploy-action: in GitHub Actions it reads its
// inputs and event from the runner; elsewhere it is a CLI with the same
// options as flags (plan, apply, status, refresh, destroy, demo).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
