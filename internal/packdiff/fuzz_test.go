package packdiff

import (
	"encoding/json"
	"testing"
)

// FuzzCompare: packs are pull request input. Whatever the bytes, Compare
// returns a diff or an error, never panics; and on valid JSON objects the
// one-pass splitter agrees with encoding/json.
func FuzzCompare(f *testing.F) {
	f.Add([]byte(`{"prompts":{"a":{"system_template":"x\ny"}}}`), []byte(`{"prompts":{"a":{"system_template":"x\nz"},"b":{}}}`))
	f.Add([]byte(`{"prompts":{"a":{"id":"a","variables":[{"name":"v"}]}}}`), []byte(`{"prompts":{"b":{"id":"b","variables":[{"name":"v","type":"x"}]}}}`))
	f.Add([]byte(`{"a\"b":"\\\"","prompts":{}}`), []byte(`{}`))
	f.Add([]byte(``), []byte(`{"prompts":{"x":"not an object"}}`))
	f.Fuzz(func(t *testing.T, old, cur []byte) {
		d, err := Compare(old, cur)
		if err == nil {
			_ = d.Text("a", "b")
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(cur, &want) == nil && want != nil {
			got, err := splitObject(cur)
			if err != nil {
				t.Fatalf("splitObject(%q): %v; encoding/json reads it", cur, err)
			}
			for k, v := range want {
				if string(got[k]) != string(v) {
					t.Fatalf("%q: %q = %s, encoding/json %s", cur, k, got[k], v)
				}
			}
		}
	})
}
