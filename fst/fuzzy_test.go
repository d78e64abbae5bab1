package fst_test

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/kvdict/kvdict/fst"
)

// pypiKeys returns the distinct keys of the bundled 40,009-row PyPI sample
// (real package names), sorted, as kvs with their ordinals as values.
func pypiKeys(t testing.TB) []kv {
	t.Helper()
	data, err := os.ReadFile("../testdata/pypi-sample.tsv")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, _, _ := bytes.Cut(sc.Bytes(), []byte("\t"))
		seen[string(k)] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	kvs := make([]kv, len(keys))
	for i, k := range keys {
		kvs[i] = kv{[]byte(k), uint64(i)}
	}
	return kvs
}

// within reports whether the edit distance of a and b is at most d: the
// textbook dynamic program, stopped early once a whole row exceeds d
// (row minima never decrease).
func within(a, b []rune, d int) bool {
	if len(a)-len(b) > d || len(b)-len(a) > d {
		return false
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > d {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(b)] <= d
}

// fuzzyTerms makes query terms of 1 to 100 bytes from real keys: the keys
// themselves, keys with one or two edits, keys glued into longer terms,
// and terms with multi-byte characters.
func fuzzyTerms(kvs []kv, r *rand.Rand) []string {
	var terms []string
	edit := func(s []rune) []rune {
		s = slices.Clone(s)
		i := r.IntN(len(s) + 1)
		switch r.IntN(3) {
		case 0: // insert
			return slices.Insert(s, i, rune('a'+r.IntN(26)))
		case 1: // delete
			if i < len(s) {
				return slices.Delete(s, i, i+1)
			}
		}
		if i < len(s) { // substitute
			s[i] = rune('a' + r.IntN(26))
		}
		return s
	}
	for len(terms) < 400 {
		k := []rune(string(kvs[r.IntN(len(kvs))].k))
		if len(k) == 0 {
			continue
		}
		switch len(terms) % 5 {
		case 0:
			terms = append(terms, string(k))
		case 1:
			terms = append(terms, string(edit(k)))
		case 2:
			terms = append(terms, string(edit(edit(k))))
		case 3: // long terms: real names glued with '-' up to 100 bytes
			t := k
			for len(string(t)) < 60+r.IntN(41) {
				t = append(append(t, '-'), []rune(string(kvs[r.IntN(len(kvs))].k))...)
			}
			for len(string(t)) > 100 {
				t = t[:len(t)-1]
			}
			terms = append(terms, string(t))
		case 4:
			t := edit(k)
			t = slices.Insert(t, r.IntN(len(t)+1), 'é', '日')
			terms = append(terms, string(t))
		}
	}
	return terms
}

// Ensure Fuzzy answers exactly what a brute-force edit distance over every
// key answers, on real package names, at every supported distance, for
// terms from 1 to 100 bytes. vellum's own Levenshtein automaton, which
// kvdict used before, missed matches at distance 1 (even the term itself)
// for terms longer than about 15 to 30 bytes.
func TestFuzzy_BruteForce(t *testing.T) {
	kvs := pypiKeys(t)
	// A long key that only the long terms can reach exactly.
	long := "a-package-name-that-is-much-longer-than-thirty-bytes-for-the-automaton"
	kvs = append(kvs, kv{[]byte(long), 1 << 40})
	slices.SortFunc(kvs, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	f := mustLoad(t, kvs)
	runes := make([][]rune, len(kvs))
	for i, e := range kvs {
		runes[i] = []rune(string(e.k))
	}
	r := rand.New(rand.NewPCG(13, 1))
	terms := append(fuzzyTerms(kvs, r), long, long[:40]+"x"+long[41:], long[1:])
	if testing.Short() {
		terms = terms[:60]
	}
	checked, matched := 0, 0
	for _, term := range terms {
		if !utf8.ValidString(term) {
			t.Fatalf("bad term %q", term)
		}
		tr := []rune(term)
		for d := 0; d <= fst.MaxFuzzyDistance; d++ {
			it, err := f.Fuzzy(term, d)
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, it)
			var want []kv
			for i, e := range kvs {
				if within(tr, runes[i], d) {
					want = append(want, e)
				}
			}
			if !equalKVs(got, want) {
				t.Fatalf("Fuzzy(%q (%d bytes), %d): %d keys %v, want %d %v", term, len(term), d, len(got), keysOf(got), len(want), keysOf(want))
			}
			checked++
			matched += len(want)
		}
	}
	if matched < len(terms) { // at least the exact keys match
		t.Fatalf("only %d matches over %d queries: the test is not exercising matches", matched, checked)
	}
}

func keysOf(kvs []kv) []string {
	var s []string
	for _, e := range kvs {
		s = append(s, string(e.k))
	}
	if len(s) > 5 {
		s = append(s[:5], "…")
	}
	return s
}

// Ensure over-long terms are refused with an error, not a huge automaton.
func TestFuzzy_TermTooLong(t *testing.T) {
	f := mustLoad(t, []kv{{[]byte("a"), 1}})
	if _, err := f.Fuzzy(string(make([]byte, fst.MaxFuzzyTermLen+1)), 1); err == nil {
		t.Fatal("accepted")
	}
	if _, err := f.Fuzzy(string(make([]byte, fst.MaxFuzzyTermLen)), 1); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkFuzzy times a whole fuzzy query (automaton and walk) over the
// 40k real PyPI names, for a short and a long term.
func BenchmarkFuzzy(b *testing.B) {
	f := mustLoad(b, pypiKeys(b))
	for _, term := range []string{"requests", "odoo-addon-pos-early-receipt-printing"} {
		for d := 0; d <= fst.MaxFuzzyDistance; d++ {
			b.Run("len="+strconv.Itoa(len(term))+"/d="+strconv.Itoa(d), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					it, _ := f.Fuzzy(term, d)
					for it.Next() {
					}
					it.Close()
				}
			})
		}
	}
}
