package reader

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// batchGroup is how many lookups GetBatch keeps in flight: their table
// loads are issued back to back, then their record loads, so the memory
// system works on up to this many cache misses at once instead of one.
// 16 measured best (shared/research/hashindex.md §5).
const batchGroup = 16

// touchSink keeps the interleaved loads observable so that the compiler
// cannot drop them: their xor decides whether it is incremented. That is
// rarely true, so concurrent batches do not share a written cache line,
// and it is atomic, so the race detector (CI runs ./cmd/... and ./reader/...
// under -race) has nothing to report, as it did for a plain byte store.
var touchSink atomic.Uint32

// ErrBatchLength is returned by GetBatch when vals or found is shorter
// than keys.
var ErrBatchLength = errors.New("reader: GetBatch needs len(vals) and len(found) >= len(keys)")

// GetBatch looks up every keys[i], setting vals[i] to its value and
// found[i] to whether it is present (an absent key gets nil and false). It
// answers exactly as Get would, key by key, but faster on a dictionary
// with a hash index: it works through the keys in groups of 16, first
// hashing all of them, then loading their table slots, then their records,
// so that their cache misses overlap. Without an index it calls Get for
// each key.
//
// It allocates nothing, is safe for concurrent use (split a large batch
// across goroutines to use several cores), and keeps no reference to keys.
// Values alias the mapped files, as Get's do. On a corrupt record it fills
// in every other key and returns the first error (wrapping ErrCorrupt);
// the failed key has found[i] false.
func (d *Dict) GetBatch(keys, vals [][]byte, found []bool) error {
	if len(vals) < len(keys) || len(found) < len(keys) {
		return ErrBatchLength
	}
	if d.closed.Load() {
		return ErrClosed
	}
	var first error
	var parts [batchGroup]*part
	var hashes [batchGroup]uint64
	for lo := 0; lo < len(keys); lo += batchGroup {
		ks := keys[lo:min(lo+batchGroup, len(keys))]
		var sink byte
		// Phase 1: partitions and hashes (CPU only).
		for j, k := range ks {
			p := d.find(k)
			parts[j] = p
			if p != nil && p.hix != nil {
				hashes[j] = p.hix.Hash(k)
			}
		}
		// Phase 2: the home slots, loads independent of each other.
		for j := range ks {
			if p := parts[j]; p != nil && p.hix != nil {
				sink ^= byte(p.hix.Entry(p.hix.Home(hashes[j])))
			}
		}
		// Phase 3: the first candidate's record head and, for long keys,
		// its second line (slots are in cache now).
		for j, k := range ks {
			if p := parts[j]; p != nil && p.hix != nil {
				pr := p.hix.Probe(hashes[j])
				if addr, ok := pr.Next(); ok {
					sink ^= p.log.Touch(addr, len(k))
				}
			}
		}
		if sink == 0x5a {
			touchSink.Add(1)
		}
		// Phase 4: the exact lookups, now mostly from cache.
		for j, k := range ks {
			var v []byte
			var err error
			if p := parts[j]; p == nil {
				err = ErrNotFound
			} else if p.hix != nil {
				v, err = p.hashGet(k, hashes[j])
			} else {
				v, err = d.Get(k)
			}
			i := lo + j
			switch {
			case err == nil:
				vals[i], found[i] = v, true
			case err == ErrNotFound:
				vals[i], found[i] = nil, false
			default:
				vals[i], found[i] = nil, false
				if first == nil {
					first = fmt.Errorf("key %d of the batch: %w", i, err)
				}
			}
		}
	}
	return first
}
