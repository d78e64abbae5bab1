package fst

import (
	"encoding/binary"

	"github.com/kvdict/kvdict/internal/frame"
)

// An FST file is a kvdict frame (package internal/frame) whose body is a
// vellum v1 FST, byte for byte as vellum writes it:
//
//	+------------------+--------------------------------------------+------------------+
//	| frame header 16B | body: vellum FST (BodyLen bytes)           | frame footer 32B |
//	+------------------+--------------------------------------------+------------------+
//	                   | vellum header 16 | states ... | vellum ftr 16 |
//
// All integers are little-endian.
//
// Frame header (internal/frame):
//
//	 0:8    magic "kvdFST\x00\x00"
//	 8:12   version (uint32), 1
//	12:16   flags (uint32), 0 in version 1
//
// vellum header, body offset 0:
//
//	 0:8    vellum format version (uint64), 1
//	 8:16   vellum FST type (uint64), 0
//
// States follow, each written after the states it points to (so every
// transition points to a lower address), addressed by body offset of
// their last byte. vellum's docs/format.md describes their encoding.
//
// vellum footer, the last 16 bytes of the body:
//
//	 0:8    number of keys (uint64); must equal the frame footer count
//	 8:16   address of the root state (uint64): 0 (the empty, final
//	        state) or an offset in [16, BodyLen-16)
//
// Frame footer (internal/frame), the last 32 bytes of the file:
//
//	 0:8    count (uint64): number of keys
//	 8:16   body length (uint64)
//	16:20   CRC-32C of frame header and body
//	20:24   CRC-32C of footer bytes 0:20
//	24:32   magic "kvdFST\x00\x00"
//
// The exact bytes of a three-key file are pinned by TestGolden against
// testdata/golden-v1.fst.

// Magic is the first (and last) 8 bytes of every FST file.
const Magic = "kvdFST\x00\x00"

// Version is the format version this package writes, and the newest it
// reads. Versions are append-only:
//
//   - 1: a frame around a vellum v1 FST, flags 0.
const Version = 1

// MaxKeyLen is the longest key, in bytes, the builder accepts. Iterators
// treat a longer key as corruption, which also bounds the work done on a
// damaged file.
const MaxKeyLen = 65535

// Lengths of vellum's own fixed parts, inside the body.
const (
	vellumHeaderLen = 16 // version (8), type (8)
	vellumFooterLen = 16 // count (8), root address (8)
	vellumVersion   = 1
	vellumMinBody   = vellumHeaderLen + vellumFooterLen
)

// checkBody validates the O(1) parts of vellum's framing in body: its
// header, and the root address in its footer. vellum itself checks only
// that the header is 16 bytes long.
func checkBody(body []byte, count uint64) error {
	if len(body) < vellumMinBody {
		return corruptf("body of %d bytes is too short for a vellum FST (at least %d)", len(body), vellumMinBody)
	}
	if v := binary.LittleEndian.Uint64(body[0:8]); v != vellumVersion {
		return corruptf("vellum version %d at body offset 0, want %d", v, vellumVersion)
	}
	if t := binary.LittleEndian.Uint64(body[8:16]); t != 0 {
		return corruptf("vellum type %d at body offset 8, want 0", t)
	}
	ft := body[len(body)-vellumFooterLen:]
	if n := binary.LittleEndian.Uint64(ft[0:8]); n != count {
		return corruptf("vellum footer counts %d keys, frame footer %d", n, count)
	}
	root := binary.LittleEndian.Uint64(ft[8:16])
	if root != 0 && (root < vellumHeaderLen || root >= uint64(len(body)-vellumFooterLen)) {
		return corruptf("root address %d outside the states [%d, %d)", root, vellumHeaderLen, len(body)-vellumFooterLen)
	}
	return nil
}

// header is the frame header every FST file starts with.
var header = frame.Header{Magic: Magic, Version: Version, Flags: 0}
