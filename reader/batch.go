package reader

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/prefetch"
)

// batchGroup is how many lookups GetBatch works on at once: it starts the
// memory loads of all of them, then uses them. 32 measured best with
// prefetches on 10M keys (16 and 64 were 10-20% slower; before the
// prefetches, 16; docs/BENCHMARKS.md §11).
const batchGroup = 32

// touchSink keeps the interleaved loads observable so that the compiler
// cannot drop them: their xor decides whether it is incremented. That is
// rarely true, so concurrent batches do not share a written cache line,
// and it is atomic, so the race detector (CI runs ./cmd/... and ./reader/...
// under -race) has nothing to report, as it did for a plain byte store.
// Only architectures without prefetch.Enabled use loads this way.
var touchSink atomic.Uint32

// ErrBatchLength is returned by GetBatch when vals or found is shorter
// than keys.
var ErrBatchLength = errors.New("reader: GetBatch needs len(vals) and len(found) >= len(keys)")

// GetBatch looks up every keys[i], setting vals[i] to its value and
// found[i] to whether it is present (an absent key gets nil and false). It
// answers exactly as Get would, key by key, but several times faster on a
// dictionary with a hash index: it works through the keys in groups of
// 32, first hashing all of them and prefetching their table slots, then
// finding each key's first candidate and prefetching its record, then
// confirming the candidates, so that the cache misses of a whole group
// overlap. Without an index it walks the FST for each key of a group, then
// prefetches the values of the whole group before reading them.
//
// It allocates nothing (except as Get does in a compressed dictionary),
// is safe for concurrent use (split a large batch across goroutines to use
// several cores), and keeps no reference to keys. Values alias the mapped
// files, as Get's do. On a corrupt record it fills in every other key and
// returns the first error (wrapping ErrCorrupt); the failed key has
// found[i] false.
func (d *Dict) GetBatch(keys, vals [][]byte, found []bool) error {
	if len(vals) < len(keys) || len(found) < len(keys) {
		return ErrBatchLength
	}
	if d.closed.Load() {
		return ErrClosed
	}
	var first error
	var g batchState
	var sink uint64
	for lo := 0; lo < len(keys); lo += batchGroup {
		ks := keys[lo:min(lo+batchGroup, len(keys))]
		sink ^= g.slots(d, ks)
		sink ^= g.records(ks)
		for j, k := range ks {
			v, err := g.finish(j, k)
			i := lo + j
			switch {
			case err == nil:
				vals[i], found[i] = v, true
			case err == ErrNotFound:
				vals[i], found[i] = nil, false
			default:
				vals[i], found[i] = nil, false
				if first == nil {
					first = fmt.Errorf("reader: GetBatch: key %d of the batch: %w", i, err)
				}
			}
		}
	}
	if sink == 0x5a {
		touchSink.Add(1)
	}
	return first
}

// batchState is the work of one group of GetBatch, kept on the stack.
//
// Each phase is a short loop over the group's keys that starts their
// memory loads with prefetches, which the processor retires at once: a
// whole group's cache misses are then in flight together (about 15 ns
// apiece on this project's machine, against 350 ns for a load that waits
// for the previous one). Plain loads in such a loop kept only a few keys'
// misses in flight, because the ~150 instructions per key behind them
// filled the reorder buffer (3.8 M keys/s against 5.5-6.8 M with
// prefetches); a loop holding a call or a branch on a loaded value per
// key kept about one (1.4 M keys/s; docs/BENCHMARKS.md §11).
type batchState struct {
	parts  [batchGroup]*part
	hashes [batchGroup]uint64
	probes [batchGroup]hashindex.Probe
	// addrs holds each key's first candidate record (hash index) or the
	// offset of its value (FST), or noCandidate.
	addrs [batchGroup]uint64
	errs  [batchGroup]error // an FST error, for a partition without an index
}

// noCandidate marks a key that needs no record load: no partition, no
// candidate entry, or absent from the FST. It is no address: entries hold
// 40 bits, and FST outputs are file offsets.
const noCandidate = ^uint64(0)

// slots finds each key's partition and, with a hash index, hashes it and
// prefetches its table slots. The FST walk of a partition without an
// index is left to records.
func (g *batchState) slots(d *Dict, ks [][]byte) (sink uint64) {
	for j, k := range ks {
		p := d.find(k)
		g.parts[j] = p
		if p != nil && p.hix != nil {
			g.hashes[j] = p.hix.Hash(k)
		}
	}
	for j := range ks {
		if p := g.parts[j]; p != nil && p.hix != nil {
			if prefetch.Enabled {
				p.hix.Prefetch(g.hashes[j])
			} else {
				hm := p.hix.Home(g.hashes[j])
				sink ^= p.hix.Entry(hm) ^ p.hix.Entry(hm+3)
			}
		}
	}
	return sink
}

// records finds each key's first candidate record in its (prefetched)
// table slots, or walks the FST for it, then prefetches the records: the
// head and the line holding the end of the stored key, whose offset
// follows from len(key).
func (g *batchState) records(ks [][]byte) (sink uint64) {
	for j, k := range ks {
		g.addrs[j], g.errs[j] = noCandidate, nil
		p := g.parts[j]
		switch {
		case p == nil:
		case p.hix != nil:
			g.probes[j] = p.hix.Probe(g.hashes[j])
			if addr, ok := g.probes[j].Next(); ok {
				g.addrs[j] = addr
			}
		default:
			off, ok, err := p.fst.Get(k)
			if err != nil {
				g.errs[j] = fmt.Errorf("reader: %s: %w", p.fstName, err)
			} else if ok {
				g.addrs[j] = off
			}
		}
	}
	for j, k := range ks {
		if a := g.addrs[j]; a != noCandidate {
			n := len(k) + 2
			if g.parts[j].hix == nil {
				n = 0
			}
			if prefetch.Enabled {
				g.parts[j].log.Prefetch(a, n)
			} else {
				sink ^= uint64(g.parts[j].log.Touch(a, n))
			}
		}
	}
	return sink
}

// finish answers key j of the group (k), whose records are loaded or on
// their way. It returns what Get returns.
func (g *batchState) finish(j int, k []byte) ([]byte, error) {
	p := g.parts[j]
	switch {
	case p == nil:
		return nil, ErrNotFound
	case g.errs[j] != nil:
		return nil, g.errs[j]
	case g.addrs[j] == noCandidate:
		return nil, ErrNotFound
	case p.hix != nil && p.log.Compressed(): // candidates are groups
		return p.hashGet(k, g.hashes[j])
	case p.hix != nil:
		return p.hashResume(&g.probes[j], g.addrs[j], k)
	}
	v, err := p.log.Value(g.addrs[j])
	if err != nil {
		return nil, fmt.Errorf("reader: %s: %w", p.logName, err)
	}
	return v, nil
}
