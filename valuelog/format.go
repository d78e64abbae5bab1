package valuelog

import (
	"encoding/binary"
	"fmt"

	"github.com/kvdict/kvdict/internal/frame"
)

// Magic is the 8-byte magic at the start and end of every value log file.
const Magic = "kvdVLOG\x00"

// Version is the newest format version this build writes and reads.
// Versions form an append-only list:
//
//	1: raw records (codec 0): uvarint length + value bytes, addressed by
//	   absolute file offset.
const Version = 1

// Codecs, stored in the header flags. Version 1 defines only CodecRaw; a
// reader rejects any other codec with ErrVersion.
const (
	// CodecRaw stores each value verbatim as one record.
	CodecRaw = 0
)

// maxRecordHeader is the longest uvarint length prefix (a uint64 needs at
// most 10 bytes of 7 bits each).
const maxRecordHeader = binary.MaxVarintLen64

// Record layout (codec 0). A record starts at an absolute file offset off,
// HeaderLen <= off < HeaderLen+BodyLen, and is:
//
//	 0:k       value length n, unsigned LEB128 varint (uvarint), 1 <= k <= 10
//	 k:k+n     value bytes, verbatim
//
// Worked example: the value "hi" at offset 16 is the 3 bytes 02 68 69; the
// empty value is the single byte 00; a 300-byte value starts ac 02.

// appendRecordHeader appends the uvarint length prefix for a value of n
// bytes to dst.
func appendRecordHeader(dst []byte, n int) []byte {
	return binary.AppendUvarint(dst, uint64(n))
}

// decodeRecord decodes the record at absolute file offset off of data, a
// whole value log whose body ends at end (= len(data)-FooterLen). It returns
// the value (with its capacity cut to its length) and the offset of the
// next record. It never panics, whatever data holds.
func decodeRecord(data []byte, end int, off uint64) (val []byte, next uint64, err error) {
	if off < frame.HeaderLen || off >= uint64(end) {
		return nil, 0, corruptf(off, "offset outside the body [%d, %d)", frame.HeaderLen, end)
	}
	p := int(off)
	n, k := binary.Uvarint(data[p:end])
	if k == 0 {
		return nil, 0, corruptf(off, "length varint truncated by the end of the body at %d", end)
	}
	if k < 0 {
		return nil, 0, corruptf(off, "length varint longer than %d bytes or over 64 bits", maxRecordHeader)
	}
	p += k
	if n > uint64(end-p) {
		return nil, 0, corruptf(off, "length %d runs past the end of the body at %d", n, end)
	}
	q := p + int(n)
	return data[p:q:q], uint64(q), nil
}

// corruptf returns an ErrCorrupt error about the record at off.
func corruptf(off uint64, format string, args ...any) error {
	return fmt.Errorf("valuelog: record at offset %d: %s: %w", off, fmt.Sprintf(format, args...), ErrCorrupt)
}
