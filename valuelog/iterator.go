package valuelog

import (
	"fmt"
	"iter"

	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/zrec"
)

// Iterator walks the records of a Log in file order. Create one with
// Log.Iter. It is single-use and not safe for concurrent use; many
// iterators may walk one Log at once.
//
//	it := l.Iter()
//	for it.Next() {
//		use(it.Offset(), it.Value())
//	}
//	if err := it.Err(); err != nil { ... }
type Iterator struct {
	l    *Log
	next uint64 // offset of the next record
	off  uint64
	key  []byte // keyed logs only
	val  []byte
	n    uint64 // records decoded so far
	err  error
	done bool
	// seeked disables the record count check (Seek started mid-log).
	seeked bool
	// Compressed logs: the decoded payload of the current group, the
	// position of the next record in it, the group's offset and the index
	// of the next record; ref holds a referenced group.
	zbuf, zref []byte
	zalt       []byte // the previous group's buffer (see Key)
	zpos       int
	zgoff      uint64
	zidx       int
	zskip      int // records of the first group to skip after a Seek
}

// Iter returns an iterator over every record, from the first. It does not
// check the body checksum (see Verify), but checks each record's bounds and,
// at the end, the record count.
func (l *Log) Iter() *Iterator {
	if l.z != nil {
		return &Iterator{l: l, next: l.z.first}
	}
	return &Iterator{l: l, next: frame.HeaderLen}
}

// Next advances to the next record and reports whether there is one. It
// returns false at the end of the log or on an error; check Err.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	l := it.l
	if l.z != nil {
		return it.nextZ()
	}
	if it.next >= uint64(l.end) {
		it.done, it.key, it.val = true, nil, nil
		if !it.seeked && it.n != l.Len() {
			it.err = fmt.Errorf("valuelog: body holds %d records, footer says %d: %w", it.n, l.Len(), ErrCorrupt)
		}
		return false
	}
	var (
		k, v []byte
		next uint64
		err  error
	)
	if l.keyed {
		var ref uint64
		k, v, ref, next, err = decodeKeyed(l.data, l.end, it.next)
		if err == nil && ref != 0 {
			v, err = resolveRef(l.data, l.end, it.next, ref)
		}
	} else {
		v, next, err = decodeRecord(l.data, l.end, it.next)
	}
	if err == nil && !it.seeked && it.n >= l.Len() {
		err = fmt.Errorf("valuelog: record at offset %d is past the %d records the footer counts: %w", it.next, l.Len(), ErrCorrupt)
	}
	if err != nil {
		it.done, it.err, it.key, it.val = true, err, nil, nil
		return false
	}
	it.off, it.key, it.val, it.next = it.next, k, v, next
	it.n++
	return true
}

// Offset returns the file offset of the current record (in a compressed
// log: its address, group offset << AddrShift | index).
func (it *Iterator) Offset() uint64 { return it.off }

// Key returns the key of the current record in a keyed log (nil in a
// value-only log). It aliases the loaded bytes (in a compressed log: the
// iterator's buffers; the key stays valid until the second call to Next
// after this one, so a caller may compare it with the next key).
func (it *Iterator) Key() []byte { return it.key }

// Seek makes the next call to Next decode the record at off, which must be
// a record start (such as an offset the FST returned), and count it as the
// first record (so the end-of-log count check is skipped). It lets a
// keyed log be read sequentially from any key on.
func (it *Iterator) Seek(off uint64) {
	it.next, it.done, it.err, it.seeked = off, false, nil, true
	if it.l.z != nil {
		it.next, it.zskip = off>>AddrShift, int(off&(1<<AddrShift-1))
		it.zbuf, it.zpos = it.zbuf[:0], 0
	}
}

// Value returns the value of the current record. It aliases the loaded
// bytes (see the caveats on Log).
func (it *Iterator) Value() []byte { return it.val }

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Close ends the iteration early. It returns Err; calling it more than
// once, or after the end, is fine. (An Iterator holds no resources beyond
// the Log's mapping; Close exists so that every kvdict iterator has the
// same contract: Next, Err, Close returning Err, All closing.)
func (it *Iterator) Close() error {
	it.done, it.key, it.val = true, nil, nil
	return it.err
}

