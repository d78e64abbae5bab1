package delta

import (
	"bytes"
	"errors"
	"sync/atomic"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/reader"
)

// Base is a dictionary entering a builder.Sorter's merge as a sorted input
// (Sorter.AddSorted), without the keys of a Deletes set. Its records are
// already reduced under the policy the dictionary was built with, so
// under builder.Count its values are counts to add to, not occurrences
// (Reduced).
type Base struct {
	d       *reader.Dict
	del     *Deletes
	deleted atomic.Int64
}

var (
	_ builder.SortedInput   = (*Base)(nil)
	_ builder.SortedSampler = (*Base)(nil)
	_ builder.SortedReduced = (*Base)(nil)
)

// NewBase returns d, less the keys in del (nil: none), as a sorted input.
// d and del must stay open until the Sorter's merge is done.
func NewBase(d *reader.Dict, del *Deletes) *Base { return &Base{d: d, del: del} }

// Range returns the base's records with lo <= key < hi, deleted keys
// skipped: one merge-join of the base's and the delete set's iterators.
func (b *Base) Range(lo, hi []byte) builder.SortedIterator {
	it := &baseIter{b: b, base: b.d.Range(lo, hi)}
	if b.del != nil {
		it.del = b.del.d.Range(lo, hi)
		it.delOK = it.del.Next()
	}
	return it
}

// Reduced reports that the base's records are reduced under the policy
// (builder.SortedReduced).
func (b *Base) Reduced() bool { return true }

// Sample returns the first keys of the base's partitions but the first,
// which cut it into parts of known sizes, and its number of keys; the
// Sorter weighs them in its choice of partition boundaries.
func (b *Base) Sample(n int) ([][]byte, int64) {
	ps := b.d.Manifest().Partitions
	var keys [][]byte
	for i := 1; i < len(ps) && len(keys) < n; i++ {
		keys = append(keys, ps[i].FirstKey)
	}
	return keys, int64(b.d.Len())
}

// Deleted returns how many of the base's keys were dropped because they
// are in the delete set, once the merge is done.
func (b *Base) Deleted() int64 { return b.deleted.Load() }

// Missed returns how many keys of the delete set were not in the base,
// once the merge is done.
func (b *Base) Missed() int64 {
	if b.del == nil {
		return 0
	}
	return int64(b.del.Len()) - b.deleted.Load()
}

// baseIter walks the base's range and the delete set's in step.
type baseIter struct {
	b       *Base
	base    *reader.Iterator
	del     *reader.Iterator // nil without deletions
	delOK   bool             // del is on a key
	deleted int64
	closed  bool
}

func (it *baseIter) Next() bool {
	for it.base.Next() {
		k := it.base.Key()
		for it.delOK && bytes.Compare(it.del.Key(), k) < 0 {
			it.delOK = it.del.Next()
		}
		if it.delOK && bytes.Equal(it.del.Key(), k) {
			it.deleted++
			it.delOK = it.del.Next()
			continue
		}
		return true
	}
	return false
}

func (it *baseIter) Key() []byte   { return it.base.Key() }
func (it *baseIter) Value() []byte { return it.base.Value() }

func (it *baseIter) Err() error {
	var derr error
	if it.del != nil {
		derr = it.del.Err()
	}
	return errors.Join(it.base.Err(), derr)
}

func (it *baseIter) Close() error {
	if it.closed {
		return nil
	}
	it.closed = true
	it.b.deleted.Add(it.deleted)
	var derr error
	if it.del != nil {
		derr = it.del.Close()
	}
	return errors.Join(it.base.Close(), derr)
}
