package packdifftest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Shape describes a pack by what drives the cost of handling it: its size
// in bytes, how many prompts share them, and how many of those a pull
// request edits.
type Shape struct {
	Bytes   int // about this many bytes (indented, as packc writes)
	Prompts int
	Edits   int // prompts edited in the proposed pack, spread evenly
}

// words make template lines that read like prompts and compress like them
// (not like one sentence repeated), with the characters JSON escapes.
var words = strings.Fields(`you are a helpful support agent for {{company}} answer the customer politely
cite the order {{order_id}} never promise a refund above {{max_refund}} escalate to a human when
asked summarise the conversation in five bullet points look the order up first "quoted" text
with a \ backslash and unicode café naïve résumé tone friendly concise accurate do not invent
facts check the policy before replying the customer may be upset apologise once then help`)

// Make returns a deployed pack of the shape and the same pack with
// s.Edits prompts edited: most rewrite one line of the template, every
// tenth renames a variable and sets a temperature. The same shape always
// gives the same bytes.
func Make(s Shape) (deployed, proposed []byte) {
	perPrompt := s.Bytes / max(1, s.Prompts)
	overhead := 110 // an indented prompt without its template, about
	if perPrompt >= 600 {
		overhead = 220
	}
	tmplLen := max(40, perPrompt-overhead)
	deployed, proposed = build(s, tmplLen)
	// One correction: the overhead varies with the key length and the
	// variables; scale the templates to land on the size asked for.
	if d := len(deployed) - s.Bytes; d > s.Bytes/100 || -d > s.Bytes/100 {
		tmplLen = max(20, tmplLen-d/max(1, s.Prompts))
		deployed, proposed = build(s, tmplLen)
	}
	return deployed, proposed
}

func build(s Shape, tmplLen int) (deployed, proposed []byte) {
	perPrompt := s.Bytes / max(1, s.Prompts)
	pack := func(edited bool) []byte {
		r := rand.New(rand.NewPCG(uint64(s.Prompts), uint64(s.Bytes)))
		er := rand.New(rand.NewPCG(1, 2)) // edits draw apart: the rest stays the same
		prompts := make(map[string]any, s.Prompts)
		every := max(1, s.Prompts/max(1, s.Edits))
		for i := range s.Prompts {
			name := fmt.Sprintf("prompt-%05d", i)
			var lines []string
			for n := 0; n < tmplLen; {
				l := line(r)
				lines = append(lines, l)
				n += len(l) + 1
			}
			p := map[string]any{"id": name, "version": "1.0.0"}
			if perPrompt >= 600 { // small prompts carry no more than their text
				p["name"] = "Prompt " + name
				p["variables"] = []any{map[string]any{"name": "company", "type": "string", "required": true}}
			}
			if edited && s.Edits > 0 && i%every == 0 && i/every < s.Edits {
				if k := i / every; k%10 == 9 {
					if perPrompt >= 600 {
						p["variables"] = []any{map[string]any{"name": "brand", "type": "string", "required": true}}
					}
					p["parameters"] = map[string]any{"temperature": 0.3}
				} else {
					lines[len(lines)/2] = "Revised: " + line(er)
				}
			}
			p["system_template"] = strings.Join(lines, "\n") + "\n"
			prompts[name] = p
		}
		raw, err := json.MarshalIndent(map[string]any{
			"id": "shape", "name": "Shaped pack", "version": "1.0.0",
			"template_engine": map[string]any{"version": "v1", "syntax": "{{variable}}"}, "prompts": prompts,
			"compilation": map[string]any{"compiled_with": "promptarena v1.3.5", "created_at": "2026-11-20T10:00:00Z", "schema": "v1"},
		}, "", "  ")
		if err != nil {
			panic(err)
		}
		return raw
	}
	return pack(false), pack(true)
}

// line is a template line of 6 to 16 words.
func line(r *rand.Rand) string {
	n := 6 + r.IntN(11)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String() + "."
}
