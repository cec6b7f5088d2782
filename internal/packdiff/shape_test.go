package packdiff

import (
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/packdiff/packdifftest"
)

// TestMakeShapes: each benchmark shape has the size and prompt count asked
// for, and its proposed pack differs from the deployed one in exactly the
// edited prompts.
func TestMakeShapes(t *testing.T) {
	for _, s := range []packdifftest.Shape{{Bytes: 9 << 20, Prompts: 3000, Edits: 200}, {Bytes: 9 << 20, Prompts: 50000, Edits: 200}, {Bytes: 10 << 20, Prompts: 10, Edits: 10}, {Bytes: 200 << 10, Prompts: 100, Edits: 0}} {
		old, cur := packdifftest.Make(s)
		if d := len(old) - s.Bytes; d > s.Bytes/50 || -d > s.Bytes/50 {
			t.Errorf("%+v: %d bytes", s, len(old))
		}
		d, err := Compare(old, cur)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Prompts) != s.Edits || d.Unchanged != s.Prompts-s.Edits {
			t.Errorf("%+v: %d prompts differ, %d unchanged", s, len(d.Prompts), d.Unchanged)
		}
	}
}
