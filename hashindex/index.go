package hashindex

import (
	"encoding/binary"
	"fmt"

	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/prefetch"
)

// Index is a loaded index file: a read-only view of the bytes passed to
// Load (typically an mmap). It is safe for concurrent use.
type Index struct {
	file  *frame.File
	table []byte // L*8 bytes of entries
	t     trailer
}

// Load checks the frame and the trailer of data, a whole index file, and
// returns an Index reading it. It is O(1): the table is not read (see
// Verify). Errors wrap ErrCorrupt, ErrMagic or ErrVersion. The Index keeps
// data and never modifies it.
func Load(data []byte) (*Index, error) {
	f, err := frame.Decode(data, Magic, Version)
	if err != nil {
		return nil, fmt.Errorf("hashindex: %w", err)
	}
	body := f.Body
	if len(body) < TrailerLen || (len(body)-TrailerLen)%EntryLen != 0 {
		return nil, corruptf("body of %d bytes is not 8*L + %d", len(body), TrailerLen)
	}
	t, zero := decodeTrailer(body[len(body)-TrailerLen:])
	if t.hash != HashXXH3 || t.layout != LayoutEntry8 || (t.shift != 0 && t.shift != GroupShift) {
		return nil, fmt.Errorf("hashindex: hash function %d, entry layout %d, address shift %d: this build reads 1, 1, 0 or 4: %w", t.hash, t.layout, t.shift, ErrVersion)
	}
	l := uint64(len(body)-TrailerLen) / EntryLen
	switch {
	case !zero:
		return nil, corruptf("reserved trailer bytes are not zero")
	case t.l != l:
		return nil, corruptf("trailer says %d slots, the body holds %d", t.l, l)
	case t.m == 0 || t.m > t.l:
		return nil, corruptf("trailer says %d home slots for %d slots", t.m, t.l)
	case t.keys != f.Footer.Count || t.keys > t.l:
		return nil, corruptf("trailer says %d keys, footer %d, slots %d", t.keys, f.Footer.Count, t.l)
	}
	return &Index{file: f, table: body[:len(body)-TrailerLen], t: t}, nil
}

// Len returns the number of keys indexed.
func (x *Index) Len() uint64 { return x.t.keys }

// Seed returns the hash seed.
func (x *Index) Seed() uint64 { return x.t.seed }

// Shift returns the address shift: 0 when an entry addresses one keyed
// record, GroupShift when it addresses a group of a compressed keyed log
// (Probe then returns the group's address, index 0, and the caller looks
// for the key among the group's records).
func (x *Index) Shift() uint8 { return x.t.shift }

// Slots returns the table's number of slots (L).
func (x *Index) Slots() uint64 { return x.t.l }

// MaxDisplacement returns the largest displacement recorded (255 means 255
// or more).
func (x *Index) MaxDisplacement() int { return int(x.t.maxDisp) }

// Footer returns the decoded frame footer.
func (x *Index) Footer() Footer { return x.file.Footer }

// Hash returns the hash of key under this index's seed.
func (x *Index) Hash(key []byte) uint64 { return Hash(key, x.t.seed) }

// Home returns the home slot of hash h.
func (x *Index) Home(h uint64) uint64 { return home(h, x.t.m) }

// Entry returns the raw entry in slot i, or 0 past the table's end.
func (x *Index) Entry(i uint64) uint64 {
	if i >= x.t.l {
		return 0
	}
	return binary.LittleEndian.Uint64(x.table[i*EntryLen:])
}

// Prefetch starts loading the table slots where the lookup of hash h
// begins (its home slot's cache line, and the next line when the home
// is among the last slots of its line), without waiting for them; see
// internal/prefetch. It reads nothing and never fails.
func (x *Index) Prefetch(h uint64) {
	hm := home(h, x.t.m)
	prefetch.At(x.table, hm*EntryLen)
	prefetch.At(x.table, (hm+3)*EntryLen)
}

// Probe is an allocation-free walk over the candidate entries of one hash:
// the entries of its cluster whose fingerprint matches. Create it with
// Index.Probe and call Next until it reports false.
type Probe struct {
	x     *Index
	i     uint64 // next slot
	home  uint64
	limit uint64 // one past the last slot that may hold the key
	fp    uint64
}

// Probe starts the lookup of hash h.
func (x *Index) Probe(h uint64) Probe {
	hm := home(h, x.t.m)
	limit := x.t.l
	if x.t.maxDisp < maxDisp {
		limit = min(limit, hm+uint64(x.t.maxDisp)+1)
	}
	return Probe{x: x, i: hm, home: hm, limit: limit, fp: h & 0xffff}
}

