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
// their last byte. "vellum v1 states" below specifies their encoding.
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
// # Worked example
//
// testdata/golden-v1.fst holds cat=5, cats=2^40, dog=2 (108 bytes). Body
// offsets are file offsets minus 16; a state's address is the body offset
// of its last byte, and vellum writes a state's fields backwards from it.
//
//	file   body
//	00-0f         frame header: 6b76644653540000 "kvdFST\0\0", 01000000 v1, 00000000 flags
//	10-1f  00-0f  vellum header: 0100000000000000 version 1, 0000000000000000 type 0
//	20-2d  10-1d  state 29, reached by "cat": 00 00 00 00 00 | fb ff ff ff ff | 00 | 73 | 15 | 41
//	              final output 0 (5 B), output of 's' 2^40-5 (5 B), 's' goes to
//	              address 0 (the final state with no transitions), input 's',
//	              sizes (address 1 B, outputs 5 B), 0x41 = final, 1 transition
//	2e     1e     state 30: c1 = one transition 't' (common byte 1) to the state just below (29)
//	2f     1f     state 31: c5 = one transition 'a' to 30
//	30-32  20-22  state 34: 00 10 97 = one transition 'g' (common byte 0x17) to address 0
//	33     23     state 35: c4 = one transition 'o' to 34
//	34-3b  24-2b  root 43: 02 05 | 01 05 | 64 63 | 11 | 02 = outputs 2 ('d') and 5 ('c'),
//	              address deltas 1 ('d': 36-1=35) and 5 ('c': 36-5=31), inputs "dc"
//	              (all in reverse order), sizes 1 B and 1 B, 0x02 = not final, 2 transitions
//	3c-4b  2c-3b  vellum footer: 0300000000000000 3 keys, 2b00000000000000 root 43
//	4c-6b         frame footer: count 3, body length 60, body CRC da53c1ee,
//	              footer CRC 3cfb61d1, "kvdFST\0\0"
//
// Outputs add up along the path: cat = 5+0+0+0, cats = 5 + (2^40-5), dog
// = 2. TestGolden pins these exact bytes.
//
// # vellum v1 states
//
// This is vellum v1.2.1's encoding (its encoder_v1.go and decoder_v1.go;
// its docs/format.md is less exact), as [FST.Get] decodes it (walker.go).
//
// Addresses. A state's address is the body offset of its top byte, its
// highest byte; its other fields lie below the top byte and are read
// downwards. Its bottom is the offset of its lowest byte. Every state lies
// within body offsets [16, BodyLen-16). Two addresses are not offsets:
// 0 is the final state with no transitions and final output 0, which
// vellum never writes out (any state equal to it gets address 0), and 1
// is vellum's "no state", never a transition target.
//
// Packed integers are little-endian, in a width of 0 to 8 bytes chosen
// per state: the fewest bytes that hold the largest value of that kind in
// the state (vellum writes at least 1 byte for an address delta). A width
// of 0 stores nothing and means 0. The widths sit in the pack byte:
//
//	pack byte: T<<4 | O    T = address delta width, O = output width (0..8;
//	                       9..15 are never written: ErrCorrupt)
//
// A transition's target t is stored as the delta bottom - t, against the
// bottom of the state holding the transition; delta 0 means address 0.
// Targets are below the bottom, so a walk always moves down the body.
//
// Top byte:
//
//	bit 7     1: one transition (never final); 0: any number, maybe final
//	one transition:
//	  bit 6   1 ("next"): the target is the state just below (bottom - 1),
//	          the output is 0, and no pack, delta or output is stored
//	  0:5     c: the input byte is commonInputs[c-1] for c in 1..63 (the
//	          63 bytes vellum found most frequent: "te/oasrip..."), or, for
//	          c = 0, the byte just below the top byte
//	several transitions:
//	  bit 6   1: the state is final
//	  0:5     n, the number of transitions, 1..63; 0: it is in the count
//	          byte just below the top byte, where 1 means 256 (1 itself
//	          always fits in the top byte) and 0 and 64..255 mean themselves
//
// Layouts, lowest byte first (O bytes for an output, T for a delta):
//
//	one transition, "next":   [input if c = 0] [top]
//	one transition:           [output, O] [delta, T] [pack] [input if c = 0] [top]
//	several transitions:      [final output, O: if final and O > 0]
//	                          [outputs, n×O] [deltas, n×T] [inputs, n]
//	                          [pack] [count if n = 0 in top] [top]
//
// In a several-transition state the inputs, deltas and outputs are in
// reverse transition order: the lowest offset holds the largest input
// byte. Input i in memory order goes with delta i and output i. O is 0
// when the final output and every transition output are 0; otherwise it
// is the width of the largest of them, and the final output (when final)
// is stored even if 0.
//
// Which form vellum writes (encodeState): a final state with no
// transitions and final output 0 is not written (address 0); a non-final
// state with exactly one transition uses the one-transition form, with
// "next" when its output is 0 and its target is the state written just
// before it; every other state (final, or 0 or 2..256 transitions) uses
// the several-transition form. The empty FST's root is a several-
// transition state with no transitions (bytes 00 00 00: pack, count,
// top); an FST holding only the empty key has root 0 when its value is 0.
//
// Lookup. Start at the root (vellum footer). For each key byte, find the
// transition with that input; none: the key is absent. Add its output and
// move to its target. After the last byte the state must be final
// (address 0, or several transitions with bit 6 set); add its final
// output. The key's value is the sum, modulo 2^64: vellum's builder moves
// the common part (the minimum) of the values below a state onto the
// transition into it, so values need not be monotone and any uint64
// round-trips.
//
// Placement (not part of the encoding, but what vellum's builder does,
// and what the walker's prefetching relies on as a hint only): states are
// written children first, and a state's children in key order, each
// child's whole subtree just before the child. So the subtree below the
// i-th transition of a state lies between the target of transition i-1
// (exclusive) and its own target (inclusive). Shared suffixes (vellum's
// registry) point back to older states outside that range.
//
// Damage the walker refuses with ErrCorrupt (vellum itself checks only
// 16 <= address <= BodyLen, and panics or answers wrongly on the rest):
// an address other than 0 outside [16, BodyLen-16), a width over 8, a
// state whose fields reach below offset 16, or a delta above the bottom.

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

// Footer is the frame footer of an FST file: Count is the number of keys, BodyLen
// the bytes between header and footer and BodyCRC the CRC-32C of header and
// body (the layout is internal/frame's). It is an alias, so that callers
// outside this module can name the type that Close and Footer return.
type Footer = frame.Footer
