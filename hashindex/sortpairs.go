package hashindex

import "slices"

// bucketBits is the number of top hash bits sortPairs distributes on: 2^16
// buckets, so that a run of a few million pairs leaves tens of pairs per
// bucket (hashes are uniform), few enough for insertion sort.
const bucketBits = 16

// sortPairs sorts ps by (h, addr), the order of the index file, using tmp
// (len(tmp) >= len(ps)) as scratch. One counting pass and one scatter pass
// distribute the pairs into 2^bucketBits buckets by the hash's top bits;
// each bucket is then sorted on its own. It replaces a comparison sort
// (pdqsort through cmpPair), which spent about 200 ns a pair on 10M keys
// and was most of what the index added to a build (docs/BENCHMARKS.md §11,
// "Index build time").
func sortPairs(ps, tmp []pair) {
	if len(ps) < 1<<10 {
		slices.SortFunc(ps, cmpPair)
		return
	}
	const shift = 64 - bucketBits
	var starts [1<<bucketBits + 1]int
	for i := range ps {
		starts[ps[i].h>>shift+1]++
	}
	for b := 1; b < len(starts); b++ {
		starts[b] += starts[b-1]
	}
	next := starts // a copy: the scatter advances next, the buckets stay in starts
	tmp = tmp[:len(ps)]
	for _, p := range ps {
		b := p.h >> shift
		tmp[next[b]] = p
		next[b]++
	}
	for b := range 1 << bucketBits {
		sortBucket(tmp[starts[b]:starts[b+1]])
	}
	copy(ps, tmp)
}

// sortBucket sorts one bucket of sortPairs: insertion sort for the few
// pairs a uniform hash puts there, a comparison sort for a crowded one.
func sortBucket(ps []pair) {
	if len(ps) > 64 {
		slices.SortFunc(ps, cmpPair)
		return
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && less(ps[j], ps[j-1]); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// less is cmpPair(a, b) < 0 without the three-way compares.
func less(a, b pair) bool { return a.h < b.h || a.h == b.h && a.addr < b.addr }