// Next returns the address of the next candidate record, whose key the
// caller must compare (with Shift GroupShift: the address of the candidate
// group, index bits 0, among whose records the caller looks for the key).
// ok is false when no slot can hold the key any more.
// On a damaged table Next may return wrong candidates (the key comparison
// rejects them) but never reads outside the table, and it stops after at
// most L slots.
func (p *Probe) Next() (addr uint64, ok bool) {
	tb := p.x.table
	for p.i < p.limit {
		i := p.i
		p.i++
		e := binary.LittleEndian.Uint64(tb[i*EntryLen:])
		if e == 0 {
			break
		}
		if d := (e >> 16) & 0xff; d < maxDisp && i-d > p.home {
			break
		}
		if e&0xffff == p.fp {
			return (e >> 24) << p.x.t.shift, true
		}
	}
	p.i = p.limit
	return 0, false
}

// Verify reads the whole index: the body checksum, then every slot. Each
// entry's key (from keyAt, which reads the record at an address) must hash
// to the entry's fingerprint and to a home consistent with its slot and
// displacement; homes must not decrease along the table; and the number of
// entries must equal the key count. Errors wrap ErrCorrupt. An index whose
// entries address groups (Shift GroupShift) needs VerifyGroups.
func (x *Index) Verify(keyAt func(addr uint64) ([]byte, error)) error {
	if x.t.shift != 0 {
		if err := x.file.VerifyBody(); err != nil {
			return fmt.Errorf("hashindex: %w", err)
		}
		return fmt.Errorf("%w (shift %d)", ErrGroups, x.t.shift)
	}
	var one [1][]byte
	return x.VerifyGroups(func(addr uint64) ([][]byte, error) {
		k, err := keyAt(addr)
		one[0] = k
		return one[:], err
	})
}

// VerifyGroups is Verify for either shift: keysAt returns the keys stored
// at an entry's address, one for shift 0, every key of the group for
// GroupShift, and one of them must fit the entry as Verify describes.
// (That every key of the dictionary has an entry is the caller's check:
// reader.Dict.Verify probes the index with each key of the FST.)
func (x *Index) VerifyGroups(keysAt func(addr uint64) ([][]byte, error)) error {
	if err := x.file.VerifyBody(); err != nil {
		return fmt.Errorf("hashindex: %w", err)
	}
	var n, prevHome, maxD uint64
	for i := range x.t.l {
		e := x.Entry(i)
		if e == 0 {
			continue
		}
		n++
		addr := (e >> 24) << x.t.shift
		keys, err := keysAt(addr)
		if err != nil {
			return fmt.Errorf("hashindex: slot %d: %w", i, err)
		}
		key := fitting(x, keys, e, i)
		h := x.Hash(key)
		hm := x.Home(h)
		d := (e >> 16) & 0xff
		switch {
		case e&0xffff != h&0xffff:
			return corruptf("slot %d: fingerprint %04x, the key at %d hashes to %04x", i, e&0xffff, addr, h&0xffff)
		case hm > i || (d < maxDisp && i-hm != d) || (d == maxDisp && i-hm < maxDisp):
			return corruptf("slot %d: displacement %d, the key at %d has home %d", i, d, addr, hm)
		case hm < prevHome:
			return corruptf("slot %d: home %d is before the previous entry's %d", i, hm, prevHome)
		}
		if i > hm && x.Entry(i-1) == 0 {
			return corruptf("slot %d: an empty slot lies between the entry and its home %d", i, hm)
		}
		prevHome, maxD = hm, max(maxD, i-hm)
	}
	if n != x.t.keys {
		return corruptf("table holds %d entries, the trailer says %d", n, x.t.keys)
	}
	if min(maxD, maxDisp) != uint64(x.t.maxDisp) {
		return corruptf("largest displacement is %d, the trailer says %d", maxD, x.t.maxDisp)
	}
	return nil
}

// fitting returns the key among keys that fits entry e in slot i: its
// fingerprint matches and its home is consistent with the displacement.
// Without one it returns the first key (nil if none), which the caller's
// checks then reject with the reason.
func fitting(x *Index, keys [][]byte, e, i uint64) []byte {
	if len(keys) == 1 {
		return keys[0]
	}
	d := (e >> 16) & 0xff
	for _, k := range keys {
		h := x.Hash(k)
		hm := x.Home(h)
		if e&0xffff == h&0xffff && hm <= i && (d == maxDisp && i-hm >= maxDisp || d < maxDisp && i-hm == d) {
			return k
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return keys[0]
}
