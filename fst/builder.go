package fst

import (
	"bytes"
	"fmt"
	"io"

	"github.com/blevesearch/vellum"

	"github.com/kvdict/kvdict/internal/frame"
)

// BuilderOptions tunes a [Builder]. A nil *BuilderOptions, and any zero
// field, means the default.
//
// vellum shares identical suffixes between keys through a registry: a hash
// table of recently compiled states (RegistryTableSize rows, each an LRU
// list of RegistryMRUSize states). A larger registry finds more shared
// suffixes, so the file is smaller, but every compiled state is hashed and
// compared against its row, so the build is slower.
//
// # Choosing the registry size
//
// Measured with BenchmarkBuild on 1M keys (docs/BENCHMARKS.md, section 2; medians of 3
// on a shared 2-core box; CPU-time keys/s, size in bytes per key):
//
//	registry      URL-like keys (59 B)       random hex keys (32 B)
//	off (-1)      1.30 M/s  29.92 B  +24%    1.51 M/s  34.66 B  +2.1%
//	1000          0.77 M/s  26.28 B  +8.9%   0.70 M/s  34.40 B  +1.3%
//	10000         0.41 M/s  24.13 B          0.38 M/s  33.96 B
//
// The default is 10000 (vellum's own): the smallest file. A dictionary is
// built once and read many times, larger than RAM, where every extra byte
// is page-cache misses for every reader; the build runs partitions in
// parallel and its time is paid once. Keys that share suffixes (URLs,
// paths, words) grow 9 to 24% with a smaller registry, which is not "a
// few percent". Keys that share nothing (hashes, random ids) gain only 2%
// from the registry: build those with RegistryTableSize -1, 4× faster.
// Larger tables are not worth it: in an earlier measurement on 10M keys,
// 100000 rows built URL keys 4.4× slower than 10000 for 1.5% less.
type BuilderOptions struct {
	// RegistryTableSize is the number of rows in vellum's suffix registry.
	// Default DefaultRegistryTableSize. A negative value turns the registry
	// off: no suffix sharing at all, the fastest build and the largest file.
	// Memory: about 16 B per cell (rows × RegistryMRUSize) plus the states
	// the cells keep alive.
	RegistryTableSize int
	// RegistryMRUSize is the number of states kept per registry row (the
	// row is a most-recently-used list). Default 2; must not be negative.
	RegistryMRUSize int
}

// Defaults of [BuilderOptions].
const (
	DefaultRegistryTableSize = 10000
	DefaultRegistryMRUSize   = 2
	maxRegistryCells         = 1 << 26 // 64 Mi cells, about 1 GiB: a typo, not a choice
)

// vellumOpts returns vellum's options for o, with defaults applied.
func (o *BuilderOptions) vellumOpts() (*vellum.BuilderOpts, error) {
	vo := &vellum.BuilderOpts{
		Encoder:           1,
		RegistryTableSize: DefaultRegistryTableSize,
		RegistryMRUSize:   DefaultRegistryMRUSize,
	}
	if o == nil {
		return vo, nil
	}
	switch {
	case o.RegistryTableSize < 0:
		vo.RegistryTableSize = 0
	case o.RegistryTableSize > 0:
		vo.RegistryTableSize = o.RegistryTableSize
	}
	switch {
	case o.RegistryMRUSize < 0:
		return nil, fmt.Errorf("fst: BuilderOptions.RegistryMRUSize %d is negative", o.RegistryMRUSize)
	case o.RegistryMRUSize > 0:
		vo.RegistryMRUSize = o.RegistryMRUSize
	}
	if cells := uint64(vo.RegistryTableSize) * uint64(vo.RegistryMRUSize); cells > maxRegistryCells {
		return nil, fmt.Errorf("fst: registry of %d × %d cells is larger than %d", vo.RegistryTableSize, vo.RegistryMRUSize, maxRegistryCells)
	}
	return vo, nil
}

