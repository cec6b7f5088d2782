// Command action is arena-deploy-action: in GitHub Actions it reads its
// inputs and event from the runner; elsewhere it is a CLI with the same
// options as flags (plan, apply, status, refresh, destroy, targets, demo).
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	// CA roots compiled in: the image is FROM scratch, with no certificate store.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
)

func main() {
	// Invoked under the reference adapter's name (a link to this binary, as
	// the demo makes), it is that adapter.
	if filepath.Base(os.Args[0]) == localadapter.BinaryName {
		if err := localadapter.Serve(actionVersion()); err != nil {
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
