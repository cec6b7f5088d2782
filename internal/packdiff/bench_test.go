package packdiff

import (
	"io"
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

// BenchmarkCompareShapes is the pack diff as a plan makes it (compare, then
// pack.diff read to its end) for the shapes bench/plans runs: 9 MB in
// 3,000 and in 50,000 prompts, 10 prompts of 1 MB; a first deploy (nothing
// deployed) and an edit.
func BenchmarkCompareShapes(b *testing.B) {
	for _, sh := range []struct {
		name  string
		shape packdifftest.Shape
	}{
		{"3k", packdifftest.Shape{Bytes: 9 << 20, Prompts: 3000, Edits: 200}},
		{"50k", packdifftest.Shape{Bytes: 9 << 20, Prompts: 50000, Edits: 200}},
		{"10x1MB", packdifftest.Shape{Bytes: 10 << 20, Prompts: 10, Edits: 10}},
	} {
		deployed, proposed := packdifftest.Make(sh.shape)
		for _, sc := range []struct {
			name string
			old  []byte
		}{{"first", nil}, {"edited", deployed}} {
			b.Run(sh.name+"/"+sc.name, func(b *testing.B) {
				b.SetBytes(int64(len(proposed)))
				for b.Loop() {
					d, err := CompareValidated(sc.old, proposed)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, d.TextReader("a", "b")); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
