package artifacts

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"sort"
	"strings"
	"time"
)

// File is one file of an artifact: its bytes, or a way to read them.
type File struct {
	Name string
	Data []byte
	// Open, when set, is called for a reader of the file, read to its end
	// instead of Data: a big file (a saved plan that embeds the pack, a
	// pack diff) is compressed as it is produced, never held whole. Each
	// call must give a new reader of the same bytes: an upload that has to
	// start over (a refused block list, another name) makes the archive
	// again instead of keeping it.
	Open func() io.Reader
}

// zipTime is every entry's time, so the same files make the same zip.
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Zip archives files deterministically (sorted names, fixed times).
func Zip(files []File) ([]byte, error) {
	var buf chunks
	if err := WriteZip(&buf, files); err != nil {
		return nil, err
	}
	return buf.bytes(), nil
}

// WriteZip writes Zip's archive of files to w as it is made: the same
// bytes every time. An error of w's is returned as it is.
func WriteZip(w io.Writer, files []File) error {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	zw := zip.NewWriter(w)
	// Fastest deflate: a 12 MB saved plan compresses in a third of the
	// time of the default level, and JSON still shrinks many times over
	// (upload-artifact's compression-level allows the same choice). One
	// compressor (a megabyte of tables) serves every entry in turn.
	var fw *flate.Writer
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		if fw == nil {
			var err error
			fw, err = flate.NewWriter(w, flate.BestSpeed)
			return fw, err
		}
		fw.Reset(w)
		return fw, nil
	})
	for _, f := range sorted {
		fwr, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return zipError(f.Name, err)
		}
		if f.Open != nil {
			_, err = io.Copy(fwr, f.Open())
		} else {
			_, err = fwr.Write(f.Data)
		}
		if err != nil {
			return zipError(f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return zipError("", err)
	}
	return nil
}

// sinkError is an error of the writer an archive is written to (an
// upload's), passed through WriteZip unwrapped.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

func zipError(name string, err error) error {
	var se *sinkError
	if errors.As(err, &se) {
		return se.err
	}
	if name == "" {
		return fmt.Errorf("zip: %w", err)
	}
	return fmt.Errorf("zip %s: %w", name, err)
}

// chunks collects an archive in pieces, then in one buffer of its exact
// size: a growing buffer doubled to twice a 5 MB archive and left as much
// behind at each step.
type chunks struct {
	done [][]byte
	cur  []byte
	n    int
}

func (c *chunks) Write(p []byte) (int, error) {
	n := len(p)
	c.n += n
	for len(p) > 0 {
		if len(c.cur) == cap(c.cur) {
			if c.cur != nil {
				c.done = append(c.done, c.cur)
			}
			c.cur = make([]byte, 0, 256<<10)
		}
		k := copy(c.cur[len(c.cur):cap(c.cur)], p)
		c.cur, p = c.cur[:len(c.cur)+k], p[k:]
	}
	return n, nil
}

func (c *chunks) bytes() []byte {
	out := make([]byte, 0, c.n)
	for _, d := range c.done {
		out = append(out, d...)
	}
	return append(out, c.cur...)
}

// Limits bound what Unzip accepts. A zero field means no limit.
type Limits struct {
	MaxFiles int
	MaxTotal int64 // uncompressed bytes, all entries together
	// MaxRatio bounds uncompressed bytes per compressed byte, over the
	// whole archive, once it holds more than ratioFloor bytes: deflate
	// reaches about 1000:1 on a bomb; JSON packs reach tens, and even the
	// repetitive synthetic 10 MB test pack only 162:1.
	MaxRatio int64
}

// DefaultLimits suit a plan or state artifact: a handful of files, well
// under the size of any real pack, at a ratio no real pack reaches.
var DefaultLimits = Limits{MaxFiles: 64, MaxTotal: 512 << 20, MaxRatio: 200}

// ratioFloor is the size under which the ratio is not checked: small
// archives of repetitive text may compress better, and cost little.
const ratioFloor = 16 << 20

