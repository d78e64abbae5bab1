package hashindex

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Ensure that sortPairs gives the order of a comparison sort on cmpPair:
// small and large inputs, equal hashes told apart by address, and a
// crowded bucket (many hashes sharing their top bits) that takes the
// comparison-sort fallback.
func TestSortPairs_MatchesComparisonSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		n    int
		gen  func(i int) pair
	}{
		{"small", 500, func(int) pair { return pair{r.Uint64(), r.Uint64()} }},
		{"uniform", 300_000, func(int) pair { return pair{r.Uint64(), r.Uint64N(1 << 40)} }},
		{"equal hashes", 50_000, func(i int) pair { return pair{r.Uint64N(1000) << 50, uint64(50_000 - i)} }},
		{"crowded bucket", 20_000, func(int) pair { return pair{0xabcd<<48 | r.Uint64N(1<<48), r.Uint64()} }},
		{"sorted descending", 10_000, func(i int) pair { return pair{^uint64(i) << 30, uint64(i)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := make([]pair, tc.n)
			for i := range ps {
				ps[i] = tc.gen(i)
			}
			want := slices.Clone(ps)
			slices.SortFunc(want, cmpPair)
			sortPairs(ps, make([]pair, len(ps)))
			if !slices.Equal(ps, want) {
				i := 0
				for ps[i] == want[i] {
					i++
				}
				t.Fatalf("pair %d of %d: got %x, want %x", i, len(ps), ps[i], want[i])
			}
		})
	}
}
