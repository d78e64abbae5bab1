// Package frame holds the on-disk framing shared by every kvdict data file
// (the FST file and the value log): a fixed header, a body, and a fixed
// footer, plus the error sentinels that every package wraps.
//
// # File framing
//
// All integers are little-endian. Checksums are CRC-32C (Castagnoli), which
// is hardware-accelerated on amd64 and arm64.
//
//	+----------------------+-----------------------------+------------------+
//	| header (16 bytes)    | body (BodyLen bytes)        | footer (32 bytes)|
//	+----------------------+-----------------------------+------------------+
//
// Header, at offset 0:
//
//	 0:8    magic, 8 bytes, one per file type ("kvdFST\x00\x00", "kvdVLOG\x00")
//	 8:12   format version of this file type (uint32)
//	12:16   flags (uint32); meaning is per file type, 0 in version 1
//
// Footer, the last 32 bytes of the file:
//
//	 0:8    count (uint64): keys in an FST file, records in a value log
//	 8:16   body length (uint64): bytes between the header and the footer
//	16:20   body CRC-32C (uint32), over the header and the body
//	20:24   footer CRC-32C (uint32), over footer bytes 0:20
//	24:32   the same magic as the header
//
// So a file is exactly HeaderLen + BodyLen + FooterLen bytes long; anything
// else is corruption (truncation or trailing junk).
//
// Decoding validates in a fixed order, each failure with its own sentinel:
// size (ErrCorrupt: too short to hold a header and footer), header magic
// (ErrMagic), header version (ErrVersion), footer magic, footer checksum and
// body length (ErrCorrupt). The body checksum is only checked by
// [VerifyBody], which reads the whole file: opening stays O(1).
//
// Worked example: an empty value log (version 1, flags 0, no records):
//
//	6b 76 64 56 4c 4f 47 00  01 00 00 00  00 00 00 00   "kvdVLOG\0", v1, flags 0
//	00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00    count 0, body length 0
//	d3 3b fc c6  fc cd 34 ff  6b 76 64 56 4c 4f 47 00   body CRC, footer CRC, magic
//
// The exact bytes are pinned by TestGolden in this package.
package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Lengths of the fixed parts of a framed file.
const (
	HeaderLen = 16 // magic (8), version (4), flags (4)
	FooterLen = 32 // count (8), body length (8), body CRC (4), footer CRC (4), magic (8)
	MagicLen  = 8
)

// These errors are returned (wrapped, with the file and the reason) when a
// dictionary file cannot be used. Test for them with errors.Is.
var (
	// ErrCorrupt is returned when a file is truncated, has trailing bytes,
	// fails a checksum, or holds an offset or length that points outside
	// the file. Every corruption error of every kvdict package wraps it.
	ErrCorrupt = errors.New("kvdict: corrupt dictionary file")
	// ErrMagic is returned when a file does not start with the magic bytes
	// of the expected file type: it is not a kvdict file of that type.
	ErrMagic = errors.New("kvdict: not a kvdict file (bad magic)")
	// ErrVersion is returned when a file was written by a newer format
	// version than this build can read.
	ErrVersion = errors.New("kvdict: unsupported format version")
)

// Table is the CRC-32C table used for every checksum in kvdict.
var Table = crc32.MakeTable(crc32.Castagnoli)

// Header is the decoded fixed header of a framed file.
type Header struct {
	Magic   string // exactly MagicLen bytes
	Version uint32
	Flags   uint32
}

// AppendHeader appends the encoded header to dst.
func AppendHeader(dst []byte, h Header) []byte {
	if len(h.Magic) != MagicLen {
		panic("frame: magic must be 8 bytes")
	}
	dst = append(dst, h.Magic...)
	dst = binary.LittleEndian.AppendUint32(dst, h.Version)
	return binary.LittleEndian.AppendUint32(dst, h.Flags)
}

