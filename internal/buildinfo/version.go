// Package buildinfo says which build of the action is running. A release
// stamps its tag at link time; a build from source (the Dockerfile of
// `uses: owner/arena-deploy-action@main`, `uses: ./`, go install) names the
// commit it was built from, so nobody runs a version that only says "dev".
package buildinfo

import (
	_ "embed"
	"runtime/debug"
	"strings"
)

// archiveCommit is commit.txt: "$Format:%H$" in a checkout, the commit's
// hash in a `git archive` of it (export-subst in .gitattributes). GitHub
// builds a docker action from such an archive, which has no .git.
//
//go:embed commit.txt
var archiveCommit string

// Version is stamped if the build stamped one (-X main.version=v1.2.3);
// else the module version of a `go install ...@v1.2.3`; else dev-<commit>
// from the source archive or the VCS information Go recorded; else "dev".
func Version(stamped string) string {
	info, _ := debug.ReadBuildInfo()
	return version(stamped, strings.TrimSpace(archiveCommit), info)
}

func version(stamped, archive string, info *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	if isHash(archive) {
		return "dev-" + archive[:12]
	}
	if info != nil {
		var rev string
		var dirty bool
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if isHash(rev) {
			v := "dev-" + rev[:12]
			if dirty {
				v += "-dirty"
			}
			return v
		}
	}
	return "dev"
}

// isHash accepts a full SHA-1 or SHA-256 commit id.
func isHash(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
