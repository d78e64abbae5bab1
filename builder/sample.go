package builder

import (
	"bytes"
	"cmp"
	"slices"
	"sync"

	"github.com/zeebo/xxh3"
)

// Partition boundaries are chosen from a sample of the keys that depends
// on the set of distinct keys only, never on which run a key fell in: the
// runs' contents depend on which worker was free when a chunk of input
// arrived, so a sample taken per run (as before) made the boundaries, and
// so the dictionary's bytes, differ from one build of the same input to
// the next. The sample is a bottom-k sketch: the sampleSize distinct keys
// with the smallest (xxh3 hash, key). Each sorted run offers its keys, the
// sketch keeps the smallest; union-then-smallest-k is commutative and
// associative, so the result is the same whatever the order of the runs
// (and with fewer than sampleSize distinct keys it is all of them).

// sampleSize is the number of keys the sketch keeps: cuts land within
// about 1/sqrt(sampleSize/parts) of an equal share of the keys.
const sampleSize = 4096

// hashedKey is a sampled key and its hash.
type hashedKey struct {
	h   uint64
	key []byte
}

func compareHashed(a, b hashedKey) int {
	if c := cmp.Compare(a.h, b.h); c != 0 {
		return c
	}
	return bytes.Compare(a.key, b.key)
}

// keySketch is a bottom-k sketch of the distinct keys added to a Sorter.
// It is safe for concurrent use.
type keySketch struct {
	mu   sync.Mutex
	keys []hashedKey // at most sampleSize, sorted by compareHashed
}

// offerRun adds the keys of a sorted run (equal keys adjacent): each
// distinct key is hashed, the run's own smallest sampleSize are kept and
// merged into the sketch. key(i) returns the i-th key of the run.
func (s *keySketch) offerRun(n int, key func(i int) []byte) {
	var local []hashedKey
	var prev []byte
	var maxH uint64 // once trimmed: the largest hash among the run's smallest
	trimmed := false
	for i := range n {
		k := key(i)
		if i > 0 && bytes.Equal(k, prev) {
			continue
		}
		prev = k
		h := xxh3.Hash(k)
		if trimmed && h > maxH {
			continue // sampleSize smaller ones are already kept
		}
		local = append(local, hashedKey{h, bytes.Clone(k)})
		if len(local) == 2*sampleSize { // trim, amortized
			local = smallest(local)
			maxH, trimmed = local[len(local)-1].h, true
		}
	}
	s.mu.Lock()
	s.keys = smallest(append(s.keys, local...))
	s.mu.Unlock()
}

// smallest sorts ks and keeps its first sampleSize distinct entries.
func smallest(ks []hashedKey) []hashedKey {
	slices.SortFunc(ks, compareHashed)
	ks = slices.CompactFunc(ks, func(a, b hashedKey) bool { return compareHashed(a, b) == 0 })
	return ks[:min(len(ks), sampleSize)]
}

// samples returns the sketch's keys in key order, each weighted by the
// number of distinct keys it stands for: 1 when the sketch holds every
// key, else the estimate (k-1)/(kth smallest hash / 2^64) / k.
func (s *keySketch) samples() []sortSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := int64(1)
	if n := len(s.keys); n == sampleSize {
		frac := float64(s.keys[n-1].h) / (1 << 64)
		if frac > 0 {
			w = max(1, int64(float64(n-1)/frac/float64(n)))
		}
	}
	out := make([]sortSample, len(s.keys))
	for i, k := range s.keys {
		out[i] = sortSample{k.key, w}
	}
	slices.SortFunc(out, func(a, b sortSample) int { return bytes.Compare(a.key, b.key) })
	return out
}
