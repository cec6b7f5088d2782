package arenaschema

import (
	"sync"
	"testing"
)

// BenchmarkFirstCheck is the cost a run pays once: the bundle unzipped and
// parsed, then one project checked (arena file, provider, prompt, tool).
func BenchmarkFirstCheck(b *testing.B) {
	files := project(nil)
	for b.Loop() {
		loadOnce, roots, loadErr = sync.Once{}, nil, nil
		if _, err := Check(files, "/p/arena.yaml", "app/arena.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck is a project checked once the schemas are loaded.
func BenchmarkCheck(b *testing.B) {
	files := project(nil)
	for b.Loop() {
		if _, err := Check(files, "/p/arena.yaml", "app/arena.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
