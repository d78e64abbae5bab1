package zrec

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/klauspost/compress/huff0"
)

// Treeless literals: the encoder's rewrite of a group's literal section.
//
// A zstd block holds a literals section and a sequences section (RFC 8878
// 3.1.1.3). klauspost/compress writes a fresh Huffman tree into the
// literals section of every small group, even when the dictionary's tree
// would do: its reuse test compares the two trees' estimated payload sizes
// without counting the fresh tree's own description (20-60 bytes), so with
// a trained dictionary it almost never reuses (measured on PyPI groups of
// 8 values: 0 treeless sections of 103,344). A reader must then rebuild a
// Huffman decoding table for every group it decodes, which was most of a
// point lookup's time (docs/BENCHMARKS.md §6).
//
// So the Encoder rewrites the literals section of a frame's single block as
// a "treeless" section (Literals_Block_Type 3), coded with the tree stored
// in the dictionary, which a decoder builds once when it loads the
// dictionary (libzstd: ZSTD_createDDict; klauspost: WithDecoderDicts). The
// sequences section is kept byte for byte; it does not depend on how the
// literals are coded. The result is a standard frame that any zstd decoder
// decodes with the dictionary: the group format does not change, only the
// encoder's choice. A section is rewritten only when the dictionary's tree
// codes every literal byte and the block does not grow by more than
// treelessSlack bytes (a fresh tree can code a group's literals a little
// tighter, but costs its own description and a table build on every read).
//
// When the dictionary's tree codes every byte value (Trainer.Train makes
// it so), the Encoder first asks the zstd encoder for raw literals
// (WithNoEntropyCompression), since it would only decode and drop the tree
// the zstd encoder builds; a raw block (no match worth coding) becomes a
// compressed block of treeless literals and no sequences, i.e. Huffman
// coding alone. Only a group the rewrite refuses is encoded again with the
// zstd encoder's own choices.

// treelessSlack is how many bytes a treeless block may exceed the block the
// zstd encoder wrote and still be chosen: decode speed is worth a byte or
// two per group.
const treelessSlack = 2

// Literals_Block_Type values (RFC 8878 3.1.1.3.1.1).
const (
	litRaw        = 0
	litRLE        = 1
	litCompressed = 2
	litTreeless   = 3
)

// Block_Type values (RFC 8878 3.1.1.2.2).
const (
	blockRaw        = 0
	blockCompressed = 2
)

// noSequences is the sequences section of a block that holds only
// literals: Number_of_Sequences = 0, and then no compression modes byte
// (RFC 8878 3.1.1.3.2.1).
var noSequences = []byte{0}

// maxBlockSize is the largest block content (RFC 8878 3.1.1.2.3).
const maxBlockSize = 128 << 10

// errNotRecodable reports a block that recode leaves alone.
var errNotRecodable = errors.New("zrec: block not recodable")

// litRecoder re-encodes literals with a dictionary's Huffman tree. It is
// safe for concurrent use.
type litRecoder struct {
	table    []byte    // the dictionary's Huffman tree description
	complete bool      // the tree codes every byte value
	pool     sync.Pool // *litScratch
}

// litScratch is one goroutine's working state.
type litScratch struct {
	enc  *huff0.Scratch // holds the dictionary's tree as its previous table
	dec  huff0.Scratch  // decodes the tree the zstd encoder wrote
	lits []byte
	out  []byte
}

// newLitRecoder returns a litRecoder for dictionary d (a checked zstd
// dictionary), or nil when its tree cannot be read. A group is rewritten
// only if the tree codes every one of its literal bytes: Trainer.Train
// completes the tree so that it codes all 256 values (completeLitTree);
// a dictionary from elsewhere may serve fewer groups.
func newLitRecoder(d []byte) *litRecoder {
	s, rest, err := huff0.ReadTable(d[8:], nil)
	if err != nil {
		return nil
	}
	return &litRecoder{table: d[8 : len(d)-len(rest)], complete: codesAllBytes(s)}
}

