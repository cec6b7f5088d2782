package deploy

import (
	"io"
	"strconv"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// savedPlanReader reads a saved plan as json.MarshalIndent(p, "", "  ")
// writes it (TestSavedPlanReaderAsMarshalIndent), made as it is read: the
// change list a few hundred changes at a time and the pack escaped a chunk
// at a time. encoding/json built the whole indented plan around the pack
// first: 80 ms and 8 MB for 50,000 changes, held for the upload.
type savedPlanReader struct {
	p     *SavedPlan
	stage int
	next  int    // the next change to write
	buf   []byte // made, not yet read
	mem   []byte // buf's memory
	pack  io.Reader
}

func newSavedPlanReader(p *SavedPlan) *savedPlanReader { return &savedPlanReader{p: p} }

// The stages of a saved plan.
const (
	spHead    = iota // up to the change list
	spChanges        // the changes, a batch at a time
	spPlanEnd        // summary, warnings
	spRequest        // up to the pack
	spPack           // the pack, escaped as it is read
	spEnd            // the request's other fields
	spDone
)

func (r *savedPlanReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.stage == spPack {
			n, err := r.pack.Read(p)
			if err == io.EOF {
				r.stage, err = spEnd, nil
				if n == 0 {
					continue
				}
			}
			return n, err
		}
		if r.stage == spDone {
			return 0, io.EOF
		}
		r.fill()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// fill makes the next piece of the current stage into buf.
func (r *savedPlanReader) fill() {
	b := r.mem[:0]
	q := jsonwire.AppendQuotedHTML
	p := r.p
	switch r.stage {
	case spHead:
		b = append(b, "{\n  \"version\": "...)
		b = strconv.AppendInt(b, int64(p.Version), 10)
		b = append(b, ",\n  \"created_at\": "...)
		b = q(b, p.CreatedAt)
		b = append(b, ",\n  \"provider\": "...)
		b = q(b, p.Provider)
		b = append(b, ",\n  \"environment\": "...)
		b = q(b, p.Environment)
		b = append(b, ",\n  \"pack_checksum\": "...)
		b = q(b, p.PackChecksum)
		b = append(b, ",\n  \"plan\": "...)
		switch {
		case p.Plan == nil:
			b = append(b, "null"...)
			r.stage = spRequest
		case p.Plan.Changes == nil:
			b = append(b, "{\n    \"changes\": null"...)
			r.stage = spPlanEnd
		case len(p.Plan.Changes) == 0:
			b = append(b, "{\n    \"changes\": []"...)
			r.stage = spPlanEnd
		default:
			b = append(b, "{\n    \"changes\": [\n"...)
			r.stage = spChanges
		}
	case spChanges:
		cs := p.Plan.Changes
		for ; r.next < len(cs) && len(b) < 32<<10; r.next++ {
			c := &cs[r.next]
			b = append(b, "      {\n        \"type\": "...)
			b = q(b, c.Type)
			b = append(b, ",\n        \"name\": "...)
			b = q(b, c.Name)
			b = append(b, ",\n        \"action\": "...)
			b = q(b, string(c.Action))
			if c.Detail != "" {
				b = append(b, ",\n        \"detail\": "...)
				b = q(b, c.Detail)
			}
			b = append(b, "\n      }"...)
			if r.next+1 < len(cs) {
				b = append(b, ",\n"...)
			} else {
				b = append(b, "\n    ]"...)
			}
		}
		if r.next == len(cs) {
			r.stage = spPlanEnd
		}
	case spPlanEnd:
		b = append(b, ",\n    \"summary\": "...)
		b = q(b, p.Plan.Summary)
		if len(p.Plan.Warnings) > 0 {
			b = append(b, ",\n    \"warnings\": [\n"...)
			for i, w := range p.Plan.Warnings {
				b = append(b, "      "...)
				b = q(b, w)
				if i+1 < len(p.Plan.Warnings) {
					b = append(b, ',')
				}
				b = append(b, '\n')
			}
			b = append(b, "    ]"...)
		}
		b = append(b, "\n  }"...)
		r.stage = spRequest
	case spRequest:
		b = append(b, ",\n  \"request\": "...)
		if p.Request == nil {
			b = append(b, "null\n}"...)
			r.stage = spDone
			break
		}
		b = append(b, "{\n    \"pack_json\": "...)
		r.pack = jsonwire.NewQuotedReader(p.Request.PackJSON, true)
		r.stage = spPack
	case spEnd:
		req := p.Request
		b = append(b, ",\n    \"deploy_config\": "...)
		b = q(b, req.DeployConfig)
		for _, kv := range [...][2]string{{"arena_config", req.ArenaConfig}, {"environment", req.Environment}, {"prior_state", req.PriorState}} {
			if kv[1] != "" { // omitempty
				b = append(b, ",\n    \""+kv[0]+"\": "...)
				b = q(b, kv[1])
			}
		}
		b = append(b, "\n  }\n}"...)
		r.stage = spDone
	}
	r.mem, r.buf = b, b
}
