package artifacts

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

// File is one file of an artifact.
type File struct {
	Name string
	Data []byte
}

// zipTime is every entry's time, so the same files make the same zip.
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Zip archives files deterministically (sorted names, fixed times).
func Zip(files []File) ([]byte, error) {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range sorted {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.Name, err)
		}
		if _, err := w.Write(f.Data); err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}

// Limits bound what Unzip accepts.
type Limits struct {
	MaxFiles int
	MaxTotal int64 // uncompressed bytes
}

// DefaultLimits suit a plan artifact: a handful of files, well under the
// size of any real pack.
var DefaultLimits = Limits{MaxFiles: 64, MaxTotal: 512 << 20}

// Unzip reads an archive into memory, refusing entries that would escape a
// target directory (absolute paths, "..", backslashes) and archives larger
// than the limits, whatever their headers claim.
func Unzip(data []byte, lim Limits) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: not a zip archive: %v", ErrUnsafeZip, err)
	}
	if len(zr.File) > lim.MaxFiles {
		return nil, fmt.Errorf("%w: %d entries (at most %d)", ErrTooLarge, len(zr.File), lim.MaxFiles)
	}
	out := map[string][]byte{}
	var total int64
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/") {
			continue
		}
		clean := path.Clean(name)
		if strings.Contains(name, `\`) || path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("%w: entry %q points outside the archive", ErrUnsafeZip, name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnsafeZip, name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, lim.MaxTotal-total+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrUnsafeZip, name, err)
		}
		total += int64(len(b))
		if total > lim.MaxTotal {
			return nil, fmt.Errorf("%w: more than %d bytes uncompressed", ErrTooLarge, lim.MaxTotal)
		}
		out[clean] = b
	}
	return out, nil
}