// codesAllBytes reports whether the tree loaded in s gives a code to every
// byte value: it compresses a buffer holding each value once after a
// skewed run, with the tree forced.
func codesAllBytes(s *huff0.Scratch) bool {
	in := make([]byte, 0, 256+2048)
	for i := range 256 {
		in = append(in, byte(i))
	}
	for range 2048 {
		in = append(in, 'e')
	}
	s.Reuse = huff0.ReusePolicyMust
	_, reused, err := huff0.Compress4X(in, s)
	return err == nil && reused
}

func (r *litRecoder) get() *litScratch {
	if s, _ := r.pool.Get().(*litScratch); s != nil {
		return s
	}
	enc, _, err := huff0.ReadTable(r.table, nil)
	if err != nil {
		return nil // cannot happen: newLitRecoder read the same bytes
	}
	enc.Reuse = huff0.ReusePolicyMust
	return &litScratch{enc: enc}
}

// recode appends to dst the blocks of body (a frame's blocks, as the zstd
// encoder wrote them) with the single block's literals section rewritten
// treeless when that is possible and not more than treelessSlack bytes
// larger; otherwise it appends body unchanged. It reports whether it
// rewrote.
func (r *litRecoder) recode(dst, body []byte) ([]byte, bool) {
	s := r.get()
	if s == nil {
		return append(dst, body...), false
	}
	defer r.pool.Put(s)
	start := len(dst)
	out, err := s.recodeBlock(dst, body)
	if err != nil || len(out)-start > len(body)+treelessSlack {
		return append(dst[:start], body...), false
	}
	return out, true
}

// recodeBlock does the work of recode, failing with errNotRecodable (or a
// huff0 error) whenever the result would not be a valid treeless block.
func (s *litScratch) recodeBlock(dst, body []byte) ([]byte, error) {
	lits, seqs, err := s.blockLiterals(body)
	if err != nil {
		return dst, err
	}
	// Code the literals with the dictionary's tree only (Must): an error
	// or a refusal leaves the block as it is.
	four := len(lits) >= 1024
	var coded []byte
	var reused bool
	if four {
		coded, reused, err = huff0.Compress4X(lits, s.enc)
	} else {
		coded, reused, err = huff0.Compress1X(lits, s.enc)
	}
	if err != nil || !reused {
		return dst, errNotRecodable
	}
	hdr, ok := appendTreelessHeader(s.out[:0], len(lits), len(coded), four)
	if !ok {
		return dst, errNotRecodable
	}
	s.out = hdr
	newSize := len(hdr) + len(coded) + len(seqs)
	if newSize >= maxBlockSize {
		return dst, errNotRecodable
	}
	nb := uint32(newSize)<<3 | blockCompressed<<1 | 1
	dst = append(dst, byte(nb), byte(nb>>8), byte(nb>>16))
	dst = append(dst, hdr...)
	dst = append(dst, coded...)
	return append(dst, seqs...), nil
}

// blockLiterals returns the literals of body, a frame's blocks as the zstd
// encoder wrote them, and the sequences section that follows them, when
// body is one compressed block whose literals section is stored raw or
// Huffman-coded with its own tree, or one raw block (its bytes are all
// literals, and the sequences section says "no sequences"). The literals
// alias a buffer of s or body.
func (s *litScratch) blockLiterals(body []byte) (lits, seqs []byte, err error) {
	if len(body) < 3 {
		return nil, nil, errNotRecodable
	}
	bh := uint32(body[0]) | uint32(body[1])<<8 | uint32(body[2])<<16
	last, typ, size := bh&1, bh>>1&3, int(bh>>3)
	if last == 1 && typ == blockRaw && size == len(body)-3 && size > 0 {
		return body[3:], noSequences, nil
	}
	if last != 1 || typ != blockCompressed || size != len(body)-3 {
		return nil, nil, errNotRecodable // several blocks, or not a compressed block
	}
	blk := body[3:]
	lt, regen, comp, hl, err := parseLitHeader(blk)
	if err != nil {
		return nil, nil, err
	}
	sec := blk[hl:]
	switch lt {
	case litRaw:
		if len(sec) < regen {
			return nil, nil, errNotRecodable
		}
		return sec[:regen], sec[regen:], nil
	case litCompressed:
		if len(sec) < comp {
			return nil, nil, errNotRecodable
		}
		tree, streams, err := huff0.ReadTable(sec[:comp], &s.dec)
		if err != nil {
			return nil, nil, err
		}
		d := tree.Decoder()
		buf := s.lits[:0]
		if cap(buf) < regen {
			buf = make([]byte, 0, regen)
		}
		if fourStreams(blk[0]) {
			lits, err = d.Decompress4X(buf[:0:regen], streams)
		} else {
			lits, err = d.Decompress1X(buf[:0:regen], streams)
		}
		if err != nil || len(lits) != regen {
			return nil, nil, errNotRecodable
		}
		s.lits = lits[:0]
		return lits, sec[comp:], nil
	}
	// RLE sections are already cheap to decode; treeless ones are done.
	return nil, nil, errNotRecodable
}

