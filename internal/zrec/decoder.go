package zrec

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// maxPooledPayload is the largest payload decoded into a pooled scratch
// buffer by AppendRecord; larger ones are decoded into the caller's buffer,
// so the pool never pins huge buffers.
const maxPooledPayload = 64 << 10

// Decoder decodes stored groups (doc.go). It is safe for concurrent use and
// does not allocate in steady state: scratch buffers come from a pool. A
// scratch in use by the fast decoder (zdec.go) holds a copy of the
// dictionary's content followed by the group being decoded, its own
// tables and a literals buffer: about the dictionary size + 30 KiB + the
// payload, so about 100 KiB with a 64 KiB dictionary and groups of 1 KiB.
type Decoder struct {
	dec        *zstd.Decoder
	zd         *zdict // the fast decoder's tables (zdec.go); nil: klauspost only
	dictID     uint32
	maxPayload int
	checksum   bool
	pool       sync.Pool // *scratch
}

// scratch holds the rebuilt zstd frame and, for AppendRecord, the
// payload, and the fast decoder's state (allocated on first use).
type scratch struct {
	frame   []byte
	payload []byte
	z       *zstate
}

// NewDecoder returns a Decoder for groups written with dictionary (nil or
// empty: none). A damaged dictionary is ErrCorrupt.
func NewDecoder(dictionary []byte, o *DecoderOptions) (*Decoder, error) {
	r := o.ensureDefaults()
	// Our own check (n <= MaxPayload, before allocating) and the cap limit
	// (the decoder writes at most n bytes into the buffer we size) are the
	// real bounds; zstd's own limits only need to admit them, and its
	// window floor for small single-segment frames.
	limit := uint64(max(r.MaxPayload, 1<<20))
	opts := []zstd.DOption{
		zstd.WithDecoderConcurrency(0), // one block decoder per GOMAXPROCS
		zstd.WithDecoderMaxMemory(limit),
		zstd.WithDecoderMaxWindow(limit),
		zstd.WithDecodeAllCapLimit(true),
	}
	d := &Decoder{maxPayload: r.MaxPayload, checksum: !r.NoChecksum, zd: noDict}
	if len(dictionary) > 0 {
		if err := checkDict(dictionary); err != nil {
			return nil, err
		}
		opts = append(opts, zstd.WithDecoderDicts(dictionary))
		d.dictID = DictID
		// A dictionary the fast decoder cannot parse is left to
		// klauspost alone (which may still refuse it below).
		d.zd, _ = parseZdict(dictionary)
	}
	if os.Getenv("KVDICT_ZDEC") == "off" {
		d.zd = nil // klauspost alone: for comparisons, or to rule the fast decoder out
	}
	dec, err := newZstdDecoder(opts)
	if err != nil {
		return nil, corruptf("dictionary: %v", err)
	}
	d.dec = dec
	return d, nil
}

