package valuelog

import (
	"bytes"
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// dedupCache remembers recently appended values so that identical values
// share one record. It is direct-mapped: a value's maphash picks one slot,
// and a new value simply replaces the slot's previous occupant.
//
// A hit is never trusted to the hash: the slot keeps a copy of the value
// bytes in a ring buffer, and a hit needs the lengths and the bytes to be
// equal. A slot whose copy has since been overwritten in the ring is stale
// and never hits (see valid), so a hit always returns the offset of a
// record holding exactly the appended bytes.
//
// Memory: the slot table and the ring are allocated once and together take
// at most the configured budget; nothing else grows with the input.
type dedupCache struct {
	seed   maphash.Seed
	slots  []dedupSlot // len is a power of two
	mask   uint64      // len(slots)-1
	ring   []byte      // copies of cached values, written circularly
	head   uint64      // logical bytes ever reserved in ring; the next copy starts here
	maxVal int         // longer values bypass the cache
}

// dedupSlot is one cache entry. off == 0 marks an empty slot: no record
// lives at offset 0, which holds the file header.
type dedupSlot struct {
	off uint64 // file offset of the record
	pos uint64 // logical ring position of the value copy
	n   uint32 // value length
	tag uint32 // high 32 bits of the hash, to skip most byte compares
}

const slotSize = int(unsafe.Sizeof(dedupSlot{}))

// minDedupBytes is the smallest useful budget; below it dedup is off.
const minDedupBytes = 64

// newDedupCache returns a cache that uses at most budget bytes, or nil when
// budget is too small to be useful (including negative: dedup off). A
// quarter of the budget, rounded down to a power-of-two slot count, goes to
// the slot table and the rest to the ring.
func newDedupCache(budget int) *dedupCache {
	if budget < minDedupBytes {
		return nil
	}
	nslots := 1
	if n := budget / 4 / slotSize; n > 1 {
		nslots = 1 << (bits.Len(uint(n)) - 1) // largest power of two <= n
	}
	ringLen := budget - nslots*slotSize
	return &dedupCache{
		seed:   maphash.MakeSeed(),
		slots:  make([]dedupSlot, nslots),
		mask:   uint64(nslots - 1),
		ring:   make([]byte, ringLen),
		maxVal: min(maxDedupValue, ringLen/16),
	}
}

// cacheable reports whether v is short enough to be cached.
func (c *dedupCache) cacheable(v []byte) bool { return len(v) <= c.maxVal }

// hash returns the hash of v used by lookup and insert.
func (c *dedupCache) hash(v []byte) uint64 { return maphash.Bytes(c.seed, v) }

// valid reports whether s's value copy is still intact in the ring: every
// byte reserved after it lies within one ring length of its start.
func (c *dedupCache) valid(s *dedupSlot) bool {
	return c.head-s.pos <= uint64(len(c.ring))
}

// lookup returns the offset of a record holding exactly v, if the cache
// remembers one. h must be c.hash(v).
func (c *dedupCache) lookup(h uint64, v []byte) (uint64, bool) {
	s := &c.slots[h&c.mask]
	if s.off == 0 || s.tag != uint32(h>>32) || int(s.n) != len(v) || !c.valid(s) {
		return 0, false
	}
	p := int(s.pos % uint64(len(c.ring)))
	if !bytes.Equal(c.ring[p:p+len(v)], v) {
		return 0, false
	}
	return s.off, true
}

// insert remembers that the record at off holds v. h must be c.hash(v) and
// v must be cacheable.
func (c *dedupCache) insert(h uint64, v []byte, off uint64) {
	rl := uint64(len(c.ring))
	pos := c.head
	if p := pos % rl; p+uint64(len(v)) > rl {
		pos += rl - p // do not wrap a copy around the ring's end
	}
	p := int(pos % rl)
	copy(c.ring[p:p+len(v)], v)
	c.head = pos + uint64(len(v))
	c.slots[h&c.mask] = dedupSlot{off: off, pos: pos, n: uint32(len(v)), tag: uint32(h >> 32)}
}
