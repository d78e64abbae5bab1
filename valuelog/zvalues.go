package valuelog

import (
	"encoding/binary"
	"fmt"

	"github.com/kvdict/kvdict/internal/zrec"
)

// Compressed value-only logs (version 1, codec 1 = CodecZstd in the header
// flags; manifest feature "zstd-values"). The FST path's log: distinct
// values only, no keys, packed into zrec groups. The body has the layout of
// a compressed keyed log (zstd.go: flags, dictionary, groups, max-payload
// trailer); only the payload differs. A group's payload is its value
// records back to back, each
//
//	 0:k     value length n, uvarint (1 <= k <= 10)
//	 k:k+n   value bytes
//
// (zrec.AppendRecord's framing, so a group is 1 to 16 values). A value's
// address, which the FST stores for every key that has it, is its group's
// absolute file offset << AddrShift | its index in the group. Identical
// values share one record (the writer's bounded dedup cache), as in a raw
// value-only log; there are no references. The footer's count is the
// number of records (distinct values written), not the number of keys.
//
// Worked example (testdata/golden-v1-zstd.vlog, pinned by TestZstdValues_Golden):
// the values "a", "" and "a" again, no dictionary, with checksums; the group
// is too small to shrink and is stored raw:
//
//	off  0: 6b 76 64 56 4c 4f 47 00 01 00 00 00 01 00 00 00   header, version 1, codec 1
//	off 16: 01 00                                             flags: checksums; no dictionary
//	off 18: 07                                                group: n = 3, raw
//	off 19: 01 61  00                                         "a" (address 18<<4|0 = 0x120),
//	                                                          "" (0x121); the second "a" is 0x120
//	off 22: 75 8c 1b 56                                       CRC-32C of the 3 payload bytes
//	off 26: 03 00 00 00 00 00 00 00                           max payload 3
//	off 34: 02 00 00 00 00 00 00 00  12 00 00 00 00 00 00 00   count 2, body length 18
//	        ff ee c7 22  b8 ee 52 7a  6b 76 64 56 4c 4f 47 00   body CRC, footer CRC, magic
//
// A lookup decodes one group (about 150 ns + 2 ns per payload byte on a
// quiet machine, several times that on a loaded one) and copies the value
// out: Value allocates the value, AppendValue appends it to the caller's
// buffer without allocating, and a Cursor (scans) decodes each group once.
// Point lookups share a small cache of decoded groups (zcache.go), so that
// groups read again and again (few distinct values for many keys) are
// decoded once; admitting a group allocates it.

// writeValueZ adds value to the open group of a compressed value-only log
// (closing the group first if full) and returns its address. Append does
// the deduplication around it.
func (w *Writer) writeValueZ(value []byte) (uint64, error) {
	z := w.z
	addr, err := w.reserveZ(uvarintLen(uint64(len(value))) + len(value))
	if err != nil {
		return 0, err
	}
	z.payload = zrec.AppendRecord(z.payload, value)
	z.n++
	return addr, nil
}

// appendValueAt appends to dst the value at address addr of a compressed
// value-only log. It does not allocate when dst has room for the value and
// the group's payload is at most 64 KiB.
func (l *Log) appendValueAt(dst []byte, addr uint64) ([]byte, error) {
	z := l.z
	goff := addr >> AddrShift
	if goff < z.first || goff >= uint64(z.end) {
		return dst, corruptf(addr, "group offset %d outside [%d, %d)", goff, z.first, z.end)
	}
	if g, admit := z.cache.lookup(goff); g != nil {
		v, err := g.value(addr)
		return append(dst, v...), err
	} else if admit {
		g := new(decodedGroup)
		if err := g.load(l, goff, nil); err != nil {
			return dst, err
		}
		z.cache.add(g)
		v, err := g.value(addr)
		return append(dst, v...), err
	}
	out, err := z.dec.AppendRecord(dst, l.data[goff:z.end], int(addr&(1<<AddrShift-1)))
	if err != nil {
		return dst, fmt.Errorf("valuelog: group at offset %d: %w", goff, err)
	}
	return out, nil
}

// Cursor reads values by address for a caller that visits many addresses
// close together, as a scan in key order does: it keeps the last
// cursorGroups groups it decoded (direct-mapped by offset), so that each
// group is decoded about once rather than once per key, even when keys
// share values written far apart. It is not safe for concurrent use;
// create one per goroutine with Log.Cursor. On a log that is not
// compressed it is Value.
type Cursor struct {
	l     *Log
	slots [cursorGroups]decodedGroup
	slab  []byte // payloads are decoded back to back into it
}

