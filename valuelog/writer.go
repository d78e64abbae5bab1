package valuelog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/kvdict/kvdict/internal/frame"
)

// Writer streams values into a value log. Create one with NewWriter, call
// Append for each value and Close once. It is not safe for concurrent use.
//
// Memory: an internal write buffer (2 MiB, frame.DefaultBufSize) plus the dedup cache (at most
// WriterOptions.DedupBytes); it does not grow with the number of values.
//
// Errors are sticky: after the first failed write every call returns it.
type Writer struct {
	fw     *frame.Writer
	cache  *dedupCache // nil when dedup is off
	keyed  bool        // version 2: AppendKeyed only
	z      *zwriter    // codec 1 (WriterOptions.Compression), else nil
	hdr    [maxRecordHeader]byte
	buf    []byte // keyed record head being assembled
	stats  WriterStats
	err    error
	closed bool
}

// WriterStats counts what a Writer has done so far.
type WriterStats struct {
	Appends      uint64 // calls to Append that succeeded
	Records      uint64 // records written (Appends minus DedupHits; all Appends when keyed)
	DedupHits    uint64 // Appends answered with an existing record (keyed: a reference)
	BytesWritten uint64 // file bytes produced: header, records and, after Close, footer
	PayloadBytes uint64 // compressed logs: bytes of the records before compression
}

// NewWriter writes the value log header to w and returns a Writer. A nil
// opts means defaults. The Writer never closes w.
func NewWriter(w io.Writer, opts *WriterOptions) (*Writer, error) {
	o := opts.ensureDefaults()
	version := uint32(VersionValues)
	if o.Keyed {
		version = VersionKeyed
	}
	codec := uint32(CodecRaw)
	var z *zwriter
	var head []byte
	if o.Compression != nil {
		var err error
		if z, head, err = newZwriter(o.Compression); err != nil {
			return nil, err
		}
		codec = CodecZstd
	}
	fw, err := frame.NewWriter(w, frame.Header{Magic: Magic, Version: version, Flags: codec}, 0)
	if err != nil {
		return nil, fmt.Errorf("valuelog: writing header: %w", err)
	}
	if _, err := fw.Write(head); err != nil {
		return nil, fmt.Errorf("valuelog: writing the compression header: %w", err)
	}
	return &Writer{fw: fw, cache: newDedupCache(o.DedupBytes), keyed: o.Keyed, z: z}, nil
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// ErrKeyed is returned when Append is called on a Writer made with
// WriterOptions.Keyed, or AppendKeyed on one made without it.
var ErrKeyed = errors.New("valuelog: Append writes value-only logs and AppendKeyed keyed logs (WriterOptions.Keyed)")

// AppendKeyed adds a keyed record for key and value (a version 2 log, see
// WriterOptions.Keyed) and returns its file offset. Every call writes a
// record: when an identical value is still in the dedup cache, the record
// holds the key and a reference to the earlier record instead of the value
// bytes. Keys are at most MaxKeyLen bytes; AppendKeyed does not check their
// order (the FST builder does). It does not keep key or value.
func (w *Writer) AppendKeyed(key, value []byte) (off uint64, err error) {
	if w.err != nil {
		return 0, w.err
	}
	if !w.keyed {
		return 0, ErrKeyed
	}
	if len(key) > MaxKeyLen {
		return 0, fmt.Errorf("valuelog: key of %d bytes exceeds %d", len(key), MaxKeyLen)
	}
	if w.z != nil {
		return w.appendKeyedZ(key, value)
	}
	off = frame.HeaderLen + w.fw.Len()
	c := w.cache
	var h uint64
	cache := c != nil && c.cacheable(value)
	if cache {
		h = c.hash(value)
		// A reference costs an extra read, so it is written only when it
		// is smaller than the value it replaces.
		if ref, ok := c.lookup(h, value); ok && uvarintLen(off-ref) < uvarintLen(uint64(len(value)))+len(value) {
			b := append(w.buf[:0], tagRef)
			b = binary.AppendUvarint(b, uint64(len(key)))
			b = append(b, key...)
			b = binary.AppendUvarint(b, off-ref)
			w.buf = b
			if _, err := w.fw.Write(b); err != nil {
				return 0, w.fail(off, err)
			}
			w.stats.Appends++
			w.stats.Records++
			w.stats.DedupHits++
			return off, nil
		}
	}
	b := append(w.buf[:0], tagValue)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(value)))
	w.buf = b
	if _, err := w.fw.Write(b); err != nil {
		return 0, w.fail(off, err)
	}
	if _, err := w.fw.Write(value); err != nil {
		return 0, w.fail(off, err)
	}
	w.stats.Appends++
	w.stats.Records++
	if cache {
		c.insert(h, value, off)
	}
	return off, nil
}

// Append adds value to the log and returns the file offset of the record
// that holds it, to be passed to Log.Value. If an identical value is still
// in the dedup cache, no record is written and the earlier record's offset
// is returned. Empty values are valid. Append does not keep value. In a
// compressed log (WriterOptions.Compression) the offset is an address:
// group offset << AddrShift | index (zvalues.go).
func (w *Writer) Append(value []byte) (off uint64, err error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.keyed {
		return 0, ErrKeyed
	}
	c := w.cache
	var h uint64
	cache := c != nil && c.cacheable(value)
	if cache {
		h = c.hash(value)
		if off, ok := c.lookup(h, value); ok {
			w.stats.Appends++
			w.stats.DedupHits++
			return off, nil
		}
	}
	if w.z != nil {
		off, err = w.writeValueZ(value)
	} else {
		off, err = w.writeValue(value)
	}
	if err != nil {
		return 0, err
	}
	w.stats.Appends++
	w.stats.Records++
	if cache {
		c.insert(h, value, off)
	}
	return off, nil
}

// writeValue writes a value-only record and returns its offset.
func (w *Writer) writeValue(value []byte) (uint64, error) {
	off := frame.HeaderLen + w.fw.Len()
	hdr := appendRecordHeader(w.hdr[:0], len(value))
	if _, err := w.fw.Write(hdr); err != nil {
		return 0, w.fail(off, err)
	}
	if _, err := w.fw.Write(value); err != nil {
		return 0, w.fail(off, err)
	}
	return off, nil
}

func (w *Writer) fail(off uint64, err error) error {
	w.err = fmt.Errorf("valuelog: writing record at offset %d: %w", off, err)
	return w.err
}

// Close writes the footer (with the record count) and flushes. It returns
// the footer, whose fields a manifest records. It does not close the
// underlying io.Writer. Later calls to Append or Close return ErrClosed.
func (w *Writer) Close() (Footer, error) {
	if w.err != nil {
		return frame.Footer{}, w.err
	}
	if w.z != nil {
		if err := w.closeZ(); err != nil {
			return frame.Footer{}, err
		}
	}
	f, err := w.fw.Finish(w.stats.Records)
	if err != nil {
		w.err = fmt.Errorf("valuelog: writing footer: %w", err)
		return frame.Footer{}, w.err
	}
	w.closed = true
	w.err = ErrClosed
	w.cache = nil // release the cache memory
	return f, nil
}

// Stats returns counts of what the Writer has done so far.
func (w *Writer) Stats() WriterStats {
	s := w.stats
	s.BytesWritten = frame.HeaderLen + w.fw.Len()
	if w.closed {
		s.BytesWritten += frame.FooterLen
	}
	return s
}
