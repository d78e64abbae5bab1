package hashindex_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/hashindex"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.hix")

// store stands in for a value log: keys at addresses 16, 16+step, ...
type store struct {
	keys  [][]byte
	addrs []uint64
	at    map[uint64][]byte
}

func newStore(keys [][]byte) *store {
	s := &store{keys: keys, at: map[uint64][]byte{}}
	for i, k := range keys {
		a := uint64(16 + 7*i)
		s.addrs = append(s.addrs, a)
		s.at[a] = k
	}
	return s
}

func (s *store) keyAt(a uint64) ([]byte, error) {
	k, ok := s.at[a]
	if !ok {
		return nil, fmt.Errorf("no record at %d: %w", a, hashindex.ErrCorrupt)
	}
	return k, nil
}

// get looks key up the way the reader does: candidates, then a comparison.
func (s *store) get(x *hashindex.Index, key []byte) (uint64, bool) {
	p := x.Probe(x.Hash(key))
	for {
		a, ok := p.Next()
		if !ok {
			return 0, false
		}
		if k, err := s.keyAt(a); err == nil && bytes.Equal(k, key) {
			return a, true
		}
	}
}

func build(t testing.TB, s *store, opts *hashindex.WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := hashindex.NewWriter(&buf, opts)
	// Any order: the writer sorts.
	for _, i := range rand.New(rand.NewPCG(9, 9)).Perm(len(s.keys)) {
		if err := w.Add(s.keys[i], s.addrs[i]); err != nil {
			t.Fatal(err)
		}
	}
	ft, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ft.Count != uint64(len(s.keys)) {
		t.Fatalf("footer count %d, want %d", ft.Count, len(s.keys))
	}
	return buf.Bytes()
}

func keys(n int, prefix string) [][]byte {
	var ks [][]byte
	for i := range n {
		ks = append(ks, fmt.Appendf(nil, "%s/%d", prefix, i))
	}
	return ks
}

// Ensure that every key is found at its address and absent keys are not,
// with the pairs sorted in memory and with many spilled runs, and that both
// builds write identical bytes.
func TestIndex_HitsAndMisses(t *testing.T) {
	ks := keys(60_000, "https://example.com/path") // 15 spilled runs
	ks = append(ks, []byte{}, []byte{0}, bytes.Repeat([]byte{0xff}, 1000))
	s := newStore(ks)
	inMem := build(t, s, &hashindex.WriterOptions{Seed: 42, MemoryBytes: 64 << 20})
	spilled := build(t, s, &hashindex.WriterOptions{Seed: 42, MemoryBytes: 64 << 10, TmpDir: t.TempDir()})
	if !bytes.Equal(inMem, spilled) {
		t.Fatal("spilled build differs from the in-memory build")
	}
	x, err := hashindex.Load(spilled)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Verify(s.keyAt); err != nil {
		t.Fatal(err)
	}
	if perKey := float64(len(spilled)) / float64(len(ks)); perKey > 10.5 {
		t.Errorf("%.2f bytes per key, want <= 10.5", perKey)
	}
	for i, k := range ks {
		if a, ok := s.get(x, k); !ok || a != s.addrs[i] {
			t.Fatalf("key %q: got %d, %v; want %d", k, a, ok, s.addrs[i])
		}
	}
	for _, k := range keys(100_000, "https://example.com/absent") {
		if a, ok := s.get(x, k); ok {
			t.Fatalf("absent key %q found at %d", k, a)
		}
	}
	// Another seed places keys differently.
	if other := build(t, s, &hashindex.WriterOptions{Seed: 43}); bytes.Equal(other, inMem) {
		t.Fatal("the seed does not change the table")
	}
}

