package fst_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/kvdict/kvdict/fst"
)

// collect drains it and fails the test on an iteration error.
func collect(t *testing.T, it *fst.Iterator) []kv {
	t.Helper()
	defer it.Close()
	var out []kv
	for it.Next() {
		out = append(out, kv{bytes.Clone(it.Key()), it.Value()})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// filter returns the kvs for which keep is true.
func filter(kvs []kv, keep func(k []byte) bool) []kv {
	var out []kv
	for _, e := range kvs {
		if keep(e.k) {
			out = append(out, e)
		}
	}
	return out
}

func equalKVs(a, b []kv) bool {
	return slices.EqualFunc(a, b, func(x, y kv) bool { return bytes.Equal(x.k, y.k) && x.v == y.v })
}

// queryKVs is the oracle for the query tests: random keys plus words made
// for fuzzy matching.
func queryKVs() []kv {
	kvs := randomKVs(20_000, 7)
	m := map[string]uint64{}
	for _, e := range kvs {
		m[string(e.k)] = e.v
	}
	for i, w := range []string{"cat", "cats", "cart", "act", "at", "chat", "coat", "scat", "caté", "catté", "dog", "dot", "\xff", "\xff\xff", "\xff\xffa"} {
		m[w] = uint64(i)
	}
	kvs = kvs[:0]
	for k, v := range m {
		kvs = append(kvs, kv{[]byte(k), v})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	return kvs
}

// Ensure Range yields exactly the keys in [from, to), for random and
// edge-case bounds, against brute force.
func TestRange(t *testing.T) {
	kvs := queryKVs()
	f := mustLoad(t, kvs)
	r := rand.New(rand.NewPCG(8, 8))
	bound := func() []byte {
		switch r.IntN(5) {
		case 0:
			return nil
		case 1:
			return []byte{}
		case 2: // an existing key
			return kvs[r.IntN(len(kvs))].k
		case 3: // just after an existing key
			return append(bytes.Clone(kvs[r.IntN(len(kvs))].k), 0)
		default:
			return fmt.Appendf(nil, "%s/%d", []string{"alpha", "beta", "gamma", "\x05"}[r.IntN(4)], r.IntN(1000))
		}
	}
	search := func(k []byte) int {
		i, _ := slices.BinarySearchFunc(kvs, k, func(e kv, k []byte) int { return bytes.Compare(e.k, k) })
		return i
	}
	n := 200
	if quick() {
		n = 40
	}
	for range n {
		from, to := bound(), bound()
		got := collect(t, f.Range(from, to))
		lo, hi := search(from), len(kvs)
		if to != nil {
			hi = search(to)
		}
		want := kvs[lo:max(lo, hi)]
		if !equalKVs(got, want) {
			t.Fatalf("Range(%q, %q): %d keys, want %d", from, to, len(got), len(want))
		}
	}
}

// Ensure Prefix yields exactly the keys starting with p, including the
// empty prefix and prefixes of 0xff bytes (no successor).
func TestPrefix(t *testing.T) {
	kvs := queryKVs()
	f := mustLoad(t, kvs)
	r := rand.New(rand.NewPCG(9, 9))
	prefixes := [][]byte{nil, {}, []byte("\xff"), []byte("\xff\xff"), []byte("alpha/"), []byte("ca"), []byte("zzz"), {0}}
	n := 200
	if quick() {
		n = 30
	}
	for range n {
		k := kvs[r.IntN(len(kvs))].k
		prefixes = append(prefixes, k[:r.IntN(len(k)+1)])
	}
	for _, p := range prefixes {
		got := collect(t, f.Prefix(p))
		want := filter(kvs, func(k []byte) bool { return bytes.HasPrefix(k, p) })
		if !equalKVs(got, want) {
			t.Fatalf("Prefix(%q): %d keys, want %d", p, len(got), len(want))
		}
	}
}

// Ensure Regex matches whole keys like Go's regexp does (on valid UTF-8
// keys; vellum's DFA never matches invalid UTF-8), and that unsupported
// syntax is an error from Regex itself.
func TestRegex(t *testing.T) {
	kvs := queryKVs()
	f := mustLoad(t, kvs)
	for _, expr := range []string{"cat", "ca.*", "c.t", "[a-c]at", "alpha/1[0-9]/.*", ".*ff", "beta/[0-9]{2}/[0-9a-f]+", "δέλτα/.*", "(dog|dot)s?", "", ".*é"} {
		it, err := f.Regex(expr)
		if err != nil {
			t.Fatalf("Regex(%q): %v", expr, err)
		}
		got := collect(t, it)
		re := regexp.MustCompile(`^(?:` + expr + `)$`)
		want := filter(kvs, func(k []byte) bool { return utf8.Valid(k) && re.Match(k) })
		if !equalKVs(got, want) {
			t.Fatalf("Regex(%q): %d keys, want %d", expr, len(got), len(want))
		}
	}
	for _, bad := range []string{"(", "a**", "^cat", "cat$", `\bcat`, "ca*?"} {
		if _, err := f.Regex(bad); err == nil {
			t.Errorf("Regex(%q) accepted", bad)
		}
	}
}

// levenshtein is the textbook edit distance between the code points of a
// and b.
func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Ensure Fuzzy yields exactly the keys within the distance, invalid UTF-8
// keys included (each invalid byte is one U+FFFD), and rejects distances
// outside 0..2.
func TestFuzzy(t *testing.T) {
	kvs := queryKVs()
	f := mustLoad(t, kvs)
	for _, term := range []string{"cat", "caté", "dog", "", "alpha/10/", "x", "\xff", "caf\xc3"} {
		for d := 0; d <= fst.MaxFuzzyDistance; d++ {
			it, err := f.Fuzzy(term, d)
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, it)
			want := filter(kvs, func(k []byte) bool {
				return levenshtein([]rune(term), []rune(string(k))) <= d
			})
			if !equalKVs(got, want) {
				t.Fatalf("Fuzzy(%q, %d): %d keys, want %d", term, d, len(got), len(want))
			}
		}
	}
	for _, d := range []int{-1, 3, 10} {
		if _, err := f.Fuzzy("cat", d); err == nil {
			t.Errorf("Fuzzy distance %d accepted", d)
		}
	}
}

// Ensure an iterator ends cleanly: Next stays false, Key is nil, Close is
// idempotent, and closing early stops it.
func TestIterator_Lifecycle(t *testing.T) {
	f := mustLoad(t, []kv{{[]byte("a"), 1}, {[]byte("b"), 2}, {[]byte("c"), 3}})
	it := f.Range(nil, nil)
	if !it.Next() || string(it.Key()) != "a" || it.Value() != 1 {
		t.Fatal("first key")
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if it.Next() || it.Key() != nil {
		t.Fatal("Next after Close")
	}
	it = f.Range([]byte("b"), []byte("b"))
	if it.Next() {
		t.Fatalf("empty range [b, b) yielded %q", it.Key())
	}
	it = f.Range([]byte("c"), []byte("a"))
	if it.Next() {
		t.Fatalf("inverted range yielded %q", it.Key())
	}
	it = f.Range(nil, nil)
	for it.Next() {
	}
	if it.Next() || it.Err() != nil || it.Close() != nil || it.Close() != nil {
		t.Fatal("after the end")
	}
}
