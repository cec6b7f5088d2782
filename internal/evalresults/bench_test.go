package evalresults

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// bigResults writes n runs promptarena wrote (the pr fixture's, renamed)
// and their index into a workspace.
func bigResults(b *testing.B, n int) (*workspace.Root, string) {
	b.Helper()
	ws := b.TempDir()
	dir := filepath.Join(ws, "out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	src := filepath.Join("testdata", "promptarena", "pr")
	var idx struct {
		RunIDs []string `json:"run_ids"`
	}
	raw, _ := os.ReadFile(filepath.Join(src, "index.json"))
	if err := json.Unmarshal(raw, &idx); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := 0; i < n; i++ {
		id := idx.RunIDs[i%len(idx.RunIDs)]
		body, _ := os.ReadFile(filepath.Join(src, id+".json"))
		nid := fmt.Sprintf("%s-%05d", id, i)
		oldID, _ := json.Marshal(id)
		newID, _ := json.Marshal(nid)
		body = []byte(strings.Replace(string(body), `"RunID": `+string(oldID), `"RunID": `+string(newID), 1))
		body = []byte(strings.Replace(string(body), `"ScenarioID": "`, fmt.Sprintf(`"ScenarioID": "s%05d-`, i), 1))
		if err := os.WriteFile(filepath.Join(dir, nid+".json"), body, 0o644); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, nid)
	}
	index, _ := json.MarshalIndent(map[string]any{"total_runs": n, "run_ids": ids}, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		b.Fatal(err)
	}
	root, err := workspace.Open(ws)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { root.Close() })
	return root, dir
}

// BenchmarkLoad5000Runs reads promptarena results of 5,000 runs (about
// 5.6 kB each, 28 MB in all).
func BenchmarkLoad5000Runs(b *testing.B) {
	root, dir := bigResults(b, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Load(root, dir, root.Dir())
		if err != nil || res.Totals.Cases != 5000 {
			b.Fatal(err)
		}
	}
}
