package valuelog

import (
	"bytes"
	"math/bits"
	"unsafe"

	"github.com/zeebo/xxh3"
)

// dedupCache remembers recently appended values so that identical values
// share one record. It is 2-way set-associative: a value's hash picks a
// set of two slots, kept in most-recently-used order; a new value goes in
// front and pushes out the older of the two. (Direct-mapped thrashed when
// two hot values happened to share a slot.)
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
	slots  []dedupSlot // 2 per set; the number of sets is a power of two
	mask   uint64      // number of sets - 1
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
const minDedupBytes = 128

// newDedupCache returns a cache that uses at most budget bytes, or nil when
// budget is too small to be useful (including negative: dedup off). About
// a quarter of the budget, rounded down to a power-of-two number of 2-slot
// sets, goes to the slot table and the rest to the ring.
func newDedupCache(budget int) *dedupCache {
	if budget < minDedupBytes {
		return nil
	}
	nsets := 1
	if n := budget / 4 / (2 * slotSize); n > 1 {
		nsets = 1 << (bits.Len(uint(n)) - 1) // largest power of two <= n
	}
	ringLen := budget - 2*nsets*slotSize
	return &dedupCache{
		slots:  make([]dedupSlot, 2*nsets),
		mask:   uint64(nsets - 1),
		ring:   make([]byte, ringLen),
		maxVal: min(maxDedupValue, ringLen/16),
	}
}

// cacheable reports whether v is short enough to be cached.
func (c *dedupCache) cacheable(v []byte) bool { return len(v) <= c.maxVal }

// hash returns the hash of v used by lookup and insert: XXH3-64, unseeded: which values share a record must be a
// function of the values written, so that the same input gives the same
// bytes at every build (a per-process random seed, as maphash has, moved
// values between sets and changed which duplicates were found).
func (c *dedupCache) hash(v []byte) uint64 { return xxh3.Hash(v) }

// set returns the two slots of h's set, most recently used first.
func (c *dedupCache) set(h uint64) *[2]dedupSlot {
	i := 2 * (h & c.mask)
	return (*[2]dedupSlot)(c.slots[i : i+2])
}

// valid reports whether s's value copy is still intact in the ring: every
// byte reserved after it lies within one ring length of its start.
func (c *dedupCache) valid(s *dedupSlot) bool {
	return c.head-s.pos <= uint64(len(c.ring))
}

// match reports whether s holds a live copy of exactly v (h = c.hash(v)).
func (c *dedupCache) match(s *dedupSlot, h uint64, v []byte) bool {
	if s.off == 0 || s.tag != uint32(h>>32) || int(s.n) != len(v) || !c.valid(s) {
		return false
	}
	p := int(s.pos % uint64(len(c.ring)))
	return bytes.Equal(c.ring[p:p+len(v)], v)
}

// lookup returns the offset of a record holding exactly v, if the cache
// remembers one. h must be c.hash(v).
func (c *dedupCache) lookup(h uint64, v []byte) (uint64, bool) {
	set := c.set(h)
	if c.match(&set[0], h, v) {
		return set[0].off, true
	}
	if c.match(&set[1], h, v) {
		set[0], set[1] = set[1], set[0] // now most recently used
		return set[0].off, true
	}
	return 0, false
}

// insert remembers that the record at off holds v, as the most recently
// used slot of its set. h must be c.hash(v) and v must be cacheable.
func (c *dedupCache) insert(h uint64, v []byte, off uint64) {
	rl := uint64(len(c.ring))
	pos := c.head
	if p := pos % rl; p+uint64(len(v)) > rl {
		pos += rl - p // do not wrap a copy around the ring's end
	}
	p := int(pos % rl)
	copy(c.ring[p:p+len(v)], v)
	c.head = pos + uint64(len(v))
	set := c.set(h)
	set[1] = set[0]
	set[0] = dedupSlot{off: off, pos: pos, n: uint32(len(v)), tag: uint32(h >> 32)}
}