// fourStreams reports whether a compressed or treeless literals header
// (first byte b0) announces four Huffman streams: Size_Format != 0.
func fourStreams(b0 byte) bool { return b0>>2&3 != 0 }

// parseLitHeader decodes a literals section header (RFC 8878 3.1.1.3.1.1):
// the type, the regenerated size, the compressed size (compressed and
// treeless sections only) and the header's length.
func parseLitHeader(b []byte) (typ, regen, comp, hl int, err error) {
	if len(b) < 1 {
		return 0, 0, 0, 0, errNotRecodable
	}
	typ = int(b[0] & 3)
	sf := b[0] >> 2 & 3
	if typ == litRaw || typ == litRLE {
		switch sf {
		case 0, 2:
			return typ, int(b[0] >> 3), 0, 1, nil
		case 1:
			if len(b) < 2 {
				return 0, 0, 0, 0, errNotRecodable
			}
			return typ, int(b[0]>>4) | int(b[1])<<4, 0, 2, nil
		default:
			if len(b) < 3 {
				return 0, 0, 0, 0, errNotRecodable
			}
			return typ, int(b[0]>>4) | int(b[1])<<4 | int(b[2])<<12, 0, 3, nil
		}
	}
	switch sf {
	case 0, 1:
		if len(b) < 3 {
			return 0, 0, 0, 0, errNotRecodable
		}
		v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		return typ, int(v >> 4 & 0x3ff), int(v >> 14 & 0x3ff), 3, nil
	case 2:
		if len(b) < 4 {
			return 0, 0, 0, 0, errNotRecodable
		}
		v := binary.LittleEndian.Uint32(b)
		return typ, int(v >> 4 & 0x3fff), int(v >> 18 & 0x3fff), 4, nil
	default:
		if len(b) < 5 {
			return 0, 0, 0, 0, errNotRecodable
		}
		v := uint64(binary.LittleEndian.Uint32(b)) | uint64(b[4])<<32
		return typ, int(v >> 4 & 0x3ffff), int(v >> 22 & 0x3ffff), 5, nil
	}
}

// appendTreelessHeader appends the header of a treeless literals section of
// regen literals coded in comp bytes, in one stream or four. It picks the
// shortest Size_Format that holds both sizes; one stream needs both under
// 1024 (Size_Format 0). ok is false when no format holds them.
func appendTreelessHeader(dst []byte, regen, comp int, four bool) ([]byte, bool) {
	switch {
	case !four && regen < 1<<10 && comp < 1<<10:
		v := uint32(litTreeless) | 0<<2 | uint32(regen)<<4 | uint32(comp)<<14
		return append(dst, byte(v), byte(v>>8), byte(v>>16)), true
	case !four:
		return dst, false
	case regen < 1<<10 && comp < 1<<10:
		v := uint32(litTreeless) | 1<<2 | uint32(regen)<<4 | uint32(comp)<<14
		return append(dst, byte(v), byte(v>>8), byte(v>>16)), true
	case regen < 1<<14 && comp < 1<<14:
		v := uint32(litTreeless) | 2<<2 | uint32(regen)<<4 | uint32(comp)<<18
		return binary.LittleEndian.AppendUint32(dst, v), true
	case regen < 1<<18 && comp < 1<<18:
		v := uint64(litTreeless) | 3<<2 | uint64(regen)<<4 | uint64(comp)<<22
		return append(binary.LittleEndian.AppendUint32(dst, uint32(v)), byte(v>>32)), true
	}
	return dst, false
}