// Ensure that an empty and a one-key index work.
func TestIndex_Small(t *testing.T) {
	for _, n := range []int{0, 1, 2} {
		s := newStore(keys(n, "k"))
		x, err := hashindex.Load(build(t, s, nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Verify(s.keyAt); err != nil {
			t.Fatal(err)
		}
		for i, k := range s.keys {
			if a, ok := s.get(x, k); !ok || a != s.addrs[i] {
				t.Fatalf("n=%d key %q: %d %v", n, k, a, ok)
			}
		}
		if _, ok := s.get(x, []byte("absent")); ok {
			t.Fatalf("n=%d: absent key found", n)
		}
	}
}

// Ensure that an address over 40 bits is refused at Add.
func TestWriter_AddressLimit(t *testing.T) {
	w := hashindex.NewWriter(&bytes.Buffer{}, nil)
	if err := w.Add([]byte("k"), hashindex.MaxAddress); err == nil {
		t.Fatal("Add accepted an address of 2^40")
	}
	if _, err := w.Close(); err == nil {
		t.Fatal("Close after a failed Add succeeded")
	}
}

// Ensure that truncations and bit flips give an error from Load or Verify,
// and that probing a damaged table never panics.
func TestIndex_Corruption(t *testing.T) {
	s := newStore(keys(300, "key"))
	data := build(t, s, &hashindex.WriterOptions{Seed: 7})
	for n := range len(data) {
		if _, err := hashindex.Load(data[:n]); !errors.Is(err, hashindex.ErrCorrupt) {
			t.Fatalf("Load of %d/%d bytes: %v", n, len(data), err)
		}
	}
	flipEach(t, data, 1, func(x *hashindex.Index) error { return x.Verify(s.keyAt) }, func(x *hashindex.Index) {
		for _, k := range s.keys {
			s.get(x, k) // must not panic; a wrong candidate is rejected by the key
		}
	})
}

// flipEach flips one random bit of each byte of data in turn: Load must
// fail with a sentinel, or verify must report ErrCorrupt; probe then looks
// keys up in the damaged index, which must not panic.
func flipEach(t *testing.T, data []byte, seed uint64, verify func(*hashindex.Index) error, probe func(*hashindex.Index)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	for pos := range data {
		d := bytes.Clone(data)
		d[pos] ^= 1 << rng.IntN(8)
		x, err := hashindex.Load(d)
		if err != nil {
			if !errors.Is(err, hashindex.ErrCorrupt) && !errors.Is(err, hashindex.ErrMagic) && !errors.Is(err, hashindex.ErrVersion) {
				t.Fatalf("flip at %d: Load: %v wraps no sentinel", pos, err)
			}
			continue
		}
		if err := verify(x); !errors.Is(err, hashindex.ErrCorrupt) {
			t.Fatalf("flip at %d: verify: %v, want ErrCorrupt", pos, err)
		}
		probe(x)
	}
}

// Ensure that the bytes of a small index never change: the hash function,
// the seed handling and the placement are part of the format.
// Regenerate with: go test ./hashindex -run Golden -update
func TestGolden(t *testing.T) {
	s := &store{keys: [][]byte{[]byte("a"), []byte("b"), []byte("c")}, addrs: []uint64{16, 21, 25}, at: map[uint64][]byte{16: []byte("a"), 21: []byte("b"), 25: []byte("c")}}
	data := build(t, s, &hashindex.WriterOptions{Seed: 1})
	path := filepath.Join("testdata", "golden.hix")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x, err := hashindex.Load(want)
	if err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	for i := range x.Slots() {
		fmt.Fprintf(&dump, "slot %d: %016x\n", i, x.Entry(i))
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("writer output changed:\n got % x\nwant % x\n%s", data, want, dump.String())
	}
	// XXH3-64 itself is pinned: these are the reference library's values
	// (XXH3_64bits_withSeed, libxxhash 0.8.1 via Debian's python3-xxhash),
	// so a C reader computes the same homes.
	for _, tc := range []struct {
		key  string
		seed uint64
		want uint64
	}{
		{"", 0, 0x2d06800538d394c2},
		{"a", 1, 0xd2f6d0996f37a720},
		{"b", 1, 0x99009138a3452320},
		{"c", 1, 0x14e640bdb537802d},
		{"https://example.com/a", 0x1234567890abcdef, 0xf06e33310f93c822},
		{string(bytes.Repeat([]byte("x"), 300)), 5, 0xd0514304799cf8f7},
	} {
		if got := hashindex.Hash([]byte(tc.key), tc.seed); got != tc.want {
			t.Errorf("XXH3-64(%q, %d) = %016x, want %016x", tc.key, tc.seed, got, tc.want)
		}
	}
	if err := x.Verify(s.keyAt); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + dump.String())
}

// Ensure Prefetch accepts every hash, including ones whose home is the
// last slot (the second line it prefetches lies past the table), and
// allocates nothing.
func TestIndex_PrefetchAnyHash(t *testing.T) {
	s := newStore(keys(100, "k"))
	x, err := hashindex.Load(build(t, s, &hashindex.WriterOptions{Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	hashes := []uint64{0, 1, 1 << 63, ^uint64(0), ^uint64(0) - 1}
	if a := testing.AllocsPerRun(10, func() {
		for _, h := range hashes {
			x.Prefetch(h)
		}
	}); a != 0 {
		t.Fatalf("%v allocs", a)
	}
}
