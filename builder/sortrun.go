package builder

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
	"unsafe"
)

// entry indexes one record in a run buffer. 32 bytes.
type entry struct {
	pfx  uint64 // 8 key bytes (big-endian, zero padded) at the current sort depth
	seq  uint64 // input position, see makeSeq
	blk  uint32 // arena block (bigBlock bit: an oversized record's own block)
	off  uint32 // key offset in the block; the value follows the key
	klen uint32
	vlen uint32
}

// entrySize must be entry's size: allocEntries lays entries over bytes.
var _ [0]struct{} = [unsafe.Sizeof(entry{}) - entrySize]struct{}{}

const (
	entrySize    = 32
	bigBlock     = 1 << 31
	maxBlockSize = 32 << 20
)

// runBuf is a worker's in-memory run: record bytes in arena blocks plus an
// index of fixed entries. It grows on demand up to its budget (so small
// inputs stay small) and is reused for every run of the worker: blocks are
// never copied, only the entry slice is, when it doubles.
type runBuf struct {
	budget    int64
	blockSize int
	blocks    [][]byte // standard blocks, kept across runs
	cur       int      // block being filled
	big       [][]byte // oversized records, dropped at reset
	bigBytes  int64
	ents      []entry
}

func newRunBuf(budget int64) *runBuf {
	bs := int(min(int64(maxBlockSize), max(budget/8, 4096)))
	return &runBuf{budget: budget, blockSize: bs}
}

// used is the memory held, counting the entry slice at capacity.
func (r *runBuf) used() int64 {
	return int64(len(r.blocks))*int64(r.blockSize) + r.bigBytes + int64(cap(r.ents))*entrySize
}

// growEnts doubles the entry slice if the budget allows the copy (old and
// new slices live at once).
func (r *runBuf) growEnts() bool {
	c := int64(cap(r.ents))
	avail := (r.budget - r.used()) / entrySize // entries that fit beside the old slice
	nc := max(2*c, 1024)
	if nc > avail {
		nc = avail
	}
	if nc <= c+c/8 && len(r.ents) > 0 {
		return false
	}
	nc = max(nc, c+16)
	ne := allocEntries(int(nc))[:len(r.ents)]
	copy(ne, r.ents)
	freeEntries(r.ents)
	r.ents = ne
	return true
}

// allocEntries returns an entry slice of capacity n in arena memory, like
// the record blocks: outside the Go heap, so the budget counts it exactly.
// In the heap, every doubling left the old slice as garbage the collector
// freed late, and the memory limit (which sees only the heap) let that
// garbage and the arena together exceed --memory by 17-25% (docs/BENCHMARKS.md,
// "A billion keys"). An entry holds no pointers, so the collector need not
// see it.
func allocEntries(n int) []entry {
	if n == 0 {
		return nil
	}
	b := allocBlock(n * entrySize)
	return unsafe.Slice((*entry)(unsafe.Pointer(unsafe.SliceData(b))), n)[:0]
}

// freeEntries releases a slice from allocEntries.
func freeEntries(e []entry) {
	if cap(e) == 0 {
		return
	}
	freeBlock(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(e))), cap(e)*entrySize))
}

// add appends a record; it returns false if the buffer is full (never for
// an empty buffer).
func (r *runBuf) add(key, val []byte, seq uint64) bool {
	if len(r.ents) == cap(r.ents) && !r.growEnts() {
		return false
	}
	need := len(key) + len(val)
	var blk int
	var b []byte
	switch {
	case need > r.blockSize:
		if len(r.ents) > 0 && r.used()+int64(need) > r.budget {
			return false
		}
		b = allocBlock(need)[:0]
		r.big = append(r.big, b)
		r.bigBytes += int64(need)
		blk = (len(r.big) - 1) | bigBlock
	case len(r.blocks) > 0 && cap(r.blocks[r.cur])-len(r.blocks[r.cur]) >= need:
		blk, b = r.cur, r.blocks[r.cur]
	case r.cur+1 < len(r.blocks):
		r.cur++
		blk, b = r.cur, r.blocks[r.cur]
	default:
		if len(r.ents) > 0 && r.used()+int64(r.blockSize) > r.budget {
			return false
		}
		r.blocks = append(r.blocks, allocBlock(r.blockSize)[:0])
		r.cur = len(r.blocks) - 1
		blk, b = r.cur, r.blocks[r.cur]
	}
	off := len(b)
	b = append(b, key...)
	b = append(b, val...)
	if blk&bigBlock != 0 {
		r.big[blk&^bigBlock] = b
	} else {
		r.blocks[blk] = b
	}
	r.ents = append(r.ents, entry{pfx: load8(key), seq: seq, blk: uint32(blk), off: uint32(off), klen: uint32(len(key)), vlen: uint32(len(val))})
	return true
}

func (r *runBuf) reset() {
	for i := range r.blocks {
		r.blocks[i] = r.blocks[i][:0]
	}
	r.cur = 0
	for _, b := range r.big {
		freeBlock(b)
	}
	r.big, r.bigBytes = nil, 0
	r.ents = r.ents[:0]
}

