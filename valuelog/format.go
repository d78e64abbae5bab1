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
//	2: keyed records: every key has its own record holding the key and
//	   either its value or a back-reference to an earlier record with the
//	   same value (see "Keyed records" below). Written when a dictionary
//	   carries the manifest feature "keyed-records" (a hash index needs the
//	   key beside the value to confirm a match; scans read keys and values
//	   in one sequential pass).
const Version = 2

// Format versions, as stored in the header.
const (
	VersionValues = 1 // value-only records
	VersionKeyed  = 2 // keyed records
)

// Codecs, stored in the header flags: CodecRaw, and CodecZstd, compressed
// groups of keyed records in version 2 (zstd.go) and, since feature
// zstd-values, of value records in version 1 (zvalues.go; earlier readers
// rejected CodecZstd in a version 1 log with ErrVersion). A reader rejects
// any other codec with ErrVersion.
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

// Keyed records (version 2, codec 0). A record starts at an absolute file
// offset off, HeaderLen <= off < HeaderLen+BodyLen, with a tag byte:
//
//	tag 0x00, a keyed value:
//	 0:1       tag 0x00
//	 1:1+a     key length k, uvarint (k <= 65535)
//	 ..+k      key bytes
//	 ..+b      value length n, uvarint
//	 ..+n      value bytes
//
//	tag 0x01, a keyed reference (the value is shared with an earlier key):
//	 0:1       tag 0x01
//	 1:1+a     key length k, uvarint (k <= 65535)
//	 ..+k      key bytes
//	 ..+b      back distance d, uvarint, 1 <= d <= off-HeaderLen: the
//	           value is the value of the tag-0x00 record at off-d (a
//	           reference never points at another reference)
//
//	tags 0x02-0xff: reserved. Issue 9's compressed records will use a new
//	codec in the header flags (so this build refuses such a file at Load
//	with ErrVersion) and may define new tags for blocks; a codec-0 file
//	holding any other tag is corrupt.
//
// The footer's count is the number of records, which in version 2 is the
// number of keys: every key has exactly one record, written in key order,
// so reading the body from start to end yields every key in order with its
// value (Iterator). The FST's output and the hash index's address for a key
// are both the offset of the key's own record.
//
// Worked example (testdata/golden-v2.vlog, pinned by TestGolden): keys "a"
// -> "x", "b" -> "" and "c" -> "x" (shares "a"'s value):
//
//	off  0: 6b 76 64 56 4c 4f 47 00 02 00 00 00 00 00 00 00   header, version 2
//	off 16: 00 01 61 01 78                                    "a" -> "x"   (tag 0)
//	off 21: 00 01 62 00                                       "b" -> ""    (tag 0)
//	off 25: 01 01 63 09                                       "c" -> the value at 25-9 = 16
//	off 29: 03 00 00 00 00 00 00 00  0d 00 00 00 00 00 00 00   count 3, body length 13
//	        8b 64 d2 bb  2f c5 24 d6  6b 76 64 56 4c 4f 47 00   body CRC, footer CRC, magic
const (
	tagValue = 0x00
	tagRef   = 0x01
)

// MaxKeyLen is the longest key a keyed record holds (the FST's limit).
const MaxKeyLen = 65535

// decodeKeyed decodes the keyed record at off. It returns the key, and
// either the value (ref == 0) or the absolute offset ref of the tag-0
// record holding the value. It never panics.
func decodeKeyed(data []byte, end int, off uint64) (key, val []byte, ref, next uint64, err error) {
	if off < frame.HeaderLen || off >= uint64(end) {
		return nil, nil, 0, 0, corruptf(off, "offset outside the body [%d, %d)", frame.HeaderLen, end)
	}
	p := int(off)
	tag := data[p]
	if tag > tagRef {
		return nil, nil, 0, 0, corruptf(off, "unknown record tag 0x%02x", tag)
	}
	p++
	k, n := binary.Uvarint(data[p:end])
	if n <= 0 || k > MaxKeyLen || k > uint64(end-p-n) {
		return nil, nil, 0, 0, corruptf(off, "bad key length")
	}
	p += n
	key = data[p : p+int(k) : p+int(k)]
	p += int(k)
	x, n := binary.Uvarint(data[p:end])
	if n <= 0 {
		return nil, nil, 0, 0, corruptf(off, "bad value length or reference varint")
	}
	p += n
	if tag == tagRef {
		if x == 0 || x > off-frame.HeaderLen {
			return nil, nil, 0, 0, corruptf(off, "reference distance %d points outside the body", x)
		}
		return key, nil, off - x, uint64(p), nil
	}
	if x > uint64(end-p) {
		return nil, nil, 0, 0, corruptf(off, "value length %d runs past the end of the body at %d", x, end)
	}
	q := p + int(x)
	return key, data[p:q:q], 0, uint64(q), nil
}

// resolveRef returns the value of the tag-0 record at ref, which a
// reference record at off points to.
func resolveRef(data []byte, end int, off, ref uint64) ([]byte, error) {
	if data[ref] != tagValue {
		return nil, corruptf(off, "reference to offset %d, which is not a value record", ref)
	}
	_, v, _, _, err := decodeKeyed(data, end, ref)
	return v, err
}

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

// Footer is the frame footer of a value log: Count is the number of records, BodyLen
// the bytes between header and footer and BodyCRC the CRC-32C of header and
// body (the layout is internal/frame's). It is an alias, so that callers
// outside this module can name the type that Close and Footer return.
type Footer = frame.Footer
