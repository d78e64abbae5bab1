package valuelog

import (
	"bytes"
	"testing"
)

// Ensure that the cache never uses more than its budget, for any budget.
func TestDedupCache_MemoryBound(t *testing.T) {
	for budget := -1; budget < 1<<14; budget += 1 + budget/7 {
		c := newDedupCache(budget)
		if c == nil {
			if budget >= minDedupBytes {
				t.Fatalf("budget %d: cache off", budget)
			}
			continue
		}
		n := len(c.slots)
		if used := n*slotSize + len(c.ring); used > budget {
			t.Fatalf("budget %d: uses %d bytes", budget, used)
		}
		if sets := n / 2; n%2 != 0 || sets&(sets-1) != 0 || c.mask != uint64(sets-1) || c.maxVal > len(c.ring) || c.maxVal > maxDedupValue {
			t.Fatalf("budget %d: %d slots, maxVal %d, ring %d", budget, n, c.maxVal, len(c.ring))
		}
	}
	c := newDedupCache(DefaultDedupBytes)
	t.Logf("default: %d slots (%d bytes), ring %d bytes, maxVal %d", len(c.slots), len(c.slots)*slotSize, len(c.ring), c.maxVal)
}

// Ensure that a full hash collision (same slot, same tag) between different
// values is a miss: the bytes decide, not the hash.
func TestDedupCache_HashCollision(t *testing.T) {
	c := newDedupCache(1024)
	const h = 0xdeadbeef_00000005
	c.insert(h, []byte("abcd"), 100)
	for _, v := range []string{"abce", "abc", "abcde", ""} {
		if off, ok := c.lookup(h, []byte(v)); ok {
			t.Fatalf("lookup(%q) hit offset %d stored for \"abcd\"", v, off)
		}
	}
	if off, ok := c.lookup(h, []byte("abcd")); !ok || off != 100 {
		t.Fatalf("lookup(\"abcd\") = %d, %v; want 100, true", off, ok)
	}
}

// Ensure that a slot whose copy was overwritten in the ring never hits,
// even when the ring now holds exactly the bytes being looked up.
func TestDedupCache_StaleRing(t *testing.T) {
	c := newDedupCache(4096)
	R := len(c.ring)
	c.insert(1, []byte("aaaa"), 100) // ring [0, 4)
	fill := R - 4
	filler := bytes.Repeat([]byte{'f'}, c.maxVal)
	for fill > 0 {
		n := min(fill, len(filler))
		c.insert(2, filler[:n], 200)
		fill -= n
	}
	if c.head != uint64(R) {
		t.Fatalf("head %d, want %d", c.head, R)
	}
	if off, ok := c.lookup(1, []byte("aaaa")); !ok || off != 100 {
		t.Fatalf("before wrap: lookup = %d, %v; want 100, true", off, ok)
	}
	c.insert(3, []byte("bbbb"), 300) // wraps onto ring [0, 4)
	if !bytes.Equal(c.ring[:4], []byte("bbbb")) {
		t.Fatalf("ring starts %q, test setup wrong", c.ring[:4])
	}
	for _, v := range []string{"aaaa", "bbbb"} {
		if off, ok := c.lookup(1, []byte(v)); ok {
			t.Fatalf("stale slot: lookup(%q) hit offset %d", v, off)
		}
	}
	if off, ok := c.lookup(3, []byte("bbbb")); !ok || off != 300 {
		t.Fatalf("lookup(\"bbbb\") = %d, %v; want 300, true", off, ok)
	}
}

// Ensure that a copy that would straddle the ring's end is placed at its
// start instead, and stays retrievable.
func TestDedupCache_NoStraddle(t *testing.T) {
	c := newDedupCache(4096)
	R := len(c.ring)
	c.head = uint64(R - 3)
	c.insert(7, []byte("xyzzy"), 500)
	if c.head != uint64(R+5) || !bytes.Equal(c.ring[:5], []byte("xyzzy")) {
		t.Fatalf("head %d, ring starts %q", c.head, c.ring[:5])
	}
	if off, ok := c.lookup(7, []byte("xyzzy")); !ok || off != 500 {
		t.Fatalf("lookup = %d, %v; want 500, true", off, ok)
	}
}

// Ensure that two values sharing a set both stay cached (2-way), and that a
// third pushes out the least recently used one.
func TestDedupCache_TwoWay(t *testing.T) {
	c := newDedupCache(4096)
	const h = 0x1234_00000003 // tag and set shared by all three values
	c.insert(h, []byte("one"), 100)
	c.insert(h, []byte("two"), 200)
	for range 3 {
		if off, ok := c.lookup(h, []byte("one")); !ok || off != 100 {
			t.Fatalf("lookup(one) = %d, %v", off, ok)
		}
		if off, ok := c.lookup(h, []byte("two")); !ok || off != 200 {
			t.Fatalf("lookup(two) = %d, %v", off, ok)
		}
	}
	c.lookup(h, []byte("one"))      // "two" is now least recently used
	c.insert(h, []byte("six"), 600) // evicts "two"
	if _, ok := c.lookup(h, []byte("two")); ok {
		t.Fatal("lookup(two) hit after eviction")
	}
	for v, want := range map[string]uint64{"one": 100, "six": 600} {
		if off, ok := c.lookup(h, []byte(v)); !ok || off != want {
			t.Fatalf("lookup(%s) = %d, %v; want %d", v, off, ok, want)
		}
	}
}
