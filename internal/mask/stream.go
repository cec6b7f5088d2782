package mask

import "io"

// Reader reads r masked: exactly what Bytes would make of all of r, without
// holding all of r. Masking is a left-to-right scan that at each position
// replaces the longest secret starting there, so text before a position
// where no secret can start is final: while no probe (a secret's first
// bytes) is seen, everything but the last probeLen-1 bytes (which could
// begin one) is passed on as it comes. From the first probe seen on, the
// rest is read whole and masked at the end, as Bytes does: rare (it is a
// secret, or text that begins like one), and never worse than Bytes.
func (m *Masker) Reader(r io.Reader) io.Reader {
	repl, _, probes := m.snapshot()
	return &maskReader{src: r, repl: repl, probes: probes}
}

type maskReader struct {
	src     io.Reader
	repl    interface{ Replace(string) string }
	probes  []string
	held    []byte // read, not yet passed on
	out     []byte // ready to pass on
	pending int    // held[:pending] is out, being read
	whole   bool   // a probe was seen: mask the rest at the end
	eof     bool
}

const streamChunk = 64 << 10

func (r *maskReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	if len(r.out) == 0 && r.pending > 0 { // held[:pending] was passed on
		r.held = r.held[:copy(r.held, r.held[r.pending:])]
		r.pending = 0
	}
	return n, nil
}

func (r *maskReader) fill() error {
	if r.repl == nil { // nothing to mask
		if r.held == nil {
			r.held = make([]byte, streamChunk)
		}
		n, err := r.src.Read(r.held)
		r.out = r.held[:n]
		return r.end(err)
	}
	if r.whole {
		rest, err := io.ReadAll(r.src)
		if err != nil {
			return err
		}
		r.out, r.held, r.eof = []byte(r.repl.Replace(string(append(r.held, rest...)))), nil, true
		return nil
	}
	start := len(r.held)
	if cap(r.held)-start < streamChunk {
		r.held = append(make([]byte, 0, start+streamChunk), r.held...)
	}
	n, err := r.src.Read(r.held[start : start+streamChunk])
	r.held = r.held[:start+n]
	if err := r.end(err); err != nil {
		return err
	}
	// A probe starting in the text held back from the last read is found
	// here too: the search starts far enough back.
	from := max(0, start-(probeLen-1))
	if containsAnyBytes(r.held[from:], r.probes) {
		r.whole = true
		if r.eof {
			r.out, r.held = []byte(r.repl.Replace(string(r.held))), nil
		}
		return nil
	}
	keep := probeLen - 1
	if r.eof {
		keep = 0
	}
	// Pass on all but the kept bytes; they move to the front of the
	// buffer once what was passed on has been read (see Read).
	cut := max(0, len(r.held)-keep)
	r.out, r.pending = r.held[:cut], cut
	return nil
}

func (r *maskReader) end(err error) error {
	if err == io.EOF {
		r.eof = true
		return nil
	}
	return err
}

// Detector reads through r and reports whether what was read holds a
// secret in any of its forms: ContainsBytes over the whole stream, without
// holding it.
type Detector struct {
	src     io.Reader
	secrets []string
	probes  []string
	tail    []byte // the last bytes read, where a secret may begin
	longest int
	found   bool
}

// Detect returns a Detector reading r.
func (m *Masker) Detect(r io.Reader) *Detector {
	_, secrets, probes := m.snapshot()
	d := &Detector{src: r, secrets: secrets, probes: probes}
	for _, s := range secrets {
		d.longest = max(d.longest, len(s))
	}
	return d
}

// Found reports whether a secret was in what was read.
func (d *Detector) Found() bool { return d.found }

// Reading makes d read r from now on (the same text made again, say):
// what it found so far stays found.
func (d *Detector) Reading(r io.Reader) *Detector {
	d.src, d.tail = r, d.tail[:0]
	return d
}

func (d *Detector) Read(p []byte) (int, error) {
	n, err := d.src.Read(p)
	if n > 0 && !d.found && d.longest > 0 {
		b := p[:n]
		// A secret across the previous read and this one is in tail+head.
		edge := append(d.tail, b[:min(len(b), d.longest-1)]...)
		d.found = containsAnyBytes(b, d.probes) && containsAnyBytes(b, d.secrets) ||
			containsAnyBytes(edge, d.probes) && containsAnyBytes(edge, d.secrets)
		// Keep the last longest-1 bytes read, of the tail and b together.
		k := d.longest - 1
		if len(b) >= k {
			d.tail = append(d.tail[:0], b[len(b)-k:]...)
		} else {
			d.tail = append(d.tail, b...)
			d.tail = d.tail[max(0, len(d.tail)-k):]
		}
	}
	return n, err
}
