package workflowtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/adapterinstall"
)

// ReleaseOmnia publishes the stand-in for Omnia's adapter (./omnia) as
// release v<version> of its repository on the emulator, as Omnia's
// releases are made (goreleaser: a bare binary per platform named
// promptarena-deploy-omnia_<os>_<arch>, and checksums.txt), so that
// `adapter-install: omnia@<version>` installs it. It deploys into
// h.Cloud/<workspace>.
func (h *Harness) ReleaseOmnia(root string, versions ...string) {
	h.T.Helper()
	for _, v := range versions {
		v = strings.TrimPrefix(v, "v")
		bin := filepath.Join(h.tmp, "omnia-"+v)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags",
			fmt.Sprintf("-X main.cloud=%s -X main.version=%s", h.Cloud, v), "-o", bin, "./internal/workflowtest/omnia")
		cmd.Dir = root
		// Static, like the release: it runs in the action's image too.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			h.T.Fatalf("build the Omnia stand-in: %v\n%s", err, out)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			h.T.Fatal(err)
		}
		asset := fmt.Sprintf("promptarena-deploy-omnia_linux_%s", runtime.GOARCH)
		sum := sha256.Sum256(b)
		h.GH.AddRelease(adapterinstall.Registry["omnia"], "v"+v, map[string][]byte{
			asset:           b,
			"checksums.txt": []byte(hex.EncodeToString(sum[:]) + "  " + asset + "\n"),
		})
	}
}

// CloudFile reads a file the providers' stand-ins deployed (a path under
// h.Cloud: <workspace>/...).
func (h *Harness) CloudFile(rel string) ([]byte, bool) {
	b, err := os.ReadFile(filepath.Join(h.Cloud, filepath.FromSlash(rel)))
	return b, err == nil
}