// newZstdDecoder creates the zstd decoder, turning a panic while it parses
// a damaged dictionary into an error.
func newZstdDecoder(opts []zstd.DOption) (dec *zstd.Decoder, err error) {
	defer func() {
		if r := recover(); r != nil {
			dec, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return zstd.NewReader(nil, opts...)
}

// GroupLen returns the stored length of the group at the start of src
// without decoding it (a scan uses it to step from group to group).
func (d *Decoder) GroupLen(src []byte) (int, error) {
	h, err := parseHeader(src, d.maxPayload, d.checksum)
	if err != nil {
		return 0, err
	}
	return h.total(), nil
}

// AppendPayload decodes the group at the start of src (src may extend past
// the group) and appends its payload to dst. It returns the extended
// slice and the group's stored length. dst grows only if its spare
// capacity is under the payload length, which is bounded by
// DecoderOptions.MaxPayload before anything is allocated.
func (d *Decoder) AppendPayload(dst, src []byte) (out []byte, stored int, err error) {
	h, err := parseHeader(src, d.maxPayload, d.checksum)
	if err != nil {
		return dst, 0, err
	}
	start := len(dst)
	dst = slices.Grow(dst, h.n)
	if h.raw {
		dst = append(dst, src[h.dataOff:h.dataOff+h.n]...)
	} else {
		s := d.getScratch()
		data := src[h.dataOff : h.dataOff+h.m]
		if payload, ok := d.decodeFast(s, data, h.n); ok {
			dst = append(dst, payload...)
		} else {
			dst, err = d.decodeZstd(s, dst, data, h.n)
		}
		d.pool.Put(s)
		if err != nil {
			return dst[:start], 0, err
		}
	}
	if err := checkSum(h, src, dst[start:]); err != nil {
		return dst[:start], 0, err
	}
	return dst, h.total(), nil
}

// AppendRecord decodes the group at the start of src and appends its
// record i (0-based) to dst, returning the extended slice. It does not
// allocate when dst has room for the record and the payload is at most 64
// KiB (raw groups: any size).
func (d *Decoder) AppendRecord(dst, src []byte, i int) ([]byte, error) {
	h, err := parseHeader(src, d.maxPayload, d.checksum)
	if err != nil {
		return dst, err
	}
	if h.raw {
		payload := src[h.dataOff : h.dataOff+h.n]
		if err := checkSum(h, src, payload); err != nil {
			return dst, err
		}
		rec, err := Record(payload, i)
		if err != nil {
			return dst, err
		}
		return append(dst, rec...), nil
	}
	data := src[h.dataOff : h.dataOff+h.m]
	if h.n > maxPooledPayload {
		// Decode into dst itself, then move the record to the front.
		start := len(dst)
		dst = slices.Grow(dst, h.n)
		s := d.getScratch()
		dst, err = d.decodeZstd(s, dst, data, h.n)
		d.pool.Put(s)
		if err == nil {
			err = checkSum(h, src, dst[start:])
		}
		if err != nil {
			return dst[:start], err
		}
		rec, err := Record(dst[start:], i)
		if err != nil {
			return dst[:start], err
		}
		k := copy(dst[start:], rec)
		return dst[:start+k], nil
	}
	s := d.getScratch()
	defer d.pool.Put(s)
	payload, ok := d.decodeFast(s, data, h.n)
	if !ok {
		s.payload, err = d.decodeZstd(s, slices.Grow(s.payload[:0], h.n), data, h.n)
		if err != nil {
			return dst, err
		}
		payload = s.payload
	}
	if err := checkSum(h, src, payload); err != nil {
		return dst, err
	}
	rec, err := Record(payload, i)
	if err != nil {
		return dst, err
	}
	return append(dst, rec...), nil
}

// getScratch returns a pooled scratch.
func (d *Decoder) getScratch() *scratch {
	if s, _ := d.pool.Get().(*scratch); s != nil {
		return s
	}
	return &scratch{frame: make([]byte, 0, 1024)}
}

// decodeFast decodes a compressed group's zstd data to its n-byte payload
// with the fast decoder (zdec.go), returning the payload (aliasing s,
// valid until s is reused). ok is false when the fast decoder is off, the
// payload is over maxPooledPayload (klauspost decodes large frames about
// as fast, straight into the caller's buffer), or the data is damaged or
// of a shape the fast decoder refuses: the caller then decodes with
// decodeZstd, so that klauspost's verdict stands.
func (d *Decoder) decodeFast(s *scratch, data []byte, n int) (payload []byte, ok bool) {
	if d.zd == nil || n > maxPooledPayload {
		return nil, false
	}
	if s.z == nil {
		s.z = newZstate()
	}
	payload, err := s.z.decodeFrame(d.zd, data, n)
	if cap(s.z.lits) > maxPooledPayload {
		s.z.lits = nil
	}
	return payload, err == nil
}

// decodeZstd rebuilds the frame of a compressed group from its data and
// appends the n-byte payload to dst, whose spare capacity must be >= n.
// Any failure, including a panic inside the zstd decoder, is ErrCorrupt.
func (d *Decoder) decodeZstd(s *scratch, dst, data []byte, n int) (out []byte, err error) {
	start := len(dst)
	s.frame = appendFrameHeader(s.frame[:0], n, d.dictID)
	s.frame = append(s.frame, data...)
	defer func() {
		if r := recover(); r != nil {
			out, err = dst[:start], corruptf("zstd decoder: %v", r)
		}
		if cap(s.frame) > maxPooledPayload {
			s.frame = nil
		}

	}()
	// The decoder writes into dst's spare capacity, limited to n bytes.
	got, err := d.dec.DecodeAll(s.frame, dst[start:start:start+n])
	if err != nil {
		return dst[:start], corruptf("zstd: %v", err)
	}
	if len(got) != n {
		return dst[:start], corruptf("payload decoded to %d bytes, header says %d", len(got), n)
	}
	if n > 0 && &got[0] != &dst[start : start+1][0] {
		copy(dst[start:start+n], got) // never expected: the capacity sufficed
	}
	return dst[:start+n], nil
}

// checkSum verifies the payload checksum of a group, if it has one.
func checkSum(h header, src, payload []byte) error {
	if !h.checksum {
		return nil
	}
	off := h.dataOff + h.m
	want := binary.LittleEndian.Uint32(src[off : off+checksumLen])
	if got := crc32.Checksum(payload, castagnoli); got != want {
		return corruptf("payload CRC-32C %08x, stored %08x", got, want)
	}
	return nil
}

// Close releases the decoder's resources. The Decoder must not be used
// afterwards.
func (d *Decoder) Close() { d.dec.Close() }
