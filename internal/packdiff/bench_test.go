package packdiff

import (
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/packdiff/packdifftest"
)

// BenchmarkCompare10MB diffs two 10 MB packs (3,000 prompts of 3.3 KB, 200
// of them edited). Budget: under 200 ms.
func BenchmarkCompare10MB(b *testing.B) {
	old, cur := packdifftest.Packs(3000, 200, 3300)
	b.SetBytes(int64(len(old) + len(cur)))
	b.ResetTimer()
	for b.Loop() {
		d, err := Compare(old, cur)
		if err != nil || len(d.Prompts) != 200 {
			b.Fatalf("%v, %d prompts", err, len(d.Prompts))
		}
	}
}

func TestBigPacks(t *testing.T) {
	old, cur := packdifftest.Packs(3000, 200, 3300)
	if len(old) < 10<<20 || len(cur) < 10<<20 {
		t.Fatalf("packs of %d and %d bytes; the benchmark needs 10 MB", len(old), len(cur))
	}
	d, err := Compare(old, cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Prompts) != 200 || d.Unchanged != 2800 {
		t.Fatalf("%d changed, %d unchanged", len(d.Prompts), d.Unchanged)
	}
}
