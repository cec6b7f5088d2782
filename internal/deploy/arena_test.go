package deploy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

func openWS(t *testing.T, dir string) *workspace.Root {
	t.Helper()
	ws, err := workspace.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadArenaShapes(t *testing.T) {
	t.Parallel()
	deploy := `
  provider: omnia
  config: {region: eu, replicas: 1, nested: {a: 1}}
  environments:
    production:
      config: {replicas: 3, nested: {b: 2}}
`
	current := "apiVersion: v1\nkind: Arena\nspec:\n  tools:\n    - file: tools/t.yaml\n    - tools/missing.yaml\n  deploy:\n" + indent(deploy, "  ")
	older := "tools: []\ndeploy:\n" + deploy
	for name, content := range map[string]string{"current": current, "older": older} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "tools/t.yaml", "name: t\n")
			a, err := LoadArena(openWS(t, dir), writeFile(t, dir, "arena.yaml", content))
			if err != nil {
				t.Fatal(err)
			}
			if a.Deploy.Provider != "omnia" {
				t.Fatalf("provider %q", a.Deploy.Provider)
			}
			got, err := a.Deploy.DeployConfigJSON("production")
			if err != nil {
				t.Fatal(err)
			}
			// Shallow merge: nested maps are replaced, not merged.
			if want := `{"nested":{"b":2},"region":"eu","replicas":3}`; got != want {
				t.Errorf("merged %s, want %s", got, want)
			}
			base, _ := a.Deploy.DeployConfigJSON("")
			if want := `{"nested":{"a":1},"region":"eu","replicas":1}`; base != want {
				t.Errorf("default %s", base)
			}
			// An environment not listed gets the base config, as in PromptKit.
			if got, err := a.Deploy.DeployConfigJSON("prod"); err != nil || got != base || a.Deploy.HasEnvironment("prod") || !a.Deploy.HasEnvironment("production") {
				t.Errorf("unknown env: %s %v", got, err)
			}
		})
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimPrefix(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pre + l
		}
	}
	return strings.Join(lines, "\n")
}

func TestLoadArenaErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ws := openWS(t, dir)
	cases := []struct {
		name, content string
		want          error
	}{
		{"missing", "", ErrConfigNotFound},
		{"no deploy", "kind: Arena\nspec:\n  prompt_configs: []\n", ErrNoDeploySection},
		{"no provider", "deploy:\n  config: {}\n", ErrNoDeploySection},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, tc.name+".yaml")
		if tc.content != "" {
			writeFile(t, dir, tc.name+".yaml", tc.content)
		}
		// Named so the user finds the file.
		_, err := LoadArena(ws, path)
		// The file is named as the user knows it: relative to the workspace.
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.name+".yaml") || strings.Contains(err.Error(), dir) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := LoadArena(ws, writeFile(t, dir, "bad.yaml", "deploy: [\n")); !errors.Is(err, ErrArenaInvalid) || !strings.Contains(err.Error(), "bad.yaml:1:1: YAML:") {
		t.Errorf("bad yaml: %v", err)
	}
}

func TestResolvePack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ws := openWS(t, dir)
	if _, err := ResolvePack(ws, dir, ""); !errors.Is(err, ErrPackNotFound) {
		t.Fatal(err)
	}
	one := writeFile(t, dir, "a.pack.json", "{}")
	if got, err := ResolvePack(ws, dir, ""); got != one || err != nil {
		t.Fatal(got, err)
	}
	writeFile(t, dir, "b.pack.json", "{}")
	_, err := ResolvePack(ws, dir, "")
	if !errors.Is(err, ErrPackNotFound) || !strings.Contains(err.Error(), "a.pack.json, b.pack.json") {
		t.Fatal(err)
	}
	if got, err := ResolvePack(ws, dir, "b.pack.json"); err != nil || filepath.Base(got) != "b.pack.json" {
		t.Fatal(got, err)
	}
	if _, err := ResolvePack(ws, dir, "dist/none.pack.json"); !errors.Is(err, ErrPackNotFound) {
		t.Fatal(err)
	}
}

// TestArenaAndPackFence: arena.yaml and the pack are read only inside the
// workspace; a symlink committed by a pull request cannot lead outside.
func TestArenaAndPackFence(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "ws")
	secret := writeFile(t, base, "secret.json", `{"token":"s3cret"}`)
	writeFile(t, dir, "ok.yaml", "deploy:\n  provider: local\n")
	for name, target := range map[string]string{"abs.yaml": secret, "rel.yaml": "../secret.json", "app.pack.json": "../secret.json", "passwd.json": "/etc/passwd"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	ws := openWS(t, dir)
	for _, path := range []string{filepath.Join(dir, "abs.yaml"), filepath.Join(dir, "rel.yaml"), secret, filepath.Join(dir, "../secret.json")} {
		if _, err := LoadArena(ws, path); !errors.Is(err, workspace.ErrOutside) || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadArena(%s) = %v, want ErrOutside naming the path", path, err)
		}
	}
	if _, err := LoadArena(ws, filepath.Join(dir, "ok.yaml")); err != nil {
		t.Error(err)
	}
	// The only *.pack.json is a symlink to a file outside.
	if _, err := ResolvePack(ws, dir, ""); !errors.Is(err, workspace.ErrOutside) {
		t.Errorf("discovered pack: %v", err)
	}
	for _, explicit := range []string{"passwd.json", "../secret.json", secret, "app.pack.json"} {
		if _, err := ResolvePack(ws, dir, explicit); !errors.Is(err, workspace.ErrOutside) || !strings.Contains(err.Error(), "pack") {
			t.Errorf("pack %s: %v", explicit, err)
		}
	}
}
