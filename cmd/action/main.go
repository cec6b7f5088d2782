// Command action is arena-deploy-action: in GitHub Actions it reads its
// inputs and event from the runner; elsewhere it is a CLI with the same
// options as flags (plan, apply, status, refresh, destroy, targets, preview, unlock, rollback, demo).
package main

import (
	"context"
	"crypto/x509"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
)

func main() {
	leanGC(os.LookupEnv)
	stopProfile := startProfile()
	// Invoked under the reference adapter's name (a link to this binary, as
	// the demo makes), it is that adapter.
	if filepath.Base(os.Args[0]) == localadapter.BinaryName {
		err := localadapter.Serve(actionVersion())
		stopProfile()
		if err != nil {
			os.Exit(1)
		}
		return
	}
	fallbackRoots()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	stopProfile()
	os.Exit(code)
}

// fallbackRoots compiles in the CA roots the action trusts where the system
// has none (the image is FROM scratch, with no certificate store), as
// importing golang.org/x/crypto/x509roots/fallback does, but only for the
// action: that package parses them in its init, in every process of this
// binary, and the reference adapter (a link to it) never dials TLS (4 ms
// and 0.7 MB of its resident memory).
func fallbackRoots() { x509.SetFallbackRoots(fallbackPool()) }

// fallbackPool is the roots of golang.org/x/crypto/x509roots/fallback/bundle.
func fallbackPool() *x509.CertPool {
	p := x509.NewCertPool()
	for c := range bundle.Roots() {
		cert, err := x509.ParseCertificate(c.Certificate)
		if err != nil {
			panic(err)
		}
		if c.Constraint == nil {
			p.AddCert(cert)
		} else {
			p.AddCertWithConstraint(cert, c.Constraint)
		}
	}
	return p
}

// gcPercent is the collector's target for the action and the reference
// adapter (GOGC, which still wins when set). Both are short runs whose
// memory is a few big buffers without pointers (the pack, its escaped and
// compressed forms), so a collection costs little; at Go's default of 100
// the heap grows to twice what is live before one runs, and that garbage
// was most of the peak of a plan with a 9 MB pack (bench/plans: 25 instead
// of 100 took a first deploy from 6.7 to 5.2 times the pack, an edit from
// 7.1 to 4.4, at no measurable CPU).
const gcPercent = 25

func leanGC(lookup func(string) (string, bool)) {
	if _, set := lookup("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
