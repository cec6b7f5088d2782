//go:build !linux

package adaptersdk

// region is Linux's (region_linux.go); elsewhere big lines are read into
// Go's heap in chunks.
type region struct{ mem []byte }

func newRegion(int) *region { return nil }

func (*region) release(int, bool) {}