// directoryBudget bounds the bytes archive/zip may read to list the
// entries. It reads the central directory until a header does not parse,
// whatever count the archive declares, so without a budget a small
// archive of empty entries costs hundreds of bytes of memory per 46
// bytes of input before MaxFiles can be checked.
const directoryBudget = 1 << 20

// Unzip reads an archive into memory, refusing entries that would escape a
// target directory (absolute paths, "..", backslashes) and archives beyond
// the limits. The limits are checked on the declared sizes before anything
// is decompressed, and archive/zip enforces the declared sizes while
// decompressing (a longer entry is an error), so each entry is read
// into a buffer of exactly its size: a bomb costs no memory beyond what the
// limits allow, whatever its headers claim.
func Unzip(data []byte, lim Limits) (map[string][]byte, error) {
	ra := &budgetReaderAt{r: bytes.NewReader(data), left: directoryBudget}
	zr, err := zip.NewReader(ra, int64(len(data)))
	if errors.Is(err, errDirectoryBudget) {
		return nil, fmt.Errorf("%w: the list of entries is larger than %d bytes", ErrTooLarge, directoryBudget)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not a zip archive: %v", ErrUnsafeZip, err)
	}
	ra.left = -1 // the listing is read: entries' data is read in full
	if lim.MaxFiles > 0 && len(zr.File) > lim.MaxFiles {
		return nil, fmt.Errorf("%w: %d entries (at most %d)", ErrTooLarge, len(zr.File), lim.MaxFiles)
	}
	type entry struct {
		f    *zip.File
		name string
	}
	var (
		entries                  []entry
		total, compressed, limit uint64
	)
	limit = math.MaxInt32 // one buffer per entry; no artifact needs more
	if lim.MaxTotal > 0 && uint64(lim.MaxTotal) < limit {
		limit = uint64(lim.MaxTotal)
	}
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/") {
			continue
		}
		clean := path.Clean(name)
		if strings.Contains(name, `\`) || path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("%w: entry %q points outside the archive", ErrUnsafeZip, name)
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return nil, fmt.Errorf("%w: entry %q uses compression method %d", ErrUnsafeZip, name, f.Method)
		}
		total += f.UncompressedSize64
		compressed += f.CompressedSize64
		if total > limit || total < f.UncompressedSize64 {
			return nil, fmt.Errorf("%w: more than %d bytes uncompressed", ErrTooLarge, limit)
		}
		// Entries whose compressed data would add up to more than the
		// archive overlap: the non-recursive bomb, one deflate stream
		// unpacked many times over.
		if compressed > uint64(len(data)) || compressed < f.CompressedSize64 {
			return nil, fmt.Errorf("%w: entries claim more compressed data than the archive holds (overlapping entries)", ErrUnsafeZip)
		}
		entries = append(entries, entry{f, clean})
	}
	if lim.MaxRatio > 0 && total > ratioFloor && total > uint64(lim.MaxRatio)*max(compressed, 1) {
		return nil, fmt.Errorf("%w: %d bytes compressed to %d, a ratio over %d:1 (a zip bomb?)", ErrTooLarge, total, compressed, lim.MaxRatio)
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		b, err := readEntry(e.f)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnsafeZip, e.name, err)
		}
		out[e.name] = b
	}
	return out, nil
}

// readEntry reads f into a buffer of its declared size, then to its end,
// which is where archive/zip checks the size and the CRC-32.
func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, err
	}
	var one [1]byte
	if n, err := rc.Read(one[:]); n > 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = zip.ErrFormat
		}
		return nil, err
	}
	return b, nil
}

var errDirectoryBudget = errors.New("central directory over budget")

// budgetReaderAt fails reads beyond a budget while left >= 0.
type budgetReaderAt struct {
	r    *bytes.Reader
	left int64
}

func (b *budgetReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if b.left >= 0 {
		if int64(len(p)) > b.left {
			return 0, errDirectoryBudget
		}
		b.left -= int64(len(p))
	}
	return b.r.ReadAt(p, off)
}