// cursorSlab is the size of a Cursor's payload slabs: one allocation per
// ~64 groups of 1 KiB rather than one per group.
const cursorSlab = 64 << 10

// cursorGroups is how many decoded groups a Cursor keeps (about 1 KiB
// each by default).
const cursorGroups = 16

// decodedGroup is one decoded group of a compressed value-only log, kept
// by a Cursor or by the log's groupCache.
type decodedGroup struct {
	goff    uint64   // file offset of the decoded group, 0 = none
	payload []byte   // its payload
	recs    []uint32 // start of each record in payload, then its end (in recsBuf)
	recsBuf [1<<AddrShift + 1]uint32
}

// Cursor returns a Cursor over l.
func (l *Log) Cursor() *Cursor { return &Cursor{l: l} }

// Value returns the value at off, as Log.Value does. In a compressed log
// the slice aliases memory the Cursor allocates for the groups it decodes
// (64 KiB slabs) and never reuses: it stays valid (and unchanged) as long
// as the caller keeps it, after the Log is closed too.
func (c *Cursor) Value(off uint64) ([]byte, error) {
	l := c.l
	if l.z == nil || l.keyed {
		return l.Value(off)
	}
	goff := off >> AddrShift
	g := &c.slots[(goff^goff>>5^goff>>11)%cursorGroups]
	if goff != g.goff || g.goff == 0 {
		if err := g.load(c.l, goff, &c.slab); err != nil {
			return nil, err
		}
	}
	return g.value(off)
}

// value returns the value at address off, which must be in g's group.
func (g *decodedGroup) value(off uint64) ([]byte, error) {
	i := int(off & (1<<AddrShift - 1))
	if i >= len(g.recs)-1 {
		return nil, corruptf(off, "record index %d beyond the group's %d records", i, len(g.recs)-1)
	}
	p := g.payload[g.recs[i]:g.recs[i+1]]
	_, k := binary.Uvarint(p)
	return p[k:len(p):len(p)], nil
}

// load decodes the group at goff and indexes its records. The payload goes
// into the spare capacity of *slab when it fits there (and *slab grows over
// it), else into a fresh buffer: either way memory no other group uses, so
// values handed out earlier stay valid. slab may be nil.
func (c *decodedGroup) load(l *Log, goff uint64, slab *[]byte) error {
	z := l.z
	c.goff, c.payload, c.recs = 0, nil, c.recsBuf[:0]
	if goff < z.first || goff >= uint64(z.end) {
		return corruptf(goff<<AddrShift, "group offset %d outside [%d, %d)", goff, z.first, z.end)
	}
	src := l.data[goff:z.end]
	n, err := z.dec.GroupLen(src)
	if err != nil {
		return fmt.Errorf("valuelog: group at offset %d: %w", goff, err)
	}
	var dst []byte
	if slab != nil {
		if cap(*slab)-len(*slab) < min(z.maxPayload, cursorSlab/4) {
			*slab = make([]byte, 0, cursorSlab)
		}
		dst = (*slab)[len(*slab):len(*slab)]
	}
	payload, _, err := z.dec.AppendPayload(dst, src[:n])
	if err != nil {
		return fmt.Errorf("valuelog: group at offset %d: %w", goff, err)
	}
	if slab != nil && len(payload) > 0 && cap(dst) >= len(payload) {
		*slab = (*slab)[:len(*slab)+len(payload)] // decoded in place
	}
	recs, err := indexRecords(c.recs, payload, goff)
	if err != nil {
		return err
	}
	c.goff, c.payload, c.recs = goff, payload, recs
	return nil
}

// indexRecords appends to recs the start of every value record of a
// group's payload and then the payload's end. A group holds 1 to
// 1<<AddrShift records that fill its payload exactly.
func indexRecords(recs []uint32, payload []byte, goff uint64) ([]uint32, error) {
	p := 0
	for p < len(payload) {
		if len(recs) == 1<<AddrShift {
			return recs, corruptf(goff<<AddrShift, "group holds more than %d records", 1<<AddrShift)
		}
		recs = append(recs, uint32(p))
		_, rest, err := zrec.NextRecord(payload[p:])
		if err != nil {
			return recs, fmt.Errorf("valuelog: group at offset %d: %w", goff, err)
		}
		p = len(payload) - len(rest)
	}
	if len(recs) == 0 {
		return recs, corruptf(goff<<AddrShift, "empty group")
	}
	return append(recs, uint32(p)), nil
}
