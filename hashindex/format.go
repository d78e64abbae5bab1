package hashindex

import (
	"encoding/binary"
	"math/bits"

	"github.com/zeebo/xxh3"

	"github.com/kvdict/kvdict/internal/frame"
)

// An index file is a kvdict frame (package internal/frame) named
// part-NNNNN.hix, one per partition:
//
//	+------------------+---------------------------------+--------------+------------------+
//	| frame header 16B | table: L entries of 8 bytes     | trailer 64B  | frame footer 32B |
//	+------------------+---------------------------------+--------------+------------------+
//
// All integers are little-endian.
//
// Frame header (internal/frame):
//
//	 0:8    magic "kvdHIX\x00\x00"
//	 8:12   version (uint32), 1
//	12:16   flags (uint32), 0
//
// Table, at file offset 16 (8-byte aligned in an mmap): L slots, slot i at
// file offset 16+8*i, each a uint64 entry:
//
//	bits 63..24  address (40 bits): the key's record address in the value
//	             log shifted right by the trailer's address shift s: with
//	             s = 0 (codec-0 logs) the file offset of the key's keyed
//	             record; with s = 4 (compressed keyed logs, whose addresses
//	             are group offset << 4 | index) the file offset of the
//	             group holding the key's record
//	bits 23..16  displacement d (8 bits): slot - home slot, saturated at
//	             255 (255 means "at least 255": do not use it to stop early)
//	bits 15..0   fingerprint: the low 16 bits of the key's hash
//
// An entry of 0 is an empty slot (no record lives at address 0).
//
// Trailer, the last 64 bytes of the body:
//
//	 0:4    hash function (uint32): 1 = XXH3-64 with a 64-bit seed
//	        (XXH3_64bits_withSeed of the reference xxHash library)
//	 4:5    entry layout (uint8): 1 = the 8-byte entry above
//	 5:6    address shift s (uint8): 0 over a codec-0 keyed log; 4
//	        (GroupShift) over a compressed keyed log (value log codec 1,
//	        manifest feature zstd-records): an entry holds a group's
//	        offset and the reader compares the key with every record of
//	        the decoded group. Other values are refused with ErrVersion
//	        (readers from before s = 4 refuse it too: never a misread)
//	 6:8    reserved, 0
//	 8:16   seed (uint64), chosen at random per dictionary build
//	16:24   M, the number of home slots (uint64), M >= 1
//	24:32   L, the number of slots (uint64), M <= L; slots past M hold
//	        entries displaced beyond the last home slot (no wrap-around)
//	32:40   entries in use (uint64): the partition's key count, equal to
//	        the frame footer's count
//	40:41   largest displacement in the table (uint8, saturated at 255)
//	41:64   reserved, 0
//
// Frame footer: count = entries in use, body length = 8*L + 64, CRCs.
//
// # Hashing and placement
//
// For a key k: h = XXH3-64(k, seed); home = floor(h * M / 2^64) (the high
// 64 bits of the 128-bit product h*M); fingerprint = h & 0xffff.
//
// The builder sorts the keys' (h, address) pairs by h (then address) and
// places them in that order at slot max(home, previous slot + 1). So slots
// hold entries in non-decreasing home order, with no gaps inside a run of
// occupied slots that follows a home, and a key's entry is never before its
// home slot.
//
// # Lookup
//
//	i = home
//	while i < L and i - home <= max displacement:
//	    e = slot[i]
//	    if e == 0: absent
//	    d = (e >> 16) & 0xff
//	    if d < 255 and i - d > home: absent   (entries from here on have later homes)
//	    if e & 0xffff == fingerprint and the record at (e >> 24) << shift
//	       holds exactly k (s = 4: one of the records of the group at
//	       e >> 24 does): found
//	    i = i + 1
//	absent
//
// # Worked example
//
// testdata/golden.hix (TestGolden): keys "a", "b", "c" whose keyed records
// are at addresses 16, 21 and 25 (valuelog's golden-v2.vlog), seed 1.
// XXH3-64 with seed 1 gives a = d2f6d0996f37a720, b = 99009138a3452320,
// c = 14e640bdb537802d. M = ceil(3/0.8) = 4, so the homes are the top two
// bits: a -> 3, b -> 2, c -> 0. The file (144 bytes):
//
//	off   0: 6b 76 64 48 49 58 00 00  01 00 00 00  00 00 00 00   "kvdHIX\0\0", v1, flags 0
//	off  16: 2d 80 00 19 00 00 00 00   slot 0: addr 25 ("c"), disp 0, fp 802d
//	off  24: 00 00 00 00 00 00 00 00   slot 1: empty
//	off  32: 20 23 00 15 00 00 00 00   slot 2: addr 21 ("b"), disp 0, fp 2320
//	off  40: 20 a7 00 10 00 00 00 00   slot 3: addr 16 ("a"), disp 0, fp a720
//	off  48: 01 00 00 00  01  00  00 00                         trailer: XXH3, layout 1, shift 0
//	off  56: 01 00 00 00 00 00 00 00                            seed 1
//	off  64: 04 .. (M = 4)   off 72: 04 .. (L = 4)   off 80: 03 .. (3 keys)
//	off  88: 00 (max displacement) and 23 reserved zero bytes
//	off 112: 03 00 00 00 00 00 00 00  60 00 00 00 00 00 00 00   footer: count 3, body 96
//	off 128: e5 01 7b 67  da 5d 56 3d  6b 76 64 48 49 58 00 00   body CRC, footer CRC, magic
//
// testdata/golden-groups.hix (TestGoldenGroups): the same keys over a
// compressed keyed log, "a" and "b" in the group at offset 18 (addresses
// 0x120, 0x121), "c" in the group at 37 (0x250), seed 1, shift 4. The
// slots hold group offsets; only these bytes differ from golden.hix:
//
//	off  16: 2d 80 00 25 00 00 00 00   slot 0: group 37 ("c"), disp 0, fp 802d
//	off  32: 20 23 00 12 00 00 00 00   slot 2: group 18 ("b"), disp 0, fp 2320
//	off  40: 20 a7 00 12 00 00 00 00   slot 3: group 18 ("a"), disp 0, fp a720
//	off  48: 01 00 00 00  01  04  00 00                         trailer: XXH3, layout 1, shift 4
//	off 128: 52 34 65 56  da 90 58 eb                           body CRC, footer CRC

