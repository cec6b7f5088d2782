package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// TestLockTTLOfTheDocs keeps the docs' figure true: how long a lock whose
// run died holds with the default adapter timeouts (docs/day-two.md).
func TestLockTTLOfTheDocs(t *testing.T) {
	s := &session{o: &Options{}}
	d := s.lockTTL()
	want := fmt.Sprintf("%d minutes", int(d.Minutes()))
	if sec := int(d.Seconds()) % 60; sec != 0 {
		want += fmt.Sprintf(" %d seconds", sec)
	}
	raw, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(), "docs", "day-two.md"))
	if err != nil {
		t.Fatal(err)
	}
	if doc := strings.Join(strings.Fields(string(raw)), " "); !strings.Contains(doc, "with the default timeouts, "+want) {
		t.Errorf("docs/day-two.md does not say a dead run's lock holds %s with the default timeouts (lockTTL)", want)
	}
}
