package mask

import (
	"bytes"
	"io"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// chunky reads r in pieces of random sizes, as an archive writer might.
type chunky struct {
	r   io.Reader
	rnd *rand.Rand
}

func (c *chunky) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), 1+c.rnd.Intn(40))])
}

// TestStreamsMatchWholeBuffers: masking a stream gives exactly what Bytes
// gives for the whole of it, and Detect finds a secret exactly when
// ContainsBytes does, whatever the read sizes and wherever secrets, their
// prefixes and their escaped forms fall (across reads, overlapping,
// at the ends).
func TestStreamsMatchWholeBuffers(t *testing.T) {
	rnd := rand.New(rand.NewSource(7))
	maskers := []*Masker{
		NewMasker(),
		NewMasker("s3cr3t-value"),
		NewMasker("tok1", "tok1-longer-token-value", "line one\nline two", `q"uote`),
		NewMasker("abcdefghijklmnopqrstuvwxyz-0123456789"),
	}
	parts := []string{"x", "y ", "\n", "tok", "tok1", "tok1-longer", "-token-value", "s3cr3t", "-value", "s3cr3t-value",
		"line one", "line two", `q\"uote`, "abcdefghijkl", "mnopqrstuvwxyz-0123456789", "é"}
	for i := 0; i < 1500; i++ {
		m := maskers[i%len(maskers)]
		var sb strings.Builder
		n := rnd.Intn(60)
		if i%100 == 0 {
			n = 20000 // past a chunk
		}
		for j := 0; j < n; j++ {
			sb.WriteString(parts[rnd.Intn(len(parts))])
		}
		in := []byte(sb.String())
		want := m.Bytes(append([]byte(nil), in...))
		var src io.Reader = &chunky{bytes.NewReader(in), rnd}
		if i%3 == 0 {
			src = iotest.OneByteReader(bytes.NewReader(in))
		}
		got, err := io.ReadAll(&chunky{m.Reader(src), rnd})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("masker %d, %q:\nstream %q\nwhole  %q", i%len(maskers), in, got, want)
		}
		d := m.Detect(&chunky{bytes.NewReader(in), rnd})
		if _, err := io.Copy(io.Discard, &chunky{d, rnd}); err != nil {
			t.Fatal(err)
		}
		if d.Found() != m.ContainsBytes(in) {
			t.Fatalf("masker %d, %q: Detect %v, ContainsBytes %v", i%len(maskers), in, d.Found(), m.ContainsBytes(in))
		}
	}
}