// Builder writes an FST file from keys added in strictly increasing
// bytewise order. It streams: memory stays bounded by the registry and the
// longest key, whatever the number of keys. A Builder is not safe for
// concurrent use.
//
// The first error (a rejected key or a failed write) is sticky: every later
// call returns it, and the output must be discarded.
type Builder struct {
	fw   *frame.Writer
	vb   *vellum.Builder
	last []byte // previous key, owned copy
	n    uint64 // keys added
	err  error  // sticky
}

// NewBuilder writes the file header to w and returns a Builder that writes
// the rest of the file to w. opts may be nil. The Builder buffers; nothing
// is complete until Close. It never closes w.
func NewBuilder(w io.Writer, opts *BuilderOptions) (*Builder, error) {
	vo, err := opts.vellumOpts()
	if err != nil {
		return nil, err
	}
	fw, err := frame.NewWriter(w, header, 0 /* default buffer */)
	if err != nil {
		return nil, fmt.Errorf("fst: writing header: %w", err)
	}
	vb, err := vellum.New(fw, vo)
	if err != nil {
		return nil, fmt.Errorf("fst: starting vellum builder: %w", err)
	}
	return &Builder{fw: fw, vb: vb, last: make([]byte, 0, 64)}, nil
}

// Add appends key with its value. Keys must be strictly increasing in
// bytewise order (bytes.Compare), at most [MaxKeyLen] bytes; the empty key
// is allowed (first). A rejected key yields an error wrapping
// [ErrOutOfOrder], [ErrDuplicate] or [ErrKeyTooLong] that names the keys;
// a failed write to the underlying writer is returned as soon as it is
// seen (the Builder buffers, so possibly a few calls late). Any error is
// sticky. Add does not retain key.
func (b *Builder) Add(key []byte, val uint64) error {
	if b.err != nil {
		return b.err
	}
	if len(key) > MaxKeyLen {
		b.err = fmt.Errorf("%w: key #%d %s is longer than %d bytes", ErrKeyTooLong, b.n+1, quoteKey(key), MaxKeyLen)
		return b.err
	}
	if b.n > 0 {
		switch c := bytes.Compare(key, b.last); {
		case c == 0:
			b.err = fmt.Errorf("%w: key #%d %s equals key #%d %s", ErrDuplicate, b.n+1, quoteKey(key), b.n, quoteKey(b.last))
			return b.err
		case c < 0:
			b.err = fmt.Errorf("%w: key #%d %s sorts before key #%d %s", ErrOutOfOrder, b.n+1, quoteKey(key), b.n, quoteKey(b.last))
			return b.err
		}
	}
	if err := b.vb.Insert(key, val); err != nil {
		b.err = fmt.Errorf("fst: vellum insert of key #%d %s: %w", b.n+1, quoteKey(key), err)
		return b.err
	}
	// vellum drops write errors until Close (and some forever: its
	// compileFrom discards them), so ask the frame writer, which keeps
	// the first one.
	if err := b.fw.Err(); err != nil {
		b.err = fmt.Errorf("fst: writing FST: %w", err)
		return b.err
	}
	b.last = append(b.last[:0], key...)
	b.n++
	return nil
}

// Len returns the number of keys added so far.
func (b *Builder) Len() uint64 { return b.n }

// Close finishes the FST, writes the frame footer and flushes. It returns
// the footer written (count, body length and body CRC), which is what a
// manifest records. It does not close the underlying writer. After Close,
// Add and Close return [ErrClosed].
func (b *Builder) Close() (Footer, error) {
	if b.err != nil {
		return frame.Footer{}, b.err
	}
	b.err = ErrClosed // whatever happens below, the Builder is done
	if err := b.vb.Close(); err != nil {
		b.err = fmt.Errorf("fst: finishing vellum FST: %w", err)
		return frame.Footer{}, b.err
	}
	if err := b.fw.Err(); err != nil {
		b.err = fmt.Errorf("fst: writing FST: %w", err)
		return frame.Footer{}, b.err
	}
	ft, err := b.fw.Finish(b.n)
	if err != nil {
		b.err = fmt.Errorf("fst: writing footer: %w", err)
		return frame.Footer{}, b.err
	}
	return ft, nil
}