// release returns the buffer's memory; the buffer must not be used again.
func (r *runBuf) release() {
	if r == nil {
		return
	}
	r.reset()
	for _, b := range r.blocks {
		freeBlock(b)
	}
	freeEntries(r.ents)
	r.blocks, r.ents = nil, nil
}

// reserve sizes the entry slice for about n records up front (when the
// input size is known), within the budget, so it need not grow by copying.
func (r *runBuf) reserve(n int64) {
	n = min(n, r.budget/2/entrySize)
	if n > int64(cap(r.ents)) {
		freeEntries(r.ents)
		r.ents = allocEntries(int(n))
	}
}

func (r *runBuf) block(e *entry) []byte {
	if e.blk&bigBlock != 0 {
		return r.big[e.blk&^bigBlock]
	}
	return r.blocks[e.blk]
}

func (r *runBuf) key(e *entry) []byte {
	return r.block(e)[e.off : e.off+e.klen]
}

func (r *runBuf) val(e *entry) []byte {
	s := e.off + e.klen
	return r.block(e)[s : s+e.vlen]
}

// load8 returns the first 8 bytes of b as a big-endian integer, zero padded,
// so that comparing two of them agrees with bytes.Compare on those bytes.
func load8(b []byte) uint64 {
	if len(b) >= 8 {
		return binary.BigEndian.Uint64(b)
	}
	var v uint64
	for i := 0; i < 8; i++ {
		v <<= 8
		if i < len(b) {
			v |= uint64(b[i])
		}
	}
	return v
}

// sort orders the run by key (byte order), then by sequence number.
func (r *runBuf) sort() { r.sortEntries(r.ents, 0) }

// sortEntries is a multikey sort over 8-byte key slices: sort on the cached
// prefix, then resolve each group of equal prefixes by the next 8 bytes.
// Keys with long common prefixes (URLs all start with "https://") cost one
// extra pass over the group per 8 shared bytes instead of a full
// bytes.Compare on every comparison.
func (r *runBuf) sortEntries(es []entry, depth int) {
	if len(es) < 2 {
		return
	}
	if depth > 0 {
		for i := range es {
			e := &es[i]
			if int(e.klen) > depth {
				e.pfx = load8(r.key(e)[depth:])
			} else {
				e.pfx = 0
			}
		}
	}
	radixSortPfx(es)
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && es[j].pfx == es[i].pfx {
			j++
		}
		if j-i > 1 {
			r.resolveGroup(es[i:j], depth)
		}
		i = j
	}
}

// resolveGroup orders entries whose keys agree on bytes [0, depth+8)
// (padding with zeros). Keys that end within those bytes come first, in
// length order (a shorter one is a prefix of a longer one); among keys of
// equal length (equal keys) by sequence. The rest are sorted on the next
// 8 bytes.
func (r *runBuf) resolveGroup(g []entry, depth int) {
	lim := uint32(depth + 8)
	t := 0
	for i := range g {
		if g[i].klen <= lim {
			g[t], g[i] = g[i], g[t]
			t++
		}
	}
	if t > 1 {
		slices.SortFunc(g[:t], func(a, b entry) int {
			if c := cmp.Compare(a.klen, b.klen); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
	}
	if len(g)-t > 1 {
		r.sortEntries(g[t:], depth+8)
	}
}

func insertionSortPfx(es []entry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].pfx < es[j-1].pfx; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// radixSortPfx sorts on pfx: an in-place MSD radix sort (American flag
// sort) on one byte at a time, insertion sort for small buckets. About 3x
// faster than pdqsort with a comparison function on these 32-byte entries.
func radixSortPfx(es []entry) { flagSort(es, 56) }

func flagSort(es []entry, shift uint) {
	for {
		if len(es) <= 32 {
			insertionSortPfx(es)
			return
		}
		var counts [256]int
		for i := range es {
			counts[byte(es[i].pfx>>shift)]++
		}
		if counts[byte(es[0].pfx>>shift)] == len(es) { // one bucket: next byte
			if shift == 0 {
				return
			}
			shift -= 8
			continue
		}
		var next, ends [256]int
		sum := 0
		for b := range 256 {
			next[b] = sum
			sum += counts[b]
			ends[b] = sum
		}
		for b := range 256 {
			for next[b] < ends[b] {
				v := byte(es[next[b]].pfx >> shift)
				if int(v) == b {
					next[b]++
					continue
				}
				es[next[b]], es[next[v]] = es[next[v]], es[next[b]]
				next[v]++
			}
		}
		if shift == 0 {
			return
		}
		start := 0
		for b := range 256 {
			if counts[b] > 1 {
				flagSort(es[start:start+counts[b]], shift-8)
			}
			start += counts[b]
		}
		return
	}
}

// lowerBound returns the index of the first entry whose key is >= key (the
// run must be sorted).
func (r *runBuf) lowerBound(key []byte) int {
	lo, hi := 0, len(r.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(r.key(&r.ents[m]), key) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
