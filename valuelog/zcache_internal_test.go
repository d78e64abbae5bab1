package valuelog

import "testing"

// Ensure the group cache admits a group on its second miss in a row in its
// slot (not its first), then serves it, replaces it with the next admitted
// group of the same slot, and never keeps a group over
// groupCacheMaxPayload. The cached path and the decode path return the
// same bytes, so no test through AppendValue can tell whether the cache is
// used at all; this one can.
func TestGroupCache_Admission(t *testing.T) {
	var c groupCache
	const a uint64 = 4096
	b := a + 1 // another group offset that maps to a's slot
	for c.slot(b) != c.slot(a) {
		b++
	}
	if g, admit := c.lookup(a); g != nil || admit {
		t.Fatalf("first miss: %v, admit %v; want nil, false", g, admit)
	}
	if g, admit := c.lookup(a); g != nil || !admit {
		t.Fatalf("second miss in a row: %v, admit %v; want nil, true", g, admit)
	}
	ga := &decodedGroup{goff: a, payload: make([]byte, 100)}
	c.add(ga)
	for range 3 {
		if g, admit := c.lookup(a); g != ga || admit {
			t.Fatalf("after add: %p, admit %v; want %p, false", g, admit, ga)
		}
	}
	// Misses of another group in the same slot, interleaved with hits on
	// a, are not "in a row": the miss record is b's after its first miss.
	if g, admit := c.lookup(b); g != nil || admit {
		t.Fatalf("first miss of b: %v, admit %v", g, admit)
	}
	if g, admit := c.lookup(b); g != nil || !admit {
		t.Fatalf("second miss of b: %v, admit %v; want nil, true", g, admit)
	}
	gb := &decodedGroup{goff: b, payload: make([]byte, 100)}
	c.add(gb)
	if g, _ := c.lookup(b); g != gb {
		t.Fatal("b not served after add")
	}
	if g, _ := c.lookup(a); g != nil {
		t.Fatal("a still served after b replaced it in their slot")
	}
	// A group too large to keep is not added, and the slot keeps b.
	c.add(&decodedGroup{goff: a, payload: make([]byte, groupCacheMaxPayload+1)})
	if g, _ := c.lookup(b); g != gb {
		t.Fatal("an oversized group replaced the slot's group")
	}
	if g, _ := c.lookup(a); g != nil {
		t.Fatal("an oversized group was cached")
	}
}
