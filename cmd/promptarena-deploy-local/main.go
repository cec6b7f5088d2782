// Command promptarena-deploy-local is the reference PromptKit deploy adapter:
// it deploys a pack's prompts as files into a directory. It speaks the deploy
// protocol on stdin/stdout, so the promptarena CLI and this action drive it
// like any provider's adapter.
package main

import (
	"fmt"
	"os"

	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func main() {
	if err := localadapter.Serve(version); err != nil {
		fmt.Fprintln(os.Stderr, localadapter.BinaryName+":", err)
		os.Exit(1)
	}
}
