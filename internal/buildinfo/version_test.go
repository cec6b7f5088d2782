package buildinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	for _, tc := range []struct {
		name, stamped, archive string
		info                   *debug.BuildInfo
		want                   string
	}{
		{"release stamps the tag", "v1.4.0", sha, vcs(sha, "false"), "v1.4.0"},
		{"go install at a version", "", "$Format:%H$", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"source archive of a commit", "", sha, vcs("", ""), "dev-0123456789ab"},
		{"checkout with VCS stamping", "", "$Format:%H$", vcs(sha, "false"), "dev-0123456789ab"},
		{"checkout with local changes", "", "$Format:%H$", vcs(sha, "true"), "dev-0123456789ab-dirty"},
		{"nothing known", "", "$Format:%H$", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"no build info", "", "", nil, "dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := version(tc.stamped, tc.archive, tc.info); got != tc.want {
				t.Errorf("version = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestArchiveSubstitutesCommit proves the export-subst attribute is set, so
// an archive of the repository (what the runner builds a docker action
// from) carries its commit in commit.txt.
func TestArchiveSubstitutesCommit(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	root := strings.TrimSpace(string(top))
	head, err := exec.Command(git, "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "src.tar")
	if b, err := exec.Command(git, "-C", root, "archive", "-o", out, "HEAD", "internal/buildinfo/commit.txt").CombinedOutput(); err != nil {
		t.Fatalf("git archive: %v\n%s", err, b)
	}
	dir := t.TempDir()
	if b, err := exec.Command("tar", "-xf", out, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	got, err := os.ReadFile(filepath.Join(dir, "internal", "buildinfo", "commit.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != strings.TrimSpace(string(head)) {
		t.Fatalf("archived commit.txt = %q, want HEAD %s (is export-subst set in .gitattributes?)", got, head)
	}
}