// Footer is the decoded fixed footer of a framed file.
type Footer struct {
	Count   uint64 // keys or records
	BodyLen uint64 // bytes between header and footer
	BodyCRC uint32 // CRC-32C of header and body
}

// AppendFooter appends the encoded footer for a file of the given magic.
func AppendFooter(dst []byte, magic string, f Footer) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, f.Count)
	dst = binary.LittleEndian.AppendUint64(dst, f.BodyLen)
	dst = binary.LittleEndian.AppendUint32(dst, f.BodyCRC)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:start+20], Table))
	return append(dst, magic...)
}

// File is a decoded framed file: its header, footer and body, all aliasing
// the bytes passed to Decode.
type File struct {
	Header Header
	Footer Footer
	// Body is data[HeaderLen : HeaderLen+BodyLen].
	Body []byte
	data []byte
}

// Decode validates the header and footer of data, a whole file of the given
// magic, and returns its parts. It checks everything that costs O(1): sizes,
// magics, the version (at most maxVersion), the footer checksum and that the
// body length matches the file size. It does not read the body; see
// VerifyBody. Errors wrap ErrCorrupt, ErrMagic or ErrVersion.
func Decode(data []byte, magic string, maxVersion uint32) (*File, error) {
	if len(data) < HeaderLen+FooterLen {
		return nil, fmt.Errorf("%w: %d bytes is too short for a %q file (at least %d)", ErrCorrupt, len(data), trimMagic(magic), HeaderLen+FooterLen)
	}
	if string(data[:MagicLen]) != magic {
		return nil, fmt.Errorf("%w: want %q, found %q", ErrMagic, trimMagic(magic), data[:MagicLen])
	}
	h := Header{
		Magic:   magic,
		Version: binary.LittleEndian.Uint32(data[8:12]),
		Flags:   binary.LittleEndian.Uint32(data[12:16]),
	}
	if h.Version == 0 || h.Version > maxVersion {
		return nil, fmt.Errorf("%w: file version %d, this build reads %q versions 1 to %d", ErrVersion, h.Version, trimMagic(magic), maxVersion)
	}
	ft := data[len(data)-FooterLen:]
	if string(ft[24:32]) != magic {
		return nil, fmt.Errorf("%w: footer magic missing (file truncated or damaged at its end)", ErrCorrupt)
	}
	if got, want := crc32.Checksum(ft[:20], Table), binary.LittleEndian.Uint32(ft[20:24]); got != want {
		return nil, fmt.Errorf("%w: footer checksum mismatch (got %08x, want %08x)", ErrCorrupt, got, want)
	}
	f := Footer{
		Count:   binary.LittleEndian.Uint64(ft[0:8]),
		BodyLen: binary.LittleEndian.Uint64(ft[8:16]),
		BodyCRC: binary.LittleEndian.Uint32(ft[16:20]),
	}
	if f.BodyLen != uint64(len(data)-HeaderLen-FooterLen) {
		return nil, fmt.Errorf("%w: footer says body is %d bytes, file holds %d (truncated or trailing bytes)", ErrCorrupt, f.BodyLen, len(data)-HeaderLen-FooterLen)
	}
	return &File{Header: h, Footer: f, Body: data[HeaderLen : HeaderLen+int(f.BodyLen)], data: data}, nil
}

// VerifyBody computes the CRC-32C of the header and body and compares it
// with the footer's. It reads the whole file.
func (f *File) VerifyBody() error {
	got := crc32.Checksum(f.data[:HeaderLen+len(f.Body)], Table)
	if got != f.Footer.BodyCRC {
		return fmt.Errorf("%w: body checksum mismatch (got %08x, want %08x)", ErrCorrupt, got, f.Footer.BodyCRC)
	}
	return nil
}

func trimMagic(m string) string {
	for len(m) > 0 && m[len(m)-1] == 0 {
		m = m[:len(m)-1]
	}
	return m
}
