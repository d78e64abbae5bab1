package zrec

import (
	"encoding/binary"
	"math/bits"
)

// Huffman literals for the fast decoder (zdec.go): the tree description
// (RFC 8878 section 4.2.1) and the decoding of one or four streams
// (section 3.1.1.3.1.6).

// maxHuffBits is the longest Huffman code zstd allows (Max_Number_of_Bits).
const maxHuffBits = 11

// huffTable is a Huffman decoding table: for every maxBits-bit window of
// the stream, the symbol whose code starts it (high byte) and the code's
// length (low byte).
//
// A table built for a dictionary also has dt2, which decodes two symbols
// at once when both codes fit in the maxBits-bit window (the usual case for
// text, whose codes average 5-6 bits): symbol 1 in the low byte, symbol 2
// in the next, then the bits used, then the count of symbols (1 or 2).
// Decoding is a chain of dependent table loads, so halving their number
// nearly halves the time.
type huffTable struct {
	maxBits uint8
	has2    bool
	dt      [1 << maxHuffBits]uint16
	dt2     [1 << maxHuffBits]uint32
}

// readHuffTree parses a Huffman tree description at the start of src into
// t and returns its length. tmp is scratch for the FSE-coded weights.
func readHuffTree(src []byte, t *huffTable, tmp *[1 << 6]fseEntry) (int, error) {
	if len(src) == 0 {
		return 0, corruptf("Huffman tree description missing")
	}
	var w [256]uint8
	nw := 0
	hb := int(src[0])
	n := 0
	if hb >= 128 {
		// Direct: 4 bits per weight, first in the high nibble.
		nw = hb - 127
		n = 1 + (nw+1)/2
		if n > len(src) {
			return 0, corruptf("Huffman weights truncated")
		}
		for i := 0; i < nw; i++ {
			b := src[1+i/2]
			if i&1 == 0 {
				w[i] = b >> 4
			} else {
				w[i] = b & 15
			}
		}
	} else {
		// FSE-coded weights: a table description then two interleaved
		// states over one backward stream.
		n = 1 + hb
		if hb == 0 || n > len(src) {
			return 0, corruptf("Huffman weights of %d bytes truncated", hb)
		}
		data := src[1:n]
		var norm [256]int16
		log, k, err := readNCount(data, &norm, 12, 6)
		if err != nil {
			return 0, err
		}
		if err := buildFSE(tmp[:], norm[:13], log); err != nil {
			return 0, err
		}
		if k >= len(data) {
			return 0, corruptf("Huffman weights stream missing")
		}
		var br backReader
		if err := br.init(data[k:]); err != nil {
			return 0, err
		}
		st := [2]uint16{uint16(br.get(log)), uint16(br.get(log))} // left to right
		br.reload()
		// Each state in turn emits its symbol and reads its next
		// state. The stream ends when an update runs out of bits; it
		// must run out exactly at the stream's end (klauspost refuses
		// an update that overreads, libzstd tolerates it), and then the
		// other state emits its symbol.
		for i := 0; ; i ^= 1 {
			if i == 0 && nw > 255-2 {
				return 0, corruptf("more than 255 Huffman weights")
			}
			e := tmp[st[i]]
			w[nw] = e.sym
			nw++
			before := br.used
			st[i] = e.next + uint16(br.get(e.nb))
			br.reload()
			if br.overflowed() {
				if before != 64 {
					return 0, corruptf("Huffman weights stream overread")
				}
				w[nw] = tmp[st[i^1]].sym
				nw++
				break
			}
		}
	}
	return n, t.build(&w, nw)
}

// build fills t from the weights of symbols 0..nw-1; the last symbol's
// weight is implied (it completes the sum to a power of two).
func (t *huffTable) build(w *[256]uint8, nw int) error {
	if nw == 0 || nw > 255 {
		return corruptf("%d Huffman weights", nw)
	}
	var rank [maxHuffBits + 2]uint32
	total := uint32(0)
	for _, x := range w[:nw] {
		if x > maxHuffBits {
			return corruptf("Huffman weight %d", x)
		}
		rank[x]++
		if x > 0 {
			total += 1 << (x - 1)
		}
	}
	if total == 0 {
		return corruptf("Huffman weights all zero")
	}
	maxBits := uint8(bits.Len32(total))
	if maxBits > maxHuffBits {
		return corruptf("Huffman code of %d bits", maxBits)
	}
	rest := uint32(1)<<maxBits - total
	if rest&(rest-1) != 0 {
		return corruptf("Huffman weights do not complete a tree")
	}
	last := uint8(bits.Len32(rest))
	w[nw] = last
	rank[last]++
	nw++
	// Codes of weight 1 take the first slots, then weight 2, ...
	var start [maxHuffBits + 2]uint32
	pos := uint32(0)
	for x := 1; x <= int(maxBits); x++ {
		start[x] = pos
		pos += rank[x] << (x - 1)
	}
	if pos != 1<<maxBits {
		return corruptf("Huffman weights inconsistent")
	}
	t.maxBits = maxBits
	t.has2 = false
	for s, x := range w[:nw] {
		if x == 0 {
			continue
		}
		e := uint16(s)<<8 | uint16(maxBits+1-x)
		lo := start[x]
		hi := lo + 1<<(x-1)
		for i := lo; i < hi; i++ {
			t.dt[i] = e
		}
		start[x] = hi
	}
	return nil
}

