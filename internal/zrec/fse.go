package zrec

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// FSE coding for the encoder's own sequences (seqenc.go): reading a zstd
// FSE table description (RFC 8878 4.1.1) from a dictionary, building the
// encoding table of a distribution, and the backward bit stream the
// sequences section is written in (RFC 8878 4.1 and 3.1.1.3.2.2).
//
// A distribution of accuracy log L gives each symbol s a normalized count
// c(s) (a count of -1, "less than 1", takes one slot). The decoder's table
// has 1<<L states; symbol s owns c(s) of them, spread as the RFC says, and
// the k-th state of s (in increasing order) reads nb = L - highbit(c(s)+k)
// bits b and moves to state ((c(s)+k) << nb) - (1<<L) + b. The encoder runs
// the other way: from state x (kept as X = x + 1<<L) it must reach a state
// of s whose range holds x. That is the k with c(s)+k = X >> nb, where nb
// is maxBits(s) when X >= c(s) << maxBits(s), else maxBits(s)-1; it writes
// the low nb bits of X and takes that state.

// errFSETable reports a table description the encoder cannot use; the
// Encoder then leaves the group to the zstd encoder.
var errFSETable = errors.New("zrec: unusable FSE table")

// fseTable is one distribution's encoding table.
type fseTable struct {
	log    uint8
	states []uint16 // X of each symbol's states, grouped by symbol in increasing order
	sym    []fseSym // per symbol; count 0 means the symbol cannot be coded
}

// fseSym is what encoding one symbol needs.
type fseSym struct {
	count   int16  // slots (a count of -1 counts as 1); 0: not codable
	maxBits uint8  // bits written from a state X >= minX
	minX    uint32 // count << maxBits
	first   int32  // index in states of the symbol's first state, minus count
}

// readFSETable decodes an FSE table description at the start of b with at
// most maxSym+1 symbols and accuracy log at most maxLog. It returns the
// normalized counts, the accuracy log and the description's length in
// bytes. It never reads past b.
func readFSETable(b []byte, maxSym, maxLog int) (norm []int16, log, n int, err error) {
	var br bitReader
	br.b = b
	v, ok := br.read(4)
	if !ok {
		return nil, 0, 0, errFSETable
	}
	log = int(v) + 5
	if log > maxLog {
		return nil, 0, 0, errFSETable
	}
	norm = make([]int16, maxSym+1)
	remaining := 1<<log + 1
	threshold := 1 << log
	nbBits := log + 1
	sym := 0
	prev0 := false
	for remaining > 1 {
		if prev0 {
			for {
				r, ok := br.read(2)
				if !ok {
					return nil, 0, 0, errFSETable
				}
				sym += int(r) // those symbols keep a count of 0
				if r != 3 {
					break
				}
			}
		}
		if sym > maxSym {
			return nil, 0, 0, errFSETable
		}
		max := 2*threshold - 1 - remaining
		low, ok := br.peek(nbBits - 1)
		if !ok {
			return nil, 0, 0, errFSETable
		}
		var count int
		if int(low) < max {
			count = int(low)
			br.skip(nbBits - 1)
		} else {
			full, ok := br.peek(nbBits)
			if !ok {
				return nil, 0, 0, errFSETable
			}
			count = int(full)
			if count >= threshold {
				count -= max
			}
			br.skip(nbBits)
		}
		count-- // -1: "less than 1"
		if count < 0 {
			remaining--
		} else {
			remaining -= count
		}
		if remaining < 1 {
			return nil, 0, 0, errFSETable
		}
		norm[sym] = int16(count)
		sym++
		prev0 = count == 0
		for remaining < threshold {
			nbBits--
			threshold >>= 1
		}
	}
	if remaining != 1 {
		return nil, 0, 0, errFSETable
	}
	return norm, log, (br.pos + 7) / 8, nil
}

