package fst

import (
	"bytes"
	"errors"
	"iter"
	"math/bits"

	"github.com/blevesearch/vellum"
)

// Iterator walks keys of an [FST] in increasing order. It has the shape of
// bufio.Scanner:
//
//	it := f.Range(from, to)
//	defer it.Close()
//	for it.Next() {
//		use(it.Key(), it.Value())
//	}
//	if err := it.Err(); err != nil { ... }
//
// An Iterator is single-use (it cannot be rewound) and belongs to one
// goroutine; any number of them may run on one FST concurrently.
//
// # Aliasing
//
// The slice returned by Key belongs to the iterator and is overwritten by
// the next call to Next: copy it (bytes.Clone) to keep it. Do not modify
// it.
//
// # Damaged files
//
// vellum trusts its data. On a damaged file the iterator stops, and Err
// returns an error wrapping [ErrCorrupt], when vellum panics or reports a
// bad address, when a key is longer than [MaxKeyLen], when it yields more
// keys than the FST holds, or when it has examined more transitions than
// any undamaged FST of its key count could hold: Len × min(body size,
// MaxKeyLen). Every transition leads to a lower address, so a walk cannot
// cycle; the bound guards against damage that makes the number of paths
// explode. It is proportional to the key count the footer claims, so a
// damaged large file may still take long to fail: run [FST.Verify], which
// checks the CRC first, before trusting a file.
type Iterator struct {
	f        *FST
	from, to []byte
	g        guard
	vit      *vellum.FSTIterator
	started  bool
	done     bool
	key      []byte
	val      uint64
	n        uint64 // keys yielded
	err      error
}

// newIterator returns an iterator over [from, to) restricted to the keys
// aut matches (nil: all). Nothing runs until the first Next.
func newIterator(f *FST, from, to []byte, aut vellum.Automaton) *Iterator {
	it := &Iterator{f: f, from: from, to: to}
	it.g = guard{inner: aut, budget: workBudget(f, len(from))}
	if to != nil && bytes.Compare(from, to) >= 0 {
		it.done = true // empty range; vellum would yield to itself
	}
	return it
}

// workBudget bounds the number of transitions an iterator may examine. In
// an undamaged FST, a walk examines each edge of the trie of its keys at
// most once, and there are at most Len × (longest key) of them; the
// longest key is at most MaxKeyLen, and at most the body size (each state
// takes at least one byte and addresses decrease along a path). Seeking to
// from adds len(from). The product saturates rather than overflows.
func workBudget(f *FST, fromLen int) uint64 {
	depth := uint64(min(len(f.file.Body), MaxKeyLen)) + 1
	hi, lo := bits.Mul64(f.file.Footer.Count+1, depth)
	if hi != 0 {
		return 1<<64 - 1
	}
	b, carry := bits.Add64(lo, uint64(fromLen)+1024, 0)
	if carry != 0 {
		return 1<<64 - 1
	}
	return b
}

// Next advances to the next key and reports whether there is one. After
// it returns false, Err tells whether the walk ended or failed.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = panicError("iterate", p)
			}
		}()
		if !it.started {
			it.started = true
			it.vit, err = it.f.v.Search(&it.g, it.from, it.to)
		} else {
			err = it.vit.Next()
		}
		if err == nil {
			it.key, it.val = it.vit.Current()
		}
	}()
	switch {
	case it.g.tripped:
		return it.fail(corruptf("iterate: gave up after %d transitions, more than an undamaged FST of %d keys needs", it.g.steps, it.f.Len()))
	case errors.Is(err, vellum.ErrIteratorDone):
		it.done = true
		it.key = nil
		return false
	case err != nil:
		if !errors.Is(err, ErrCorrupt) {
			err = corruptf("iterate: vellum: %v", err)
		}
		return it.fail(err)
	}
	it.n++
	switch {
	case len(it.key) > MaxKeyLen:
		return it.fail(corruptf("iterate: key #%d is longer than %d bytes", it.n, MaxKeyLen))
	case it.n > it.f.file.Footer.Count:
		return it.fail(corruptf("iterate: more keys than the %d the footer counts", it.f.file.Footer.Count))
	case it.to != nil && bytes.Compare(it.key, it.to) >= 0:
		// vellum checks the end bound itself; this only guards damage.
		it.done = true
		it.key = nil
		return false
	}
	return true
}

func (it *Iterator) fail(err error) bool {
	it.err = err
	it.done = true
	it.key, it.val = nil, 0
	return false
}

// Key returns the current key. It is valid only until the next call to
// Next; see the type's doc on aliasing.
func (it *Iterator) Key() []byte { return it.key }

// Value returns the current key's value.
func (it *Iterator) Value() uint64 { return it.val }

// Err returns the error that stopped the iteration, or nil if it ran to
// the end (or has not ended yet). Errors wrap [ErrCorrupt].
func (it *Iterator) Err() error { return it.err }

// Close ends the iteration early and releases the iterator's state. It
// returns Err. Calling Close more than once, or after the end, is fine.
func (it *Iterator) Close() error {
	it.done = true
	it.key = nil
	it.vit = nil
	return it.err
}

// All returns the remaining keys and values as a Go iterator, for use with
// range-over-func; breaking out of the loop closes the Iterator. It is
// single-use like the Iterator itself, keys alias as with Key, and errors
// are not yielded: check Err after the loop.
//
//	it := f.Prefix(p)
//	for k, v := range it.All() { ... }
//	if err := it.Err(); err != nil { ... }
func (it *Iterator) All() iter.Seq2[[]byte, uint64] {
	return func(yield func([]byte, uint64) bool) {
		for it.Next() {
			if !yield(it.key, it.val) {
				it.Close()
				return
			}
		}
	}
}

// guard is the automaton every iterator runs under. It delegates to the
// query's automaton (nil: match everything) and counts the transitions
// vellum examines; past its budget it refuses every state, which makes
// vellum unwind and stop, and the Iterator reports ErrCorrupt.
type guard struct {
	inner   vellum.Automaton
	steps   uint64
	budget  uint64
	tripped bool
}

var _ vellum.Automaton = (*guard)(nil)

func (g *guard) Start() int {
	if g.inner == nil {
		return 0
	}
	return g.inner.Start()
}

func (g *guard) IsMatch(s int) bool {
	if g.tripped {
		return false
	}
	return g.inner == nil || g.inner.IsMatch(s)
}

func (g *guard) CanMatch(s int) bool {
	if g.tripped {
		return false
	}
	return g.inner == nil || g.inner.CanMatch(s)
}

func (g *guard) WillAlwaysMatch(int) bool { return false }

func (g *guard) Accept(s int, b byte) int {
	g.steps++
	if g.steps > g.budget {
		g.tripped = true
		return s
	}
	if g.inner == nil {
		return 0
	}
	return g.inner.Accept(s, b)
}
