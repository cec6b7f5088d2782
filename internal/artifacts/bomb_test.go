package artifacts

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// deflateZeros is a raw deflate stream of n MiB of zeros, made without
// compressing them: after a sync flush, the block that encodes 1 MiB of
// zeros after zeros can be repeated.
func deflateZeros(t testing.TB, mib int) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	_, _ = fw.Write(chunk)
	_ = fw.Flush()
	first := buf.Len()
	_, _ = fw.Write(chunk)
	_ = fw.Flush()
	block := append([]byte(nil), buf.Bytes()[first:]...)
	out := append([]byte(nil), buf.Bytes()[:first]...)
	for i := 1; i < mib; i++ {
		out = append(out, block...)
	}
	// A final, empty stored block ends the stream (a flush leaves it
	// byte-aligned).
	return append(out, 0x01, 0x00, 0x00, 0xff, 0xff)
}

// rawZip archives entries of raw deflate data with the sizes they declare.
func rawZip(t testing.TB, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate, CompressedSize64: uint64(len(e.data)), UncompressedSize64: e.declared, CRC32: e.crc})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type rawEntry struct {
	name     string
	data     []byte
	declared uint64
	crc      uint32
}

// overlappingZip is the non-recursive bomb: n central directory entries
// all pointing at one local file, each unpacking the whole stream.
func overlappingZip(stream []byte, declared uint64, n int) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	le(uint32(0x04034b50))
	le([]uint16{20, 0, 8, 0, 0})
	le(uint32(0))
	le([]uint32{uint32(len(stream)), uint32(declared)})
	le([]uint16{1, 0})
	b.WriteString("a")
	b.Write(stream)
	dirStart := b.Len()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%03d", i)
		le(uint32(0x02014b50))
		le([]uint16{20, 20, 0, 8, 0, 0})
		le(uint32(0))
		le([]uint32{uint32(len(stream)), uint32(declared)})
		le([]uint16{uint16(len(name)), 0, 0, 0, 0})
		le([]uint32{0, 0}) // external attributes, local header offset 0
		b.WriteString(name)
	}
	dirLen := b.Len() - dirStart
	le(uint32(0x06054b50))
	le([]uint16{0, 0, uint16(n), uint16(n)})
	le([]uint32{uint32(dirLen), uint32(dirStart)})
	le(uint16(0))
	return b.Bytes()
}

// emptyEntries is an archive of n empty files, whatever count it declares.
func emptyEntries(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < n; i++ {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprint(i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	_ = zw.Close()
	return buf.Bytes()
}

// allocated is the heap allocated while f runs (an upper bound of the
// memory it took).
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestUnzipBombsStayUnder64MB: every kind of zip bomb is refused, and
// refusing it allocates far less than the 64 MiB bound (measured, not
// assumed). Not parallel: the measure is process-wide.
func TestUnzipBombsStayUnder64MB(t *testing.T) {
	gib := deflateZeros(t, 1024)   // 1 GiB of zeros in ~1 MiB
	mib100 := deflateZeros(t, 100) // 100 MiB
	mib8 := deflateZeros(t, 8)
	noRatio := Limits{MaxFiles: 64, MaxTotal: 512 << 20}
	cases := []struct {
		name string
		zip  []byte
		lim  Limits
		want error
		msg  string
	}{
		{"1 GiB declared", rawZip(t, rawEntry{name: "deploy.plan", data: gib, declared: 1 << 30}), DefaultLimits, ErrTooLarge, "more than 536870912 bytes uncompressed"},
		{"1 GiB declared as 1 KiB", rawZip(t, rawEntry{name: "deploy.plan", data: gib, declared: 1 << 10}), DefaultLimits, ErrUnsafeZip, "deploy.plan"},
		{"1 GiB declared as 0 bytes", rawZip(t, rawEntry{name: "deploy.plan", data: gib}), DefaultLimits, ErrUnsafeZip, "deploy.plan"},
		{"100 MiB at 1000:1, under the total", rawZip(t, rawEntry{name: "deploy.plan", data: mib100, declared: 100 << 20}), DefaultLimits, ErrTooLarge, "ratio over 200:1"},
		{"60 entries of 8 MiB, each 8 MiB of zeros", rawZip(t, func() []rawEntry {
			var es []rawEntry
			for i := 0; i < 60; i++ {
				es = append(es, rawEntry{name: fmt.Sprint(i), data: mib8, declared: 8 << 20})
			}
			return es
		}()...), DefaultLimits, ErrTooLarge, "ratio over 200:1"},
		{"overlapping entries (no ratio limit)", overlappingZip(mib8, 8<<20, 60), noRatio, ErrUnsafeZip, "overlapping entries"},
		{"65 entries", emptyEntries(t, 65), DefaultLimits, ErrTooLarge, "65 entries (at most 64)"},
		{"30,000 entries declared as 1", func() []byte {
			z := emptyEntries(t, 30001)
			binary.LittleEndian.PutUint16(z[len(z)-12:], 1) // entries on this disk
			binary.LittleEndian.PutUint16(z[len(z)-10:], 1) // entries in all: 30001 mod 65536 is 30001, so this lies
			return z
		}(), DefaultLimits, ErrTooLarge, "list of entries is larger than"},
		{"200,000 empty entries", emptyEntries(t, 200000), DefaultLimits, ErrTooLarge, "list of entries is larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = Unzip(tc.zip, tc.lim) })
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v with %q", err, tc.want, tc.msg)
			}
			t.Logf("%d KiB archive refused after %d KiB allocated: %v", len(tc.zip)>>10, n>>10, err)
			if n > 64<<20 {
				t.Fatalf("refusing it allocated %d MiB", n>>20)
			}
		})
	}
}

// TestUnzipRealArtifactWithinItsSize: a 10 MB pack's plan artifact (162:1,
// the most compressible pack we know) unzips, allocating little more than
// its own size: one exact buffer per entry, no doubling.
func TestUnzipRealArtifactWithinItsSize(t *testing.T) {
	plan, _ := json.Marshal(map[string]any{"request": map[string]any{"pack_json": deploytest.BigPack(10 << 20)}})
	z, err := Zip([]File{{Name: "deploy.plan", Data: plan}, {Name: "provenance.json", Data: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	var files map[string][]byte
	n := allocated(func() { files, err = Unzip(z, DefaultLimits) })
	if err != nil || !bytes.Equal(files["deploy.plan"], plan) {
		t.Fatalf("unzip: %v", err)
	}
	t.Logf("%d KiB of plan from %d KiB: %d KiB allocated", len(plan)>>10, len(z)>>10, n>>10)
	if n > uint64(len(plan))+2<<20 {
		t.Errorf("allocated %d KiB for %d KiB of content", n>>10, len(plan)>>10)
	}
}
