package adaptersdk

import "syscall"

// region is address space for big request lines outside Go's heap: a page
// of it is resident only once written, and is given back to the kernel
// (MADV_DONTNEED) as soon as what it holds is decoded. A plan line (the
// pack, escaped) is then never resident at the same time as the pack it
// decodes to: while the pack is decoded its front to its back, the line's
// pages go as the decoded pack's come (9 MB pack: the adapter held both,
// about twice the pack, at its peak).
type region struct {
	mem  []byte
	gone int // mem[:gone] is given back
}

// newRegion reserves size bytes, or returns nil (the line is then read
// into Go's heap, in chunks).
func newRegion(size int) *region {
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return &region{mem: mem}
}

var pageSize = syscall.Getpagesize()

// release gives back the pages wholly inside mem[:n]; with all, the page
// n is in too (the line is done with).
func (r *region) release(n int, all bool) {
	end := n &^ (pageSize - 1)
	if all {
		end = min((n+pageSize-1)&^(pageSize-1), len(r.mem))
	}
	if end > r.gone {
		_ = syscall.Madvise(r.mem[r.gone:end], syscall.MADV_DONTNEED)
		r.gone = end
	}
	if all {
		r.gone = 0 // the next line writes from the start again
	}
}
