package reader_test

import (
	"bytes"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

type oracle map[string][]byte

func newOracle(kvs []testutil.KV) oracle {
	o := make(oracle, len(kvs))
	for _, kv := range kvs {
		o[string(kv.Key)] = kv.Value
	}
	return o
}

func (o oracle) sortedKeys() []string { return slices.Sorted(maps.Keys(o)) }

// Ensure that every key of a large random set reads back its value, that
// absent keys are ErrNotFound, and that a full scan yields exactly the
// oracle's pairs in byte order — with one partition and with several.
func TestDict_Oracle(t *testing.T) {
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 100_000
	}
	kvs := testutil.RandomKVs(n, 1)
	// Long keys and big values, the shapes that break 16-bit lengths.
	kvs = append(kvs,
		testutil.KV{Key: bytes.Repeat([]byte("k"), 4096), Value: []byte("four KB key")},
		testutil.KV{Key: []byte("big/value"), Value: bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)},
		testutil.KV{Key: []byte("big/value2"), Value: bytes.Repeat([]byte{0xff, 0}, 1<<20)},
	)
	o := newOracle(kvs)
	for _, parts := range []int{1, 3} {
		t.Run(map[int]string{1: "parts=1", 3: "parts=3"}[parts], func(t *testing.T) {
			d, err := reader.Open(testutil.MustBuild(t, kvs, parts, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.Len() != len(o) {
				t.Fatalf("Len = %d, want %d", d.Len(), len(o))
			}
			if got := len(d.Manifest().Partitions); got != parts {
				t.Fatalf("partitions = %d, want %d", got, parts)
			}
			for k, want := range o {
				got, err := d.Get([]byte(k))
				if err != nil {
					t.Fatalf("Get(%q): %v", k, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("Get(%q) = %q, want %q", k, trunc(got), trunc(want))
				}
			}
			r := rand.New(rand.NewPCG(7, 7))
			for range 10_000 {
				k := make([]byte, 1+r.IntN(30))
				for i := range k {
					k[i] = byte(r.Uint32())
				}
				if _, ok := o[string(k)]; ok {
					continue
				}
				if _, err := d.Get(k); !errors.Is(err, reader.ErrNotFound) {
					t.Fatalf("Get(absent %q) err = %v, want ErrNotFound", k, err)
				}
				if ok, err := d.Contains(k); ok || err != nil {
					t.Fatalf("Contains(absent %q) = %v, %v", k, ok, err)
				}
			}
			keys := o.sortedKeys()
			i := 0
			it := d.All()
			for k, v := range it.All() {
				if i >= len(keys) || string(k) != keys[i] || !bytes.Equal(v, o[keys[i]]) {
					t.Fatalf("scan item %d = %q, want %q", i, trunc(k), trunc([]byte(keys[min(i, len(keys)-1)])))
				}
				i++
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			if i != len(keys) {
				t.Fatalf("scan yielded %d keys, want %d", i, len(keys))
			}
			if err := d.Verify(); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// Ensure Range, Prefix, Regex and Fuzzy return exactly the matching keys, in
// order, across partition boundaries.
func TestDict_Queries(t *testing.T) {
	words := []string{"", "a", "ab", "abc", "abd", "b", "ba", "caf\u00e9", "cafe", "cage", "cake", "\xff", "\xff\xff", "\xff\xffz", "zz"}
	slices.Sort(words) // byte order: "cafe" < "café", "zz" < "\xff"
	var kvs []testutil.KV
	for _, w := range words {
		kvs = append(kvs, testutil.KV{Key: []byte(w), Value: []byte("v:" + w)})
	}
	d, err := reader.Open(testutil.MustBuild(t, kvs, 4, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	collect := func(it *reader.Iterator) []string {
		t.Helper()
		defer it.Close()
		var got []string
		for it.Next() {
			if v := string(it.Value()); v != "v:"+string(it.Key()) {
				t.Fatalf("value of %q = %q", it.Key(), v)
			}
			got = append(got, string(it.Key()))
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	brute := func(match func(string) bool) []string {
		var want []string
		for _, w := range words {
			if match(w) {
				want = append(want, w)
			}
		}
		return want
	}
	check := func(name string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("All", collect(d.All()), words)
	check("Range(ab, cafe)", collect(d.Range([]byte("ab"), []byte("cafe"))), brute(func(w string) bool { return w >= "ab" && w < "cafe" }))
	check("Range(nil, b)", collect(d.Range(nil, []byte("b"))), brute(func(w string) bool { return w < "b" }))
	check("Range(c, nil)", collect(d.Range([]byte("c"), nil)), brute(func(w string) bool { return w >= "c" }))
	for _, p := range []string{"", "a", "ab", "ca", "caf", "\xff", "\xff\xff", "q"} {
		check("Prefix("+p+")", collect(d.Prefix([]byte(p))), brute(func(w string) bool { return strings.HasPrefix(w, p) }))
	}
	re, err := d.Regex("ca.e")
	if err != nil {
		t.Fatal(err)
	}
	check("Regex(ca.e)", collect(re), []string{"cafe", "cage", "cake"})
	if _, err := d.Regex("a(b"); err == nil {
		t.Error("Regex with a syntax error: no error")
	}
	fz, err := d.Fuzzy("cafe", 1)
	if err != nil {
		t.Fatal(err)
	}
	check("Fuzzy(cafe, 1)", collect(fz), []string{"cafe", "caf\u00e9", "cage", "cake"})
	if _, err := d.Fuzzy("cafe", 9); err == nil {
		t.Error("Fuzzy with distance 9: no error")
	}
}

// Ensure many goroutines can Get and scan one Dict at once (run with -race).
func TestDict_Concurrent(t *testing.T) {
	kvs := testutil.RandomKVs(20_000, 3)
	o := newOracle(kvs)
	d, err := reader.Open(testutil.MustBuild(t, kvs, 2, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			if g%4 == 0 {
				n := 0
				it := d.All()
				for it.Next() {
					n++
				}
				if it.Err() != nil || n != len(o) {
					t.Errorf("scan: %d keys, err %v", n, it.Err())
				}
				return
			}
			for _, kv := range kvs[g*1000:] {
				v, err := d.Get(kv.Key)
				if err != nil || !bytes.Equal(v, kv.Value) {
					t.Errorf("Get(%q) = %q, %v", kv.Key, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Ensure an empty dictionary opens, has no keys and scans to nothing.
func TestDict_Empty(t *testing.T) {
	d, err := reader.Open(testutil.MustBuild(t, nil, 1, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Len() != 0 {
		t.Fatalf("Len = %d", d.Len())
	}
	if _, err := d.Get([]byte("x")); !errors.Is(err, reader.ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	it := d.All()
	if it.Next() || it.Err() != nil {
		t.Fatalf("scan of empty dictionary: %v", it.Err())
	}
	if err := d.Verify(); err != nil {
		t.Fatal(err)
	}
}

// Ensure calls after Close fail with ErrClosed instead of touching unmapped
// memory, and GetCopy's value survives Close.
func TestDict_Close(t *testing.T) {
	d, err := reader.Open(testutil.MustBuild(t, []testutil.KV{{Key: []byte("k"), Value: []byte("v")}}, 1, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.GetCopy([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if string(c) != "v" {
		t.Fatalf("copy = %q after Close", c)
	}
	if _, err := d.Get([]byte("k")); !errors.Is(err, reader.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
	if it := d.All(); it.Next() || !errors.Is(it.Err(), reader.ErrClosed) {
		t.Fatalf("scan after Close: %v", it.Err())
	}
	if err := d.Close(); !errors.Is(err, reader.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

// Ensure Get allocates nothing, for hits and misses (the worker hot path).
func TestDict_GetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	kvs := testutil.RandomKVs(1000, 4)
	d, err := reader.Open(testutil.MustBuild(t, kvs, 2, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	hit, miss := kvs[500].Key, []byte("no such key \x00")
	if a := testing.AllocsPerRun(1000, func() { d.Get(hit) }); a != 0 {
		t.Errorf("Get hit: %v allocs/op", a)
	}
	if a := testing.AllocsPerRun(1000, func() { d.Get(miss) }); a != 0 {
		t.Errorf("Get miss: %v allocs/op", a)
	}
}
