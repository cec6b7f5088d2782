// Command promptarena-deploy-local is the reference PromptKit deploy adapter:
// it deploys a pack's prompts as files into a directory. It speaks the deploy
// protocol on stdin/stdout, so the promptarena CLI and this action drive it
// like any provider's adapter.
package main

import (
	"fmt"
	"os"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/adaptersdk"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

func main() {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "promptarena-deploy-local:", err)
		os.Exit(1)
	}
	if err := adaptersdk.Serve(&Provider{BaseDir: wd, Version: version}); err != nil {
		fmt.Fprintln(os.Stderr, "promptarena-deploy-local:", err)
		os.Exit(1)
	}
}