// newFSETable builds the encoding table of distribution norm (counts that
// fill 1<<log slots, -1 taking one).
func newFSETable(norm []int16, log int) (*fseTable, error) {
	size := 1 << log
	total := 0
	for _, c := range norm {
		if c < 0 {
			total++
		} else {
			total += int(c)
		}
	}
	if total != size || len(norm) > 256 {
		return nil, errFSETable
	}
	// Spread the symbols over the states (RFC 8878 4.1.1): "less than 1"
	// symbols at the top, the others stepped through the rest.
	symAt := make([]uint8, size)
	high := size - 1
	for s, c := range norm {
		if c < 0 {
			symAt[high] = uint8(s)
			high--
		}
	}
	step := size>>1 + size>>3 + 3
	pos := 0
	for s, c := range norm {
		for range int(max(c, 0)) {
			symAt[pos] = uint8(s)
			pos = (pos + step) & (size - 1)
			for pos > high {
				pos = (pos + step) & (size - 1)
			}
		}
	}
	if pos != 0 {
		return nil, errFSETable
	}
	t := &fseTable{log: uint8(log), states: make([]uint16, size), sym: make([]fseSym, len(norm))}
	next := 0
	for s, c := range norm {
		if c == 0 {
			continue
		}
		cnt := int(max(c, 1))
		maxBits := log
		if cnt > 1 {
			maxBits = log - highBit(uint32(cnt-1))
		}
		t.sym[s] = fseSym{count: int16(cnt), maxBits: uint8(maxBits), minX: uint32(cnt) << maxBits, first: int32(next - cnt)}
		next += cnt
	}
	// Each symbol's states in increasing order.
	fill := make([]int, len(norm))
	for u := range size {
		s := symAt[u]
		f := &t.sym[s]
		t.states[int(f.first)+int(f.count)+fill[s]] = uint16(size + u)
		fill[s]++
	}
	return t, nil
}

// codes reports whether t can code symbol s.
func (t *fseTable) codes(s uint8) bool { return int(s) < len(t.sym) && t.sym[s].count != 0 }

// init returns the state X the encoder starts from for the first symbol it
// codes (the last one the decoder reads): any state of s will do.
func (t *fseTable) init(s uint8) uint32 {
	f := &t.sym[s]
	return uint32(t.states[f.first+int32(f.count)])
}

// step codes symbol s from state X, returning the state's
// low bits and their count for the caller to write, and the new state.
func (t *fseTable) step(x uint32, s uint8) (v uint64, nb uint, next uint32) {
	f := &t.sym[s]
	nb = uint(f.maxBits)
	if x < f.minX {
		nb--
	}
	return uint64(x) & (1<<nb - 1), nb, uint32(t.states[f.first+int32(x>>nb)])
}

// highBit returns the index of the highest set bit of v > 0.
func highBit(v uint32) int { return bits.Len32(v) - 1 }

// bufWriter writes a bit stream low bits first, as zstd's backward
// streams are written (the decoder reads them from the end), into b from
// pos, whose room the caller has grown beforehand: flush stores 8 bytes
// at once and advances over the whole ones. Up to 56 bits may be added
// between flushes; values must fit in their bit counts.
type bufWriter struct {
	b   []byte
	pos int
	acc uint64
	n   uint
}

func (w *bufWriter) add(v uint64, nb uint) {
	w.acc |= v << w.n
	w.n += nb
}

func (w *bufWriter) flush() {
	binary.LittleEndian.PutUint64(w.b[w.pos:], w.acc)
	k := w.n >> 3
	w.pos += int(k)
	w.acc >>= k * 8
	w.n &= 7
}

// bitReader reads a forward bit stream, low bits first (FSE table
// descriptions).
type bitReader struct {
	b   []byte
	pos int // in bits
}

// peek returns the next nb (<= 24) bits without consuming them; ok is
// false when they run past the end.
func (r *bitReader) peek(nb int) (uint32, bool) {
	if nb == 0 {
		return 0, true
	}
	if r.pos+nb > 8*len(r.b) {
		return 0, false
	}
	var v uint32
	for i := range nb {
		p := r.pos + i
		v |= uint32(r.b[p>>3]>>(p&7)&1) << i
	}
	return v, true
}

func (r *bitReader) skip(nb int) { r.pos += nb }

func (r *bitReader) read(nb int) (uint32, bool) {
	v, ok := r.peek(nb)
	if ok {
		r.skip(nb)
	}
	return v, ok
}
