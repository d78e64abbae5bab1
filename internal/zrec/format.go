package zrec

import (
	"encoding/binary"
	"hash/crc32"
)

// Group header flag bits, the low bit of the uvarint H (doc.go).
const (
	flagRaw  = 1 << 0 // s: payload stored verbatim
	flagBits = 1      // n is H >> flagBits
)

// checksumLen is the length of the optional payload checksum.
const checksumLen = 4

// maxPayloadLimit is the largest payload length the format can express
// (H must fit in 64 bits) and that an int can hold on every platform.
const maxPayloadLimit = 1<<31 - 1

// Implied zstd frame header (doc.go): magic, descriptor, optional 4-byte
// dictionary ID, 8-byte frame content size.
const (
	zstdMagic          = "\x28\xb5\x2f\xfd"
	fhdNoDict          = 0xe0 // FCS 8 bytes | single segment | dict ID field 0 bytes
	fhdDict            = 0xe3 // FCS 8 bytes | single segment | dict ID field 4 bytes
	maxFrameHeaderLen  = 4 + 1 + 4 + 8
	zstdDictMagic      = "\x37\xa4\x30\xec"
	minZstdBlockLength = 3 // one block header
)

// castagnoli is the CRC-32C table shared with internal/frame's choice.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is a decoded group header.
type header struct {
	n        int  // payload length
	raw      bool // s
	checksum bool // a checksum follows the data (a property of the file)
	m        int  // zstd data length (s = 0) or n (s = 1)
	dataOff  int  // offset of the data from the group start
}

// total returns the stored length of the group.
func (h header) total() int {
	t := h.dataOff + h.m
	if h.checksum {
		t += checksumLen
	}
	return t
}

// appendHeader appends a group header to dst.
func appendHeader(dst []byte, n int, raw bool, m int) []byte {
	h := uint64(n) << flagBits
	if raw {
		h |= flagRaw
	}
	dst = binary.AppendUvarint(dst, h)
	if !raw {
		dst = binary.AppendUvarint(dst, uint64(m))
	}
	return dst
}

// parseHeader decodes the header of the group at the start of src and
// checks that the whole group (with its checksum when checksum is set)
// lies within src and that n <= maxPayload. It never panics.
func parseHeader(src []byte, maxPayload int, checksum bool) (header, error) {
	h, a := binary.Uvarint(src)
	if a <= 0 {
		return header{}, corruptf("group header varint truncated or over 64 bits")
	}
	var r header
	r.raw = h&flagRaw != 0
	r.checksum = checksum
	n := h >> flagBits
	if n > uint64(maxPayload) {
		return header{}, corruptf("payload length %d over the limit %d", n, maxPayload)
	}
	r.n = int(n)
	p := a
	if r.raw {
		r.m = r.n
	} else {
		m, b := binary.Uvarint(src[p:])
		if b <= 0 {
			return header{}, corruptf("zstd data length varint truncated or over 64 bits")
		}
		if m < minZstdBlockLength || m > uint64(len(src)-p-b) {
			return header{}, corruptf("zstd data length %d outside [%d, %d]", m, minZstdBlockLength, len(src)-p-b)
		}
		p += b
		r.m = int(m)
	}
	r.dataOff = p
	if r.m > len(src)-p || (r.checksum && r.m+checksumLen > len(src)-p) {
		return header{}, corruptf("group of %d bytes runs past the %d bytes available", r.total(), len(src))
	}
	return r, nil
}

// appendFrameHeader appends the implied zstd frame header (doc.go) for a
// payload of n bytes compressed with the dictionary whose ID is dictID (0:
// no dictionary).
func appendFrameHeader(dst []byte, n int, dictID uint32) []byte {
	dst = append(dst, zstdMagic...)
	if dictID != 0 {
		dst = append(dst, fhdDict)
		dst = binary.LittleEndian.AppendUint32(dst, dictID)
	} else {
		dst = append(dst, fhdNoDict)
	}
	return binary.LittleEndian.AppendUint64(dst, uint64(n))
}

// frameBody returns the blocks of a zstd frame produced by the encoder,
// i.e. the frame minus its header, after checking that the header is a
// single-segment header without checksum whose content size is n. ok is
// false if the frame has any other shape (the caller then stores the
// payload raw, so an unexpected encoder change can never produce a group
// that decodes differently).
func frameBody(frame []byte, n int) (body []byte, ok bool) {
	if len(frame) < 6 || string(frame[:4]) != zstdMagic {
		return nil, false
	}
	fhd := frame[4]
	if fhd&0x20 == 0 || fhd&0x04 != 0 || fhd&0x08 != 0 { // single segment, no checksum, reserved bit clear
		return nil, false
	}
	p := 5 + [4]int{0, 1, 2, 4}[fhd&3]
	fcsLen := [4]int{1, 2, 4, 8}[fhd>>6]
	if len(frame) < p+fcsLen {
		return nil, false
	}
	var fcs uint64
	switch fcsLen {
	case 1:
		fcs = uint64(frame[p])
	case 2:
		fcs = uint64(binary.LittleEndian.Uint16(frame[p:])) + 256
	case 4:
		fcs = uint64(binary.LittleEndian.Uint32(frame[p:]))
	case 8:
		fcs = binary.LittleEndian.Uint64(frame[p:])
	}
	if fcs != uint64(n) {
		return nil, false
	}
	return frame[p+fcsLen:], true
}

// AppendRecord appends one record (uvarint length, then the bytes) to a
// group payload being built.
func AppendRecord(payload, rec []byte) []byte {
	payload = binary.AppendUvarint(payload, uint64(len(rec)))
	return append(payload, rec...)
}

// NextRecord splits the first record off a payload: it returns the record
// (aliasing payload, capacity cut to its length) and the rest. An empty
// payload, or a record running past its end, is ErrCorrupt.
func NextRecord(payload []byte) (rec, rest []byte, err error) {
	l, k := binary.Uvarint(payload)
	if k <= 0 {
		return nil, nil, corruptf("record length varint truncated or over 64 bits")
	}
	if l > uint64(len(payload)-k) {
		return nil, nil, corruptf("record of %d bytes runs past the payload's %d", l, len(payload)-k)
	}
	e := k + int(l)
	return payload[k:e:e], payload[e:], nil
}

// Record returns record i (0-based) of a decoded payload, aliasing it.
// Asking for a record beyond the last is ErrCorrupt: an address naming it
// is damaged.
func Record(payload []byte, i int) ([]byte, error) {
	if i < 0 {
		return nil, corruptf("record index %d", i)
	}
	for j := i; ; j-- {
		if len(payload) == 0 {
			return nil, corruptf("record index %d beyond the group's %d records", i, i-j)
		}
		rec, rest, err := NextRecord(payload)
		if err != nil {
			return nil, err
		}
		if j == 0 {
			return rec, nil
		}
		payload = rest
	}
}

// CountRecords returns the number of records in a payload and checks that
// they fill it exactly.
func CountRecords(payload []byte) (int, error) {
	n := 0
	for len(payload) > 0 {
		_, rest, err := NextRecord(payload)
		if err != nil {
			return n, err
		}
		payload = rest
		n++
	}
	return n, nil
}
