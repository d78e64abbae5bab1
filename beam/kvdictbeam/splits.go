package kvdictbeam

import (
	"bytes"
	"context"
	"slices"

	"github.com/zeebo/xxh3"

	"github.com/kvdict/kvdict/builder"
)

// Splits are the N-1 split keys that cut the key space into the build's
// ranges (builder.SplitKeys, builder.SplitRange). A side input.
type Splits struct {
	Keys [][]byte
}

// Sample is the accumulator of splitsFn: a bottom-k sketch, the keys with
// the smallest hashes seen so far (at most 2*K between compactions),
// hashes and keys in parallel. Hashing makes it a uniform sample of the
// distinct keys that does not depend on the order rows arrive in, on how
// the runner cuts bundles, or on retries.
type Sample struct {
	Hashes []uint64
	Keys   [][]byte
	// Max is the largest hash kept once the sketch is full (Full): a key
	// hashing above it cannot enter.
	Max  uint64
	Full bool
}

// splitsFn combines all rows into the split keys.
type splitsFn struct {
	Parts int // N ranges wanted
	K     int // sample size: distinct keys kept
}

// sampleSize is the sample for n ranges: builder.NewSampler's advice of
// about 100 keys per range gives ranges within ±20%; 200 halves that.
func sampleSize(n int) int { return min(max(200*n, 1000), 1<<20) }

// CreateAccumulator returns an empty sample.
func (f *splitsFn) CreateAccumulator() Sample { return Sample{} }

// AddInput offers a row's key to the sample.
// Rows are this package's own encoding: one that does not decode is
// left out of the sample (routeFn fails the pipeline on it).
func (f *splitsFn) AddInput(s Sample, row []byte) Sample {
	_, key, _, err := decodeRow(row)
	if err != nil {
		return s
	}
	h := xxh3.Hash(key)
	if s.Full && h > s.Max {
		return s
	}
	s.Hashes = append(s.Hashes, h)
	s.Keys = append(s.Keys, bytes.Clone(key))
	if len(s.Keys) >= 2*f.K {
		s = f.compact(s)
	}
	return s
}

// MergeAccumulators merges two samples.
func (f *splitsFn) MergeAccumulators(a, b Sample) Sample {
	a.Hashes = append(a.Hashes, b.Hashes...)
	a.Keys = append(a.Keys, b.Keys...)
	a.Full = false // recomputed by compact
	return f.compact(a)
}

// ExtractOutput cuts the sample into ranges.
func (f *splitsFn) ExtractOutput(s Sample) Splits {
	s = f.compact(s)
	return Splits{Keys: builder.SplitKeys(s.Keys, f.Parts)}
}

// compact keeps the K distinct keys of smallest hash.
func (f *splitsFn) compact(s Sample) Sample {
	idx := make([]int, len(s.Keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		if s.Hashes[i] != s.Hashes[j] {
			if s.Hashes[i] < s.Hashes[j] {
				return -1
			}
			return 1
		}
		return bytes.Compare(s.Keys[i], s.Keys[j])
	})
	var out Sample
	for _, i := range idx {
		if n := len(out.Keys); n > 0 && out.Hashes[n-1] == s.Hashes[i] && bytes.Equal(out.Keys[n-1], s.Keys[i]) {
			continue
		}
		if len(out.Keys) == f.K {
			break
		}
		out.Hashes = append(out.Hashes, s.Hashes[i])
		out.Keys = append(out.Keys, s.Keys[i])
	}
	if len(out.Keys) == f.K {
		out.Full, out.Max = true, out.Hashes[f.K-1]
	}
	return out
}

// routeFn sends every row to its key's range.
type routeFn struct{}

func (f *routeFn) ProcessElement(ctx context.Context, row []byte, sp Splits, emit func(int, []byte)) error {
	_, key, _, err := decodeRow(row)
	if err != nil {
		return err
	}
	shuffled.Inc(ctx, int64(len(row)))
	emit(builder.RangeOf(sp.Keys, key), row)
	return nil
}