// Magic starts and ends every index file.
const Magic = "kvdHIX\x00\x00"

// Version is the newest index file version this build writes and reads.
// Versions form an append-only list:
//
//	1: linear probing table of 8-byte entries and a 64-byte trailer.
const Version = 1

const (
	// HashXXH3 is the hash function id of XXH3-64 with a seed.
	HashXXH3 = 1
	// LayoutEntry8 is the 8-byte entry layout: address:40 | disp:8 | fp:16.
	LayoutEntry8 = 1

	// TrailerLen is the size of the trailer at the end of the body.
	TrailerLen = 64
	// EntryLen is the size of one slot.
	EntryLen = 8
	// MaxAddress is one past the largest address an entry holds (1 TiB).
	MaxAddress = 1 << 40
	// GroupShift is the address shift of an index over a compressed keyed
	// log: entries hold record address >> 4, the group's file offset.
	GroupShift = 4

	// LoadFactor is the share of slots in use that the writer aims for:
	// M = ceil(keys / LoadFactor). 0.8 measured the best single and batch
	// lookups for +0.6 B/key over 0.85 (shared/research/hashindex.md §4.1).
	LoadFactor = 0.8

	maxDisp = 255
)

// trailer is the decoded trailer.
type trailer struct {
	hash    uint32
	layout  uint8
	shift   uint8
	seed    uint64
	m, l    uint64
	keys    uint64
	maxDisp uint8
}

func (t *trailer) append(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, t.hash)
	dst = append(dst, t.layout, t.shift, 0, 0)
	dst = binary.LittleEndian.AppendUint64(dst, t.seed)
	dst = binary.LittleEndian.AppendUint64(dst, t.m)
	dst = binary.LittleEndian.AppendUint64(dst, t.l)
	dst = binary.LittleEndian.AppendUint64(dst, t.keys)
	dst = append(dst, t.maxDisp)
	return append(dst, make([]byte, TrailerLen-41)...)
}

func decodeTrailer(b []byte) (t trailer, reservedZero bool) {
	t = trailer{
		hash:    binary.LittleEndian.Uint32(b[0:4]),
		layout:  b[4],
		shift:   b[5],
		seed:    binary.LittleEndian.Uint64(b[8:16]),
		m:       binary.LittleEndian.Uint64(b[16:24]),
		l:       binary.LittleEndian.Uint64(b[24:32]),
		keys:    binary.LittleEndian.Uint64(b[32:40]),
		maxDisp: b[40],
	}
	reservedZero = b[6] == 0 && b[7] == 0
	for _, c := range b[41:TrailerLen] {
		reservedZero = reservedZero && c == 0
	}
	return t, reservedZero
}

// Hash returns XXH3-64 of key with seed: the hash the index is built on.
func Hash(key []byte, seed uint64) uint64 { return xxh3.HashSeed(key, seed) }

// home returns h's home slot among m.
func home(h, m uint64) uint64 {
	hi, _ := bits.Mul64(h, m)
	return hi
}

// entry packs an entry.
func entry(addr uint64, disp uint64, h uint64) uint64 {
	return addr<<24 | min(disp, maxDisp)<<16 | h&0xffff
}

// homeSlots returns M for n keys.
func homeSlots(n uint64) uint64 {
	return max(1, uint64(float64(n)/LoadFactor+0.999999))
}

// Footer is the frame footer of a hash index file: Count is the number of keys, BodyLen
// the bytes between header and footer and BodyCRC the CRC-32C of header and
// body (the layout is internal/frame's). It is an alias, so that callers
// outside this module can name the type that Close and Footer return.
type Footer = frame.Footer
