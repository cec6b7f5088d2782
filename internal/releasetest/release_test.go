package releasetest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

const (
	image  = "ghcr.io/octo-org/arena-deploy-action"
	digest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// rewrite runs the script and returns its stdout, stderr and exit code.
func rewrite(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(deploytest.RepoRoot(), ".ci", "release-action-yml.sh")}, args...)...)
	cmd.Dir = deploytest.RepoRoot()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func parse(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, b)
	}
	return m
}

// TestTagActionYML: the tag's action.yml is main's with runs.image pinned
// to the image digest, and nothing else changed (inputs, outputs and their
// defaults are the same contract at the tag as on main).
func TestTagActionYML(t *testing.T) {
	main, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code := rewrite(t, image, digest)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	before, after := parse(t, main), parse(t, []byte(out))
	if got := before["runs"].(map[string]any)["image"]; got != "Dockerfile" {
		t.Fatalf("main's action.yml must build the Dockerfile (uses: ./ and forks); runs.image is %v", got)
	}
	runs := after["runs"].(map[string]any)
	if runs["using"] != "docker" || runs["image"] != "docker://"+image+"@"+digest {
		t.Errorf("tag's runs: %v", runs)
	}
	runs["image"] = "Dockerfile"
	if !reflect.DeepEqual(before, after) {
		t.Error("the tag's action.yml differs from main's in more than runs.image")
	}
	// Byte for byte: one line changed, comments and quoting kept.
	a, b := strings.Split(string(main), "\n"), strings.Split(out, "\n")
	if len(a) != len(b) {
		t.Fatalf("%d lines, want %d", len(b), len(a))
	}
	var changed []string
	for i := range a {
		if a[i] != b[i] {
			changed = append(changed, b[i])
		}
	}
	if want := []string{"  image: docker://" + image + "@" + digest}; !reflect.DeepEqual(changed, want) {
		t.Errorf("changed lines %q, want %q", changed, want)
	}
}

func TestTagActionYMLRefuses(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "name: x\ndescription: y\n"
	good := file("good.yml", head+"runs:\n  using: docker\n  image: Dockerfile\n")
	quoted := file("quoted.yml", head+"runs:\n  using: docker\n  image: \"Dockerfile\"\n")
	pinned := file("pinned.yml", head+"runs:\n  using: docker\n  image: docker://"+image+"@"+digest+"\n")
	outside := file("outside.yml", head+"branding:\n  image: Dockerfile\nruns:\n  using: node20\n  main: index.js\n")
	twice := file("twice.yml", head+"runs:\n  using: docker\n  image: Dockerfile\n  image: Dockerfile\n")
	for _, tc := range []struct {
		name      string
		args      []string
		ok        bool
		complaint string
	}{
		{"the source form", []string{image, digest, good}, true, ""},
		{"a quoted Dockerfile", []string{image, digest, quoted}, true, ""},
		{"an owner in upper case (GHCR names are lower case)", []string{"ghcr.io/Octo-Org/arena-deploy-action", digest, good}, false, "lowercase"},
		{"an image with a tag", []string{image + ":v1", digest, good}, false, "without a tag"},
		{"another registry", []string{"docker.io/octo/arena-deploy-action", digest, good}, false, "ghcr.io"},
		{"a short digest", []string{image, "sha256:9f86d08188", good}, false, "64"},
		{"a digest without its algorithm", []string{image, strings.TrimPrefix(digest, "sha256:"), good}, false, "sha256:"},
		{"a digest in upper case", []string{image, strings.ToUpper(digest), good}, false, "sha256:"},
		{"an action.yml already pinned", []string{image, digest, pinned}, false, "already says docker://"},
		{"image: Dockerfile outside runs", []string{image, digest, outside}, false, "0 `image: Dockerfile` lines"},
		{"two image lines", []string{image, digest, twice}, false, "2 `image: Dockerfile` lines"},
		{"no such file", []string{image, digest, filepath.Join(dir, "missing.yml")}, false, "missing.yml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := rewrite(t, tc.args...)
			if tc.ok {
				if code != 0 || !strings.Contains(out, "  image: docker://"+image+"@"+digest+"\n") {
					t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
				}
				return
			}
			if code == 0 || out != "" {
				t.Fatalf("exit %d with stdout %q: want a failure and no half-written file", code, out)
			}
			if !strings.Contains(stderr, tc.complaint) {
				t.Errorf("stderr %q does not say %q", stderr, tc.complaint)
			}
		})
	}
}
