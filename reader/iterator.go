package reader

import (
	"bytes"
	"fmt"
	"iter"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/valuelog"
)

// Iterator walks keys and their values in increasing key order, across the
// dictionary's partitions. It has the bufio.Scanner shape:
//
//	for it.Next() { use(it.Key(), it.Value()) }
//	if err := it.Err(); err != nil { ... }
//
// An Iterator is single-use and not safe for concurrent use. Key and Value
// alias the mapped file: Key is valid until the next call to Next, Value
// until the Dict is closed.
type Iterator struct {
	d     *Dict
	parts []*part // partitions still to visit
	open  func(*part) (*fst.Iterator, error)
	cur   *fst.Iterator
	p     *part // partition of cur
	key   []byte
	off   uint64
	valid bool // key and off hold a current item

	// Sequential mode (Range, All and Prefix over keyed records): the
	// value log is read in file order, which is key order, and the FST
	// only finds where to start.
	isRange  bool
	from, to []byte
	seq      *valuelog.Iterator // non-nil while reading a partition sequentially
	vc       *valuelog.Cursor   // reads values of vcPart, decoding each group once
	vcPart   *part
	val      []byte // the current value in sequential mode
	prev     []byte // the previous key in sequential mode
	err      error
	done     bool
}

func (d *Dict) newIterator(from, to []byte, open func(p *part) (*fst.Iterator, error)) *Iterator {
	it := &Iterator{d: d, open: open}
	if d.closed.Load() {
		it.err, it.done = ErrClosed, true
		return it
	}
	for i := range d.parts {
		p := &d.parts[i]
		if to != nil && bytes.Compare(p.first, to) >= 0 {
			break
		}
		if from != nil && bytes.Compare(p.last, from) < 0 {
			continue
		}
		it.parts = append(it.parts, p)
	}
	return it
}

// All returns an iterator over every key and value.
func (d *Dict) All() *Iterator { return d.Range(nil, nil) }

// Range returns an iterator over the keys k with from <= k < to. A nil from
// starts at the first key; a nil to runs to the last.
//
// On a dictionary with keyed records (kvbuild --hash-index) the iterator
// reads each partition's value log sequentially, keys and values together,
// after one FST lookup to find the first key: a scan runs at memory speed.
func (d *Dict) Range(from, to []byte) *Iterator {
	it := d.newIterator(from, to, func(p *part) (*fst.Iterator, error) {
		return p.fst.Range(from, to), nil
	})
	it.isRange, it.from, it.to = true, from, to
	return it
}

// startSeq positions a sequential read of p's keyed value log at the first
// key >= it.from. It reports false when the partition holds no such key.
func (it *Iterator) startSeq(p *part) (bool, error) {
	seq := p.log.Iter()
	if it.from != nil && bytes.Compare(it.from, p.first) > 0 {
		fi := p.fst.Range(it.from, it.to)
		ok := fi.Next()
		off := fi.Value()
		err := fi.Err()
		fi.Close()
		if err != nil || !ok {
			return false, err
		}
		seq.Seek(off)
	}
	it.seq, it.prev = seq, nil
	return true, nil
}

// nextSeq advances the sequential read of it.p. It checks that keys
// increase and stay inside the partition, so a damaged log ends the scan
// with ErrCorrupt instead of yielding keys out of order.
func (it *Iterator) nextSeq() bool {
	if it.d.closed.Load() {
		it.fail(it.p.logName, ErrClosed)
		return false
	}
	if !it.seq.Next() {
		if err := it.seq.Err(); err != nil {
			it.fail(it.p.logName, err)
		}
		it.seq = nil
		return false
	}
	k := it.seq.Key()
	if it.to != nil && bytes.Compare(k, it.to) >= 0 {
		it.seq = nil
		return false
	}
	if (it.prev != nil && bytes.Compare(it.prev, k) >= 0) || bytes.Compare(k, it.p.last) > 0 {
		it.fail(it.p.logName, fmt.Errorf("%w: key %q at offset %d is out of order", ErrCorrupt, k, it.seq.Offset()))
		return false
	}
	it.prev = k
	it.key, it.off, it.val, it.valid = k, it.seq.Offset(), it.seq.Value(), true
	return true
}

// Prefix returns an iterator over the keys that start with prefix.
func (d *Dict) Prefix(prefix []byte) *Iterator {
	return d.Range(prefix, fst.PrefixEnd(prefix))
}

// Regex returns an iterator over the keys that match expr as a whole (the
// match is anchored at both ends). The syntax is Go's regexp/syntax less
// anchors, word boundaries and lazy quantifiers, compiled to an automaton
// of at most 10,000 states; an invalid or too complex expression is an
// error here.
func (d *Dict) Regex(expr string) (*Iterator, error) {
	if err := d.checkQuery(func(f *fst.FST) (*fst.Iterator, error) { return f.Regex(expr) }); err != nil {
		return nil, err
	}
	return d.newIterator(nil, nil, func(p *part) (*fst.Iterator, error) {
		return p.fst.Regex(expr)
	}), nil
}

