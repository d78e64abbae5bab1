package zrec

import (
	"encoding/binary"
	"math/bits"
)

// Bit readers for the fast decoder (zdec.go).
//
// zstd's entropy-coded streams (Huffman literals, FSE sequences, the FSE
// coded Huffman weights) are backward bitstreams (RFC 8878 section 4.1):
// written forward, read from the last byte towards the first. The last
// byte's highest set bit is an end mark; the bits below it are the first
// to read, highest first. Reading past the first byte yields zero bits and
// makes the stream "overflowed", which a decoder reports as corruption.

// backReader reads a backward bitstream. Its container c holds in[p:p+8]
// (little-endian, so in[p+7] is the top byte) and used counts the bits of
// c already consumed, from the top. A caller may consume at most 57 bits
// between two calls of reload; every index is within in, so a damaged
// stream can only make the reader report overflow or an unfinished
// stream, never read outside in.
type backReader struct {
	in   []byte
	p    int
	c    uint64
	used uint
}

// init starts reading in. An empty stream, or one whose last byte has no
// end mark, is ErrCorrupt.
func (b *backReader) init(in []byte) error {
	if len(in) == 0 {
		return corruptf("empty bitstream")
	}
	last := in[len(in)-1]
	if last == 0 {
		return corruptf("bitstream without end mark")
	}
	b.in = in
	if len(in) >= 8 {
		b.p = len(in) - 8
		b.c = binary.LittleEndian.Uint64(in[b.p:])
		b.used = uint(bits.LeadingZeros8(last)) + 1
		return nil
	}
	// A short stream sits in the low bytes of c; the missing top bytes
	// count as consumed.
	var c uint64
	for i := len(in) - 1; i >= 0; i-- {
		c = c<<8 | uint64(in[i])
	}
	b.p = 0
	b.c = c
	b.used = uint(8-len(in))*8 + uint(bits.LeadingZeros8(last)) + 1
	return nil
}

// get consumes and returns the next n bits (0 <= n <= 57). Past the start
// of the stream it returns zero bits.
func (b *backReader) get(n uint8) uint64 {
	v := b.c << b.used >> 1 >> (63 - n)
	b.used += uint(n)
	return v
}

// peek returns the next n bits (1 <= n <= 57) without consuming them.
func (b *backReader) peek(n uint8) uint64 {
	return b.c << b.used >> (64 - n)
}

// reload refills the container so that at least 57 bits are available, or
// all that remain.
func (b *backReader) reload() { b.p, b.c, b.used = refill(b.in, b.p, b.c, b.used) }

// refill is reload on a backReader's fields held in local variables by
// the hot loops (zdec.go, zdec_huff.go), which keep them in registers.
// After it, used <= 7 unless p == 0 (every remaining bit is in c). A p > 0
// only occurs for streams of 8 bytes or more (init), so in[p:p+8] exists.
func refill(in []byte, p int, c uint64, used uint) (int, uint64, uint) {
	switch {
	case p >= 8:
		p -= int(used >> 3)
		used &= 7
	case p > 0:
		nb := min(int(used>>3), p)
		p -= nb
		used -= uint(nb) * 8
	default:
		return p, c, used
	}
	return p, binary.LittleEndian.Uint64(in[p:]), used
}

// overflowed reports whether more bits were consumed than the stream has.
func (b *backReader) overflowed() bool { return b.used > 64 }

// finished reports whether exactly every bit of the stream was consumed.
func (b *backReader) finished() bool { return b.p == 0 && b.used == 64 }

// fwdBits returns the 32 bits of src starting at bit pos (LSB-first, as FSE
// table descriptions are written: RFC 8878 section 4.1.1); bits past the
// end of src read as zero.
func fwdBits(src []byte, pos int) uint32 {
	i := pos >> 3
	if i+8 <= len(src) {
		return uint32(binary.LittleEndian.Uint64(src[i:]) >> (pos & 7))
	}
	var v uint64
	for k := 0; k < 5 && i+k < len(src); k++ {
		v |= uint64(src[i+k]) << (8 * k)
	}
	return uint32(v >> (pos & 7))
}