// All returns a single-use iterator over (offset, value) of the remaining
// records; the Iterator is closed when the loop ends or breaks. It stops
// early on corruption; check Err afterwards.
func (it *Iterator) All() iter.Seq2[uint64, []byte] {
	return func(yield func(uint64, []byte) bool) {
		defer it.Close()
		for it.Next() {
			if !yield(it.off, it.val) {
				return
			}
		}
	}
}

// All returns an iterator over (offset, value) of every record in file
// order. Corruption ends the iteration silently; use Verify first, or
// Iter and Iterator.Err, when that matters.
func (l *Log) All() iter.Seq2[uint64, []byte] {
	return l.Iter().All()
}

// nextZ is Next for a compressed log: it decodes the next group when the
// current one is used up, then the next record of it.
func (it *Iterator) nextZ() bool {
	l, z := it.l, it.l.z
	for it.zpos >= len(it.zbuf) {
		if it.next >= uint64(z.end) {
			it.done, it.key, it.val = true, nil, nil
			if !it.seeked && it.n != l.Len() {
				it.err = fmt.Errorf("valuelog: body holds %d records, footer says %d: %w", it.n, l.Len(), ErrCorrupt)
			}
			return false
		}
		goff := it.next
		// Decode into the other buffer, so that the previous record's key
		// and value stay valid while this group is read (a scan compares
		// each key with the previous one).
		it.zbuf, it.zalt = it.zalt, it.zbuf
		payload, _, err := z.group(l.data, it.zbuf[:0], goff<<AddrShift)
		if err == nil && len(payload) == 0 {
			err = corruptf(goff, "empty group")
		}
		if err != nil {
			return it.fail(err)
		}
		stored, _ := z.dec.GroupLen(l.data[goff:z.end])
		it.zbuf, it.zpos, it.zgoff, it.zidx, it.next = payload, 0, goff, 0, goff+uint64(stored)
		for ; it.zskip > 0; it.zskip-- {
			if l.keyed {
				_, _, _, it.zpos, err = nextKeyed(it.zbuf, it.zpos, goff<<AddrShift|uint64(it.zidx))
			} else {
				_, it.zpos, err = nextValue(it.zbuf, it.zpos, goff<<AddrShift|uint64(it.zidx))
			}
			if err != nil {
				return it.fail(err)
			}
			it.zidx++
		}
	}
	if it.zidx >= 1<<AddrShift {
		return it.fail(corruptf(it.zgoff, "group holds more than %d records", 1<<AddrShift))
	}
	addr := it.zgoff<<AddrShift | uint64(it.zidx)
	var (
		k, v []byte
		dist uint64
		next int
		err  error
	)
	if l.keyed {
		k, v, dist, next, err = nextKeyed(it.zbuf, it.zpos, addr)
	} else {
		v, next, err = nextValue(it.zbuf, it.zpos, addr)
	}
	if err == nil && dist != 0 {
		it.zref, v, err = l.resolveZ(it.zref[:0], addr, dist)
	}
	if err == nil && !it.seeked && it.n >= l.Len() {
		err = fmt.Errorf("valuelog: record at address %d is past the %d records the footer counts: %w", addr, l.Len(), ErrCorrupt)
	}
	if err != nil {
		return it.fail(err)
	}
	it.off, it.key, it.val, it.zpos = addr, k, v, next
	it.zidx++
	it.n++
	return true
}

// fail ends the iteration with err.
func (it *Iterator) fail(err error) bool {
	it.done, it.err, it.key, it.val = true, err, nil, nil
	return false
}

// nextValue decodes the value record at position p of a value-only group
// payload and returns the value and the position of the next record.
func nextValue(payload []byte, p int, addr uint64) (val []byte, next int, err error) {
	if p >= len(payload) {
		return nil, 0, corruptf(addr, "record index past the group's last record")
	}
	v, rest, err := zrec.NextRecord(payload[p:])
	if err != nil {
		return nil, 0, fmt.Errorf("valuelog: record at address %d: %w", addr, err)
	}
	return v, len(payload) - len(rest), nil
}
