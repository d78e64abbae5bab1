package valuelog

import (
	"fmt"

	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/prefetch"
)

// Log is a loaded value log: a read-only view of the bytes passed to Load,
// typically an mmap. It is safe for concurrent use.
//
// # Caveats
//
// Slices returned by Value and by iterators alias the loaded bytes: they are
// valid only while those bytes are (for an mmap, until it is unmapped), and
// must not be modified. Their capacity equals their length, so appending to
// one copies instead of writing into the mapping.
type Log struct {
	file *frame.File
	data []byte // the whole file
	end  int    // file offset where the body ends (= where the footer starts)
	// keyed is true for a version 2 log of keyed records.
	keyed bool
	z     *zlog // codec 1 (compressed keyed records), else nil
}

// Load checks the header and footer of data, a whole value log file, and
// returns a Log reading it. It is O(1): it does not read the body; call
// Verify for that. Errors wrap ErrCorrupt, ErrMagic or ErrVersion. The Log
// keeps data and never modifies it.
func Load(data []byte) (*Log, error) {
	f, err := frame.Decode(data, Magic, Version)
	if err != nil {
		return nil, fmt.Errorf("valuelog: %w", err)
	}
	codec := f.Header.Flags
	if codec != CodecRaw && codec != CodecZstd {
		return nil, fmt.Errorf("valuelog: codec %d in header flags of a version %d log, this build reads codecs %d and %d: %w", codec, f.Header.Version, CodecRaw, CodecZstd, ErrVersion)
	}
	// Every record takes at least one byte (its length varint).
	if f.Footer.Count > f.Footer.BodyLen {
		return nil, fmt.Errorf("valuelog: footer says %d records, more than the %d body bytes can hold: %w", f.Footer.Count, f.Footer.BodyLen, ErrCorrupt)
	}
	l := &Log{file: f, data: data, end: frame.HeaderLen + len(f.Body), keyed: f.Header.Version == VersionKeyed}
	if codec == CodecZstd {
		if l.z, err = loadZ(data, l.end); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Keyed reports whether the log holds keyed records (version 2): then
// Record and Match work, and iterators yield keys.
func (l *Log) Keyed() bool { return l.keyed }

// Version returns the file's format version (VersionValues or
// VersionKeyed).
func (l *Log) Version() uint32 { return l.file.Header.Version }

// Record returns the key and value of the keyed record at off (a version
// 2 log). Both alias the loaded bytes. A reference is followed to the
// record holding the value. It does not allocate and never panics; errors
// wrap ErrCorrupt (or are ErrKeyed on a value-only log). In a compressed
// log (Compressed) it decodes the record's group and returns fresh slices:
// one allocation per call.
func (l *Log) Record(off uint64) (key, val []byte, err error) {
	if !l.keyed {
		return nil, nil, ErrKeyed
	}
	if l.z != nil {
		out, kl, err := l.appendRecordZ(nil, off)
		if err != nil {
			return nil, nil, err
		}
		return out[:kl:kl], out[kl:len(out):len(out)], nil
	}
	key, val, ref, _, err := decodeKeyed(l.data, l.end, off)
	if err != nil {
		return nil, nil, err
	}
	if ref != 0 {
		val, err = resolveRef(l.data, l.end, off, ref)
		if err != nil {
			return nil, nil, err
		}
	}
	return key, val, nil
}

// Match reports whether the keyed record at off holds key and, if so,
// returns its value. It is how a hash index confirms a candidate: an absent
// key never matches. It does not allocate and never panics, except that in
// a compressed log a match returns a freshly allocated value (MatchAppend
// does not allocate).
func (l *Log) Match(off uint64, key []byte) (val []byte, ok bool, err error) {
	if !l.keyed {
		return nil, false, ErrKeyed
	}
	if l.z != nil {
		v, ok, err := l.MatchAppend(nil, off, key)
		if ok && v == nil {
			v = []byte{}
		}
		return v, ok, err
	}
	k, val, ref, _, err := decodeKeyed(l.data, l.end, off)
	if err != nil {
		return nil, false, err
	}
	if string(k) != string(key) {
		return nil, false, nil
	}
	if ref != 0 {
		if val, err = resolveRef(l.data, l.end, off, ref); err != nil {
			return nil, false, err
		}
	}
	return val, true, nil
}

// Value returns the value of the record at file offset off, as returned by
// Writer.Append. The slice aliases the loaded bytes (see the caveats on
// Log). An offset that is not inside the body, or a record that is
// malformed or runs past the body, gives an error wrapping ErrCorrupt that
// names the offset and the reason. Value does not allocate on success, and
// never panics.
//
// Value trusts off to be a record start: an offset into the middle of a
// record decodes whatever bytes lie there (still within bounds). The FST
// that stores the offsets is checksummed for that reason.
//
// In a keyed log (version 2) off is a keyed record; its key is skipped and
// a reference is followed. In a compressed log off is an address (group
// offset << AddrShift | index) and the value is a fresh allocation
// (AppendValue does not allocate; a Cursor decodes each group once).
func (l *Log) Value(off uint64) ([]byte, error) {
	if l.keyed {
		_, v, err := l.Record(off)
		return v, err
	}
	if l.z != nil {
		v, err := l.appendValueAt(nil, off)
		if v == nil && err == nil {
			v = []byte{}
		}
		return v[:len(v):len(v)], err
	}
	v, _, err := decodeRecord(l.data, l.end, off)
	return v, err
}

// Touch reads the byte at off and the one n bytes after it (when both are
// inside the file) and returns their XOR. It exists to start a record's
// cache misses early (batch lookups issue many at once); it never fails.
func (l *Log) Touch(off uint64, n int) byte {
	if l.z != nil {
		off >>= AddrShift // the group's first bytes
	}
	if off >= uint64(len(l.data)) {
		return 0
	}
	b := l.data[off]
	if e := off + uint64(n); e < uint64(len(l.data)) {
		b ^= l.data[e]
	}
	return b
}

// Prefetch starts loading the cache lines holding the byte at off and
// the one n bytes after it, without waiting for them (see Touch, which
// waits, and internal/prefetch). Batch lookups call it for many records
// before reading any. It reads nothing and never fails.
func (l *Log) Prefetch(off uint64, n int) {
	if l.z != nil {
		off >>= AddrShift // the group's first bytes
	}
	prefetch.At(l.data, off)
	prefetch.At(l.data, off+uint64(n))
}

// Len returns the number of records, as recorded in the footer.
func (l *Log) Len() uint64 { return l.file.Footer.Count }

// Size returns the size of the file in bytes.
func (l *Log) Size() int { return len(l.data) }

// Footer returns the decoded footer.
func (l *Log) Footer() Footer { return l.file.Footer }

// Verify checks the whole file: the body checksum, then every record from
// the first to the last. Each must be well formed (in a keyed log, every
// reference must point back at a value record), the walk must end
// exactly at the end of the body, and the number of records must equal the
// footer's count. It reads the whole file (O(size)). Errors wrap
// ErrCorrupt.
func (l *Log) Verify() error {
	if err := l.file.VerifyBody(); err != nil {
		return fmt.Errorf("valuelog: %w", err)
	}
	it := l.Iter()
	for it.Next() {
	}
	return it.Err()
}
