package valuelog

import "sync/atomic"

// groupCache keeps decoded groups of a compressed value-only log for point
// lookups (AppendValue, Value), so that a group read again and again, as
// when few distinct values serve many keys (package names of file paths,
// a status column), is decoded once rather than on every lookup.
//
// It is direct-mapped: groupCacheSlots slots, each holding at most one
// immutable *decodedGroup that readers load and copy from without a lock
// (a replaced group stays valid for whoever still holds it). A group is
// admitted on its second consecutive miss in its slot: lookups spread over
// far more groups than slots (random keys over a large log) almost never
// repeat a miss, so they keep the decode-into-scratch path and do not
// allocate, while a small working set fills the cache after one pass.
// Groups with payloads over groupCacheMaxPayload are never cached, which
// bounds the cache at groupCacheSlots*groupCacheMaxPayload bytes (4 MiB);
// with the default groups of at most 1 KiB it is nearer 1 MiB when full.
type groupCache struct {
	slots [groupCacheSlots]atomic.Pointer[decodedGroup]
	// missed holds 1 + the group offset of each slot's last miss.
	missed [groupCacheSlots]atomic.Uint64
}

// Sizes of a groupCache.
const (
	groupCacheSlots      = 1024
	groupCacheMaxPayload = 4 << 10
)

// slot returns the slot of the group at goff.
func (c *groupCache) slot(goff uint64) int {
	return int((goff ^ goff>>10 ^ goff>>20) % groupCacheSlots)
}

// lookup returns the cached group at goff, or nil and whether the caller
// should decode the group and add it (second miss in a row in its slot).
func (c *groupCache) lookup(goff uint64) (g *decodedGroup, admit bool) {
	i := c.slot(goff)
	if g := c.slots[i].Load(); g != nil && g.goff == goff {
		return g, false
	}
	if c.missed[i].Load() == goff+1 {
		return nil, true
	}
	c.missed[i].Store(goff + 1)
	return nil, false
}

// add caches g (a fully loaded group), replacing its slot's group, unless
// its payload is too large to keep.
func (c *groupCache) add(g *decodedGroup) {
	if len(g.payload) > groupCacheMaxPayload {
		return
	}
	c.slots[c.slot(g.goff)].Store(g)
}
