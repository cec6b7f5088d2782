// Package packdifftest makes large, realistic pairs of packs for tests and
// benchmarks of the pack diff and the reports that show it.
package packdifftest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Packs returns a deployed pack of n prompts, each with a template of about
// templateBytes bytes over many lines, and the same pack with edits of
// its prompts changed: every tenth edit renames a variable and sets a
// temperature, the others rewrite a line or two of the template.
func Packs(n, edits, templateBytes int) (deployed, proposed []byte) {
	build := func(edited bool) []byte {
		prompts := make(map[string]any, n)
		for i := range n {
			name := fmt.Sprintf("prompt-%05d", i)
			var b strings.Builder
			for l := 0; b.Len() < templateBytes; l++ {
				fmt.Fprintf(&b, "Rule %d for %s: answer the customer of {{company}} politely and cite the order {{order_id}}.\n", l, name)
			}
			tmpl := b.String()
			vars := []any{map[string]any{"name": "company", "type": "string", "required": true}}
			p := map[string]any{"id": name, "name": "Prompt " + name, "version": "1.0.0", "system_template": tmpl, "variables": vars}
			// Spread the edits over the pack.
			if edited && edits > 0 && i%max(1, n/edits) == 0 && i/max(1, n/edits) < edits {
				k := i / max(1, n/edits)
				if k%10 == 9 {
					vars[0] = map[string]any{"name": "brand", "type": "string", "required": true}
					p["parameters"] = map[string]any{"temperature": 0.3}
				} else {
					p["system_template"] = strings.Replace(tmpl, "Rule 3 for", "Rule 3 (revised) for", 1) + "Never promise a refund.\n"
				}
			}
			prompts[name] = p
		}
		raw, err := json.MarshalIndent(map[string]any{
			"id": "big", "name": "Big pack", "version": "1.0.0",
			"template_engine": map[string]any{"version": "v1", "syntax": "{{variable}}"}, "prompts": prompts,
		}, "", "  ")
		if err != nil {
			panic(err)
		}
		return raw
	}
	return build(false), build(true)
}
