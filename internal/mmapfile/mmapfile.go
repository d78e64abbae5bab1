// Package mmapfile maps a whole file read-only and shared, so that every
// process that maps the same file shares one page-cached copy. It is the only
// place kvdict calls mmap.
package mmapfile

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"github.com/edsrzf/mmap-go"
	"golang.org/x/sys/unix"
)

// Advice is an access-pattern hint passed to madvise(2) for a mapping.
type Advice int

const (
	// AdviceNormal leaves the kernel's default readahead in place and asks
	// for transparent huge pages (MADV_HUGEPAGE): pages read from disk
	// through the mapping are cached in 2 MiB folios, mapped with 2 MiB
	// pages (one TLB entry for 512 small ones: warm random lookups in a
	// GiB-sized file were up to 2x faster). Best when the dictionary fits
	// in RAM: a cold dictionary warms up fastest.
	AdviceNormal Advice = iota
	// AdviceRandom disables readahead (MADV_RANDOM). Best when the
	// dictionary is much larger than RAM: each cold lookup then reads only
	// the few pages it touches instead of hundreds of KB around them.
	AdviceRandom
	// AdviceWillNeed asks the kernel to start reading the whole file now
	// (MADV_WILLNEED), in the background.
	AdviceWillNeed
)

// File is a read-only shared mapping of a whole file.
type File struct {
	// Data is the file's contents. It is valid until Close; touching it
	// afterwards faults (SIGSEGV), so callers must not retain it.
	Data []byte
	m    mmap.MMap
}

// Open maps the whole file at path. An empty file yields empty Data and no
// mapping (mmap of length 0 is invalid).
func Open(path string, advice Advice) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping outlives the descriptor
	return Map(f, advice)
}

// Map maps the whole of the open file f, which the caller still owns and
// may close as soon as Map returns (the mapping outlives the descriptor).
// Mapping a descriptor rather than a path lets a caller open every file
// relative to one directory (openat), so that they all come from the
// same directory even while it is being replaced.
func Map(f *os.File, advice Advice) (*File, error) {
	path := f.Name()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() == 0 {
		return &File{Data: []byte{}}, nil
	}
	if int64(int(st.Size())) != st.Size() {
		return nil, fmt.Errorf("%s: %d bytes cannot be mapped on this platform", path, st.Size())
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	mf := &File{Data: []byte(m), m: m}
	if err := mf.Advise(advice); err != nil {
		return nil, errors.Join(err, mf.Close())
	}
	return mf, nil
}

// Advise applies an access-pattern hint to the whole mapping.
func (f *File) Advise(advice Advice) error {
	if len(f.Data) == 0 {
		return nil
	}
	var a int
	switch advice {
	case AdviceNormal:
		AdviseHuge(f.Data) // only a hint
		return nil
	case AdviceRandom:
		a = unix.MADV_RANDOM
	case AdviceWillNeed:
		a = unix.MADV_WILLNEED
	default:
		return fmt.Errorf("mmapfile: unknown advice %d", advice)
	}
	if err := unix.Madvise(f.Data, a); err != nil {
		return fmt.Errorf("madvise: %w", err)
	}
	return nil
}

// Resident reports how many of the mapping's pages are in the page cache,
// and how many pages it has in all (mincore(2)).
func (f *File) Resident() (resident, total int, err error) {
	if len(f.Data) == 0 {
		return 0, 0, nil
	}
	ps := os.Getpagesize()
	vec := make([]byte, (len(f.Data)+ps-1)/ps)
	// x/sys has no Mincore wrapper on Linux; the raw call is the whole of it.
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&f.Data[0])), uintptr(len(f.Data)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, 0, fmt.Errorf("mincore: %w", errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			resident++
		}
	}
	return resident, len(vec), nil
}

// Close unmaps the file. Data must not be used afterwards.
func (f *File) Close() error {
	if f.m == nil {
		return nil
	}
	err := f.m.Unmap()
	f.m, f.Data = nil, nil
	return err
}