// Fuzzy returns an iterator over the keys within Levenshtein distance
// distance (0 to 2, counted in Unicode code points) of term.
func (d *Dict) Fuzzy(term string, distance int) (*Iterator, error) {
	if err := d.checkQuery(func(f *fst.FST) (*fst.Iterator, error) { return f.Fuzzy(term, distance) }); err != nil {
		return nil, err
	}
	return d.newIterator(nil, nil, func(p *part) (*fst.Iterator, error) {
		return p.fst.Fuzzy(term, distance)
	}), nil
}

// checkQuery compiles a query once against the first partition so that
// syntax errors surface from the constructor even for a dictionary with
// many partitions.
func (d *Dict) checkQuery(q func(*fst.FST) (*fst.Iterator, error)) error {
	if d.closed.Load() {
		return ErrClosed
	}
	if len(d.parts) == 0 {
		return nil
	}
	it, err := q(d.parts[0].fst)
	if err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	return it.Close()
}

// Next advances to the next key and reports whether there is one. After
// Next returns false, Err reports any error met.
func (it *Iterator) Next() bool {
	for !it.done {
		if it.seq != nil {
			if it.nextSeq() {
				return true
			}
			continue
		}
		if it.cur == nil {
			if len(it.parts) == 0 || it.d.closed.Load() {
				if it.d.closed.Load() {
					it.err = ErrClosed
				}
				it.done = true
				break
			}
			it.p, it.parts = it.parts[0], it.parts[1:]
			if it.isRange && it.p.log.Keyed() {
				if _, err := it.startSeq(it.p); err != nil {
					it.fail(it.p.fstName, err)
				}
				continue
			}
			cur, err := it.open(it.p)
			if err != nil {
				it.fail(it.p.fstName, err)
				break
			}
			it.cur = cur
		}
		if it.cur.Next() {
			it.key, it.off, it.valid = it.cur.Key(), it.cur.Value(), true
			return true
		}
		if err := it.cur.Err(); err != nil {
			it.fail(it.p.fstName, err)
			break
		}
		it.cur.Close()
		it.cur = nil
	}
	it.key, it.valid = nil, false
	return false
}

func (it *Iterator) fail(file string, err error) {
	it.err = fmt.Errorf("reader: %s: %w", file, err)
	it.done, it.valid, it.seq = true, false, nil
	if it.cur != nil {
		it.cur.Close()
		it.cur = nil
	}
}

// Key returns the current key. It is valid until the next call to Next.
func (it *Iterator) Key() []byte { return it.key }

// Value returns the current key's value, read from the value log only when
// asked for (key-only scans never touch the values). It aliases the mapped
// file; in a compressed dictionary (features zstd-values, zstd-records) it
// aliases a buffer decoded for its group, which is never reused and stays
// valid as long as it is kept (each group is decoded once per scan). An empty value is a non-nil empty slice: nil means the value could
// not be read, and then the iteration is over — the next Next returns
// false and Err and Close report why. All handles this for you.
func (it *Iterator) Value() []byte {
	if !it.valid {
		return nil
	}
	v := it.val // a sequential scan of a keyed log has read it already
	if !it.isRange || !it.p.log.Keyed() {
		if it.vcPart != it.p {
			it.vc, it.vcPart = it.p.log.Cursor(), it.p
		}
		var err error
		if v, err = it.vc.Value(it.off); err != nil {
			it.fail(it.p.logName, err)
			return nil
		}
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

// Err returns the first error met, or nil at a clean end.
func (it *Iterator) Err() error { return it.err }

// Close ends the iteration early and releases the iterator. It returns
// Err, so `defer it.Close()` loses nothing when Err is checked, and a
// caller that only closes still sees a failure. It is safe to call more
// than once, and after the end.
func (it *Iterator) Close() error {
	it.done, it.valid, it.seq = true, false, nil
	if it.cur != nil {
		it.cur.Close()
		it.cur = nil
	}
	it.parts = nil
	return it.err
}

// All returns the remaining pairs as a Go range-over-func sequence. It is
// single-use: ranging over it consumes the iterator, and the iterator is
// closed when the loop ends, breaks or a value cannot be read. Errors are
// not yielded: check Err after the loop.
func (it *Iterator) All() iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		defer it.Close()
		for it.Next() {
			v := it.Value()
			if v == nil { // unreadable: Err says why
				return
			}
			if !yield(it.key, v) {
				return
			}
		}
	}
}
