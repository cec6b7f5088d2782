//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// TestReadmeCommentIsTheDemos keeps the README's "What reviewers see" true:
// the comment shown there is, line for line as GitHub renders it, the one
// the demo's second pull request gets. When the comment changes, copy the
// demo's (go run ./cmd/action demo, step 4) into the README.
func TestReadmeCommentIsTheDemos(t *testing.T) {
	readme := mustRead(t, filepath.Join(deploytest.RepoRoot(), "README.md"))
	_, section, ok := strings.Cut(readme, "\n## What reviewers see\n")
	if !ok {
		t.Fatal("the README has no What reviewers see section")
	}
	parts := strings.Split(section, "\n---\n")
	if len(parts) < 3 {
		t.Fatal("the README's sample comment is not between two --- lines")
	}
	want := renderComment(parts[1])
	var out, errOut bytes.Buffer
	if code := demo(context.Background(), nil, &out, &errOut); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut.String())
	}
	_, after, ok := strings.Cut(out.String(), "The comment on pull request #2")
	if !ok {
		t.Fatal("the demo shows no comment on pull request #2")
	}
	var got []string
	for _, l := range strings.Split(after, "\n")[1:] {
		body, ok := strings.CutPrefix(l, "  ║ ")
		if !ok && l != "  ║" {
			break
		}
		got = append(got, strings.TrimRight(body, " "))
	}
	for len(got) > 0 && got[len(got)-1] == "" {
		got = got[:len(got)-1]
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the README's sample comment is not the demo's:\nREADME:\n%s\n\ndemo:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}