// build2 fills dt2 from dt (see huffTable).
func (t *huffTable) build2() {
	mb := uint(t.maxBits)
	mask := 1<<mb - 1
	for idx := 0; idx <= mask; idx++ {
		e1 := t.dt[idx]
		l1 := uint(e1 & 0xff)
		e2 := t.dt[(idx<<l1)&mask]
		l2 := uint(e2 & 0xff)
		if l1+l2 <= mb {
			t.dt2[idx] = uint32(e1>>8) | uint32(e2>>8)<<8 | uint32(l1+l2)<<16 | 2<<24
		} else {
			t.dt2[idx] = uint32(e1>>8) | uint32(l1)<<16 | 1<<24
		}
	}
	t.has2 = true
}

// decode1 decodes one Huffman stream src into exactly len(dst) bytes;
// the stream must end exactly at its last bit. Shift counts are masked to
// 63 so that the compiler emits plain shifts: past the end of the stream
// (used > 64) the bits read are then garbage rather than zeros, which
// only happens to a stream that then fails the final check.
func (t *huffTable) decode1(dst, src []byte) error {
	var br backReader
	if err := br.init(src); err != nil {
		return err
	}
	p, _, used := t.decodeRun(dst, br.in, br.p, br.c, br.used)
	if p != 0 || used != 64 {
		return corruptf("Huffman stream not consumed exactly")
	}
	return nil
}

// decodeRun decodes len(dst) symbols from a stream whose reader state
// (backReader's fields) is in, p, c, used, and returns the new state. It
// is decode1 without the start and the final check, so that sequences
// (zdec.go) can finish a stream it decodes lazily.
func (t *huffTable) decodeRun(dst, in []byte, p int, c uint64, used uint) (int, uint64, uint) {
	s := (64 - uint(t.maxBits)) & 63
	const mask = 1<<maxHuffBits - 1
	i, n := 0, len(dst)
	if t.has2 {
		for n-i >= 8 {
			var j int
			p, c, used, j = huffStep(&t.dt2, s, dst[i:i+8:i+8], in, p, c, used)
			i += j
		}
	}
	dt := &t.dt
	for n-i >= 4 {
		p, c, used = refill(in, p, c, used)
		d := dst[i : i+4 : i+4]
		v := dt[c<<(used&63)>>s&mask]
		used += uint(v & 0xff)
		v1 := dt[c<<(used&63)>>s&mask]
		used += uint(v1 & 0xff)
		v2 := dt[c<<(used&63)>>s&mask]
		used += uint(v2 & 0xff)
		v3 := dt[c<<(used&63)>>s&mask]
		used += uint(v3 & 0xff)
		d[0], d[1], d[2], d[3] = byte(v>>8), byte(v1>>8), byte(v2>>8), byte(v3>>8)
		i += 4
	}
	p, c, used = refill(in, p, c, used)
	for ; i < n; i++ {
		v := dt[c<<(used&63)>>s&mask]
		used += uint(v & 0xff)
		dst[i] = byte(v >> 8)
	}
	return p, c, used
}

// decode4 decodes the four streams of src (a 6-byte jump table, then the
// streams) into exactly len(dst) bytes.
func (t *huffTable) decode4(dst, src []byte) error {
	if len(src) < 10 || len(dst) < 6 {
		return corruptf("four Huffman streams in %d bytes for %d literals", len(src), len(dst))
	}
	l1 := int(binary.LittleEndian.Uint16(src))
	l2 := int(binary.LittleEndian.Uint16(src[2:]))
	l3 := int(binary.LittleEndian.Uint16(src[4:]))
	rest := src[6:]
	if l1+l2+l3 > len(rest) {
		return corruptf("Huffman jump table past its section")
	}
	seg := (len(dst) + 3) / 4
	if 3*seg > len(dst) {
		return corruptf("%d literals in four streams", len(dst))
	}
	a, b, c := l1, l1+l2, l1+l2+l3
	if err := t.decode1(dst[:seg], rest[:a]); err != nil {
		return err
	}
	if err := t.decode1(dst[seg:2*seg], rest[a:b]); err != nil {
		return err
	}
	if err := t.decode1(dst[2*seg:3*seg], rest[b:c]); err != nil {
		return err
	}
	return t.decode1(dst[3*seg:], rest[c:])
}

// huffStep is one step of decodeRun's two-symbol loop on a stream held in
// (in, p, c, used): four lookups, which decode 4 to 8 symbols into d (8
// bytes: the caller ensures 8 or more symbols remain). It returns the new
// state and the number of symbols. dt2 and s are t.dt2 and decodeRun's
// shift for t.maxBits.
func huffStep(dt2 *[1 << maxHuffBits]uint32, s uint, d []byte, in []byte, p int, c uint64, used uint) (int, uint64, uint, int) {
	const mask = 1<<maxHuffBits - 1
	p, c, used = refill(in, p, c, used)
	v := c << (used & 63)
	d = d[:8:8]
	e := dt2[v>>s&mask]
	nb := e >> 16 & 0xff
	v <<= nb & 63
	d[0], d[1] = byte(e), byte(e>>8)
	j := int(e >> 24)
	bitsUsed := nb
	e = dt2[v>>s&mask]
	nb = e >> 16 & 0xff
	v <<= nb & 63
	d[j&7], d[(j+1)&7] = byte(e), byte(e>>8)
	j += int(e >> 24)
	bitsUsed += nb
	e = dt2[v>>s&mask]
	nb = e >> 16 & 0xff
	v <<= nb & 63
	d[j&7], d[(j+1)&7] = byte(e), byte(e>>8)
	j += int(e >> 24)
	bitsUsed += nb
	e = dt2[v>>s&mask]
	nb = e >> 16 & 0xff
	d[j&7], d[(j+1)&7] = byte(e), byte(e>>8)
	j += int(e >> 24)
	return p, c, used + uint(bitsUsed+nb), j
}
