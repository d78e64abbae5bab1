package reader

import (
	"errors"
	"os"
)

// Stats describes an open dictionary's size and how much of it is in the
// page cache.
type Stats struct {
	Keys       uint64 // keys
	Values     uint64 // distinct value records (identical values are stored once)
	Partitions int    // key-range partitions
	FSTBytes   int64  // size of the FST files
	LogBytes   int64  // size of the value logs
	// HashIndexBytes is the size of the hash index files (0 without the
	// hash-index feature).
	HashIndexBytes int64
	// TopBytes is the size of the FST top files (0 without the fst-top
	// feature).
	TopBytes int64
	// ResidentBytes is how much of the dictionary is in the page cache
	// now (mincore), shared with every process that has it open. A
	// dictionary much larger than ResidentBytes answers cold lookups from
	// disk.
	ResidentBytes int64
}

// Bytes is the dictionary's total size on disk, manifest excluded.
func (s Stats) Bytes() int64 { return s.FSTBytes + s.LogBytes + s.HashIndexBytes + s.TopBytes }

// Stats returns the dictionary's sizes and page-cache residency. It costs
// one mincore call per file.
func (d *Dict) Stats() (Stats, error) {
	if d.closed.Load() {
		return Stats{}, ErrClosed
	}
	s := Stats{Keys: d.man.Keys, Values: d.man.Values, Partitions: len(d.parts)}
	var errs []error
	for i := range d.parts {
		p := &d.parts[i]
		s.FSTBytes += int64(len(p.fstFile.Data))
		s.LogBytes += int64(len(p.logFile.Data))
		files := []interface {
			Resident() (int, int, error)
		}{p.fstFile, p.logFile}
		if p.hixFile != nil {
			s.HashIndexBytes += int64(len(p.hixFile.Data))
			files = append(files, p.hixFile)
		}
		if p.topFile != nil {
			s.TopBytes += int64(len(p.topFile.Data))
			files = append(files, p.topFile)
		}
		for _, f := range files {
			r, _, err := f.Resident()
			errs = append(errs, err)
			s.ResidentBytes += int64(r) * int64(os.Getpagesize())
		}
	}
	return s, errors.Join(errs...)
}
