package arenaschema

import (
	"fmt"
	"runtime"
	"testing"
	"weak"
)

// BenchmarkFirstCheck is the cost a run pays once: the bundle unzipped and
// parsed, then one project checked (arena file, provider, prompt, tool).
func BenchmarkFirstCheck(b *testing.B) {
	files := project(nil)
	for b.Loop() {
		cache = weak.Pointer[loaded]{}
		if _, err := Check(files, "/p/arena.yaml", "app/arena.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck is a project checked once the schemas are loaded (and
// kept: a check that finds them collected parses them again).
func BenchmarkCheck(b *testing.B) {
	files := project(nil)
	keep, err := load()
	if err != nil {
		b.Fatal(err)
	}
	defer runtime.KeepAlive(keep)
	for b.Loop() {
		if _, err := Check(files, "/p/arena.yaml", "app/arena.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSchemasNotKeptAfterCheck: the parsed bundle is not kept once the
// check is done (it was 1.5 MB of a plan run's peak), and a later check
// parses it again and answers the same.
func TestSchemasNotKeptAfterCheck(t *testing.T) {
	files := project(nil)
	first, err := Check(files, "/p/arena.yaml", "app/arena.yaml")
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	if cache.Value() != nil {
		t.Fatal("the parsed schemas are still held after the check")
	}
	again, err := Check(files, "/p/arena.yaml", "app/arena.yaml")
	if err != nil || fmt.Sprint(again) != fmt.Sprint(first) {
		t.Fatalf("checked again: %v %v, first %v", again, err, first)
	}
}

// TestConcurrentChecksOfFreshSchemas: checks running at once on schemas
// just parsed (each compiles subschemas on first use) answer alike.
func TestConcurrentChecksOfFreshSchemas(t *testing.T) {
	files := project(nil)
	want, err := Check(files, "/p/arena.yaml", "app/arena.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		loadMu.Lock()
		cache = weak.Pointer[loaded]{}
		loadMu.Unlock()
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				got, err := Check(files, "/p/arena.yaml", "app/arena.yaml")
				if err == nil && fmt.Sprint(got) != fmt.Sprint(want) {
					err = fmt.Errorf("got %v, want %v", got, want)
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
}
