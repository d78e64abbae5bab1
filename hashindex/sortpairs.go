package hashindex

import "slices"

// digitBits is the width of one radix digit of sortPairs: 2^11 buckets, few
// enough that a scatter pass writes to as many streams as the caches and
// TLB keep open (2^16 buckets made a 2M-pair scatter slower than pdqsort).
const digitBits = 11

// sortPairs sorts ps by (h, addr), the order of the index file, using tmp
// (len(tmp) >= len(ps)) as scratch. It is a two-digit MSD radix sort on the
// hash's top 22 bits: a scatter of ps into tmp by the first digit, then,
// bucket by bucket (a few thousand pairs, in cache), a scatter back into ps
// by the second digit; hashes are uniform, so what is left per bucket is a
// pair or two, which insertion sort finishes. It replaces a comparison sort
// (pdqsort through cmpPair), which spent about 200 ns a pair on 10M keys
// and was most of what the index added to a build.
func sortPairs(ps, tmp []pair) {
	if len(ps) < 1<<12 {
		slices.SortFunc(ps, cmpPair)
		return
	}
	tmp = tmp[:len(ps)]
	var starts [1<<digitBits + 1]int
	scatter(tmp, ps, 64-digitBits, &starts)
	for b := range 1 << digitBits {
		lo, hi := starts[b], starts[b+1]
		if hi-lo <= 32 {
			copy(ps[lo:hi], tmp[lo:hi])
			insertionSort(ps[lo:hi])
			continue
		}
		var sub [1<<digitBits + 1]int
		scatter(ps[lo:hi], tmp[lo:hi], 64-2*digitBits, &sub)
		for c := range 1 << digitBits {
			insertionSort(ps[lo+sub[c] : lo+sub[c+1]])
		}
	}
}

// scatter copies src into dst grouped by the digit (h >> shift) mod
// 2^digitBits, in digit order, stable; starts receives each digit's first
// index in dst, and starts[2^digitBits] = len(src).
func scatter(dst, src []pair, shift uint, starts *[1<<digitBits + 1]int) {
	const mask = 1<<digitBits - 1
	for i := range src {
		starts[(src[i].h>>shift)&mask+1]++
	}
	for b := 1; b < len(starts); b++ {
		starts[b] += starts[b-1]
	}
	next := *starts
	for _, p := range src {
		d := (p.h >> shift) & mask
		dst[next[d]] = p
		next[d]++
	}
}

// insertionSort sorts a bucket of sortPairs: the few pairs a uniform hash
// leaves there, or a comparison sort for a crowded one.
func insertionSort(ps []pair) {
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
