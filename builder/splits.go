package builder

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sort"
)

// Sampler keeps a uniform random sample of the keys passed to Add
// (reservoir sampling), for SplitKeys. Its random source has a fixed seed,
// so the same keys in the same order give the same sample: a retried
// sampling task picks the same split keys. It is not safe for concurrent
// use.
type Sampler struct {
	size int
	seen int64
	keys [][]byte
	rng  *rand.Rand
}

// NewSampler returns a Sampler keeping at most size keys (at least 1).
// About 100 keys per range to cut gives ranges within ±20% of each other.
func NewSampler(size int) *Sampler {
	return &Sampler{size: max(size, 1), rng: rand.New(rand.NewPCG(0x6b766469, 0x6374))}
}

// Add offers a key to the sample; it is copied if kept.
func (s *Sampler) Add(key []byte) {
	s.seen++
	if len(s.keys) < s.size {
		s.keys = append(s.keys, bytes.Clone(key))
		return
	}
	if j := s.rng.Int64N(s.seen); j < int64(s.size) {
		s.keys[j] = append(s.keys[j][:0], key...)
	}
}

// Seen reports how many keys were offered.
func (s *Sampler) Seen() int64 { return s.seen }

// Keys returns the sample (in no particular order).
func (s *Sampler) Keys() [][]byte { return s.keys }

// SplitKeys returns at most n-1 strictly increasing, non-empty keys that
// cut the key space into ranges holding about equal shares of sample (it
// sorts sample in place). Fewer come back when the sample has fewer
// distinct keys than that: range i of SplitRange is then the last. Keys
// are compared as bytes, the dictionary's order.
func SplitKeys(sample [][]byte, n int) [][]byte {
	slices.SortFunc(sample, bytes.Compare)
	var splits [][]byte
	for i := 1; i < n && len(sample) > 0; i++ {
		k := sample[i*len(sample)/n]
		if len(k) == 0 || (len(splits) > 0 && bytes.Compare(k, splits[len(splits)-1]) <= 0) {
			continue
		}
		splits = append(splits, bytes.Clone(k))
	}
	return splits
}

// RangeOf returns the index of the range of splits (as SplitKeys returns
// them) that holds key: 0 to len(splits).
func RangeOf(splits [][]byte, key []byte) int {
	return sort.Search(len(splits), func(i int) bool { return bytes.Compare(splits[i], key) > 0 })
}

// SplitRange returns range i of splits, 0 <= i <= len(splits): from the
// empty key to splits[0], from splits[i-1] to splits[i], and from the last
// split key up.
func SplitRange(splits [][]byte, i int) Range {
	var r Range
	r.Lo = []byte{}
	if i > 0 {
		r.Lo = splits[i-1]
	}
	if i < len(splits) {
		r.Hi = splits[i]
	}
	return r
}
