package fst_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kvdict/kvdict/fst"
)

// kv is one key and its value.
type kv struct {
	k []byte
	v uint64
}

// build writes kvs (already sorted and unique) into an FST file and
// returns its bytes.
func build(t testing.TB, kvs []kv, opts *fst.BuilderOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	b, err := fst.NewBuilder(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range kvs {
		if err := b.Add(e.k, e.v); err != nil {
			t.Fatal(err)
		}
	}
	ft, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ft.Count != uint64(len(kvs)) {
		t.Fatalf("footer count %d, want %d", ft.Count, len(kvs))
	}
	return buf.Bytes()
}

// mustLoad builds kvs and loads the result.
func mustLoad(t testing.TB, kvs []kv) *fst.FST {
	t.Helper()
	f, err := fst.Load(build(t, kvs, nil))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// quick reports whether the heavy tests should scale down: in -short mode
// and under the race detector, which makes them 10 to 20 times slower.
func quick() bool { return testing.Short() || raceEnabled }

// randomKVs returns n unique random keys, sorted, with random values,
// including the empty key, binary keys and a few 4 KB keys.
func randomKVs(n int, seed uint64) []kv {
	r := rand.New(rand.NewPCG(seed, 42))
	m := map[string]uint64{"": r.Uint64()}
	for len(m) < n {
		var k []byte
		switch x := r.IntN(1000); {
		case x < 2:
			k = make([]byte, 4096)
			for i := range k {
				k[i] = byte(r.IntN(4)) + 'a'
			}
		case x < 300: // binary, not UTF-8
			k = make([]byte, 1+r.IntN(12))
			for i := range k {
				k[i] = byte(r.Uint32())
			}
		default: // text with shared prefixes
			k = fmt.Appendf(nil, "%s/%d/%x", []string{"alpha", "beta", "gamma", "δέλτα"}[r.IntN(4)], r.IntN(1000), r.Uint32())
		}
		m[string(k)] = r.Uint64() >> uint(r.IntN(64))
	}
	kvs := make([]kv, 0, len(m))
	for k, v := range m {
		kvs = append(kvs, kv{[]byte(k), v})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	return kvs
}

// Ensure every key and value round-trips, absent keys are absent, and a
// full scan yields exactly the input, in order.
func TestRoundTrip(t *testing.T) {
	n := 200_000
	if quick() {
		n = 20_000
	}
	kvs := randomKVs(n, 1)
	f := mustLoad(t, kvs)
	if f.Len() != len(kvs) {
		t.Fatalf("Len %d, want %d", f.Len(), len(kvs))
	}
	for _, e := range kvs {
		v, ok, err := f.Get(e.k)
		if err != nil || !ok || v != e.v {
			t.Fatalf("Get(%q) = %d, %v, %v; want %d", e.k, v, ok, err, e.v)
		}
		miss := append(bytes.Clone(e.k), 0xfe, 0x00)
		if _, ok, err := f.Get(miss); ok || err != nil {
			if i, found := slices.BinarySearchFunc(kvs, miss, func(a kv, k []byte) int { return bytes.Compare(a.k, k) }); !found {
				t.Fatalf("Get(%q) = %v, %v for an absent key (%d)", miss, ok, err, i)
			}
		}
	}
	it := f.Range(nil, nil)
	i := 0
	for it.Next() {
		if i >= len(kvs) || !bytes.Equal(it.Key(), kvs[i].k) || it.Value() != kvs[i].v {
			t.Fatalf("scan #%d: %q=%d", i, it.Key(), it.Value())
		}
		i++
	}
	if err := it.Err(); err != nil || i != len(kvs) {
		t.Fatalf("scan: %d keys, err %v; want %d", i, err, len(kvs))
	}
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
}

// Ensure an empty FST loads, has no keys and verifies.
func TestEmpty(t *testing.T) {
	f := mustLoad(t, nil)
	if f.Len() != 0 {
		t.Fatal(f.Len())
	}
	if _, ok, err := f.Get(nil); ok || err != nil {
		t.Fatal(ok, err)
	}
	it := f.Range(nil, nil)
	if it.Next() || it.Err() != nil {
		t.Fatal("empty FST yielded a key", it.Err())
	}
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
}

// Ensure out-of-order and duplicate keys are rejected with both keys
// named, and that the error is sticky.
func TestBuilder_Order(t *testing.T) {
	for _, tc := range []struct {
		second string
		want   error
	}{{"b", fst.ErrDuplicate}, {"a", fst.ErrOutOfOrder}} {
		b, err := fst.NewBuilder(&bytes.Buffer{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add([]byte("b"), 1); err != nil {
			t.Fatal(err)
		}
		err = b.Add([]byte(tc.second), 2)
		if !errors.Is(err, tc.want) {
			t.Fatalf("Add(%q) = %v, want %v", tc.second, err, tc.want)
		}
		if msg := err.Error(); !bytes.Contains([]byte(msg), []byte(`"b"`)) || !bytes.Contains([]byte(msg), []byte(fmt.Sprintf("%q", tc.second))) {
			t.Fatalf("error %q does not name both keys", msg)
		}
		if err2 := b.Add([]byte("z"), 3); err2 != err {
			t.Fatalf("not sticky: %v", err2)
		}
		if _, err2 := b.Close(); err2 != err {
			t.Fatalf("Close not sticky: %v", err2)
		}
	}
}

// Ensure a key longer than MaxKeyLen is rejected (sticky), and one of
// exactly MaxKeyLen bytes is accepted and found.
func TestBuilder_KeyTooLong(t *testing.T) {
	long := bytes.Repeat([]byte("k"), fst.MaxKeyLen)
	f := mustLoad(t, []kv{{long, 7}})
	if v, ok, err := f.Get(long); !ok || v != 7 || err != nil {
		t.Fatalf("Get(max-length key) = %d, %v, %v", v, ok, err)
	}
	if _, ok, err := f.Get(append(long, 'k')); ok || err != nil {
		t.Fatalf("Get(too long) = %v, %v", ok, err)
	}
	b, _ := fst.NewBuilder(&bytes.Buffer{}, nil)
	err := b.Add(append(long, 'k'), 1)
	if !errors.Is(err, fst.ErrKeyTooLong) {
		t.Fatalf("Add(too long) = %v", err)
	}
	if len(err.Error()) > 300 {
		t.Fatalf("error message of %d bytes: the key is not truncated", len(err.Error()))
	}
	if err2 := b.Add([]byte("a"), 1); err2 != err {
		t.Fatalf("not sticky: %v", err2)
	}
}

// Ensure Len counts keys, Close returns the footer, and a closed builder
// refuses more work.
func TestBuilder_LenClose(t *testing.T) {
	var buf bytes.Buffer
	b, _ := fst.NewBuilder(&buf, nil)
	for i := range 10 {
		if err := b.Add(fmt.Appendf(nil, "k%02d", i), uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if b.Len() != 10 {
		t.Fatalf("Len %d", b.Len())
	}
	ft, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ft.Count != 10 || int(ft.BodyLen)+16+32 != buf.Len() {
		t.Fatalf("footer %+v for a %d-byte file", ft, buf.Len())
	}
	if err := b.Add([]byte("z"), 1); !errors.Is(err, fst.ErrClosed) {
		t.Fatalf("Add after Close = %v", err)
	}
	if _, err := b.Close(); !errors.Is(err, fst.ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
	f, err := fst.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Footer() != ft || f.Size() != buf.Len() {
		t.Fatalf("Footer %+v Size %d", f.Footer(), f.Size())
	}
}

// Ensure invalid options are rejected and every registry setting gives
// the same keys and values.
func TestBuilderOptions(t *testing.T) {
	if _, err := fst.NewBuilder(&bytes.Buffer{}, &fst.BuilderOptions{RegistryMRUSize: -1}); err == nil {
		t.Fatal("negative MRU accepted")
	}
	if _, err := fst.NewBuilder(&bytes.Buffer{}, &fst.BuilderOptions{RegistryTableSize: 1 << 30}); err == nil {
		t.Fatal("huge registry accepted")
	}
	kvs := randomKVs(5000, 3)
	for _, o := range []*fst.BuilderOptions{nil, {RegistryTableSize: -1}, {RegistryTableSize: 1, RegistryMRUSize: 1}, {RegistryTableSize: 100000, RegistryMRUSize: 4}} {
		f, err := fst.Load(build(t, kvs, o))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range kvs {
			if v, ok, err := f.Get(e.k); !ok || v != e.v || err != nil {
				t.Fatalf("opts %+v: Get(%q) = %d, %v, %v", o, e.k, v, ok, err)
			}
		}
	}
}

// failWriter accepts n bytes, then fails every write.
type failWriter struct{ n int }

var errDiskFull = errors.New("test: disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	return n, errDiskFull
}

// Ensure a failing writer is reported by Add soon after the failure (not
// only at Close, as vellum alone would), and stays reported.
func TestBuilder_WriteError(t *testing.T) {
	kvs := randomKVs(100_000, 4)
	b, err := fst.NewBuilder(&failWriter{n: 1000}, &fst.BuilderOptions{RegistryTableSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	var addErr error
	added := 0
	for _, e := range kvs {
		if addErr = b.Add(e.k, e.v); addErr != nil {
			break
		}
		added++
	}
	if !errors.Is(addErr, errDiskFull) {
		t.Fatalf("after %d of %d keys: Add = %v, want %v", added, len(kvs), addErr, errDiskFull)
	}
	if added == len(kvs) {
		t.Fatal("write error not surfaced before the last key")
	}
	if _, err := b.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close = %v", err)
	}
	// A writer failing in Close's flush is caught there.
	b, _ = fst.NewBuilder(&failWriter{n: 20}, nil)
	if err := b.Add([]byte("a"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close = %v", err)
	}
}

// Ensure lookups from many goroutines agree with the input (run with
// -race to check for data races on the pooled readers).
func TestGet_Concurrent(t *testing.T) {
	kvs := randomKVs(20_000, 5)
	f := mustLoad(t, kvs)
	done := make(chan error)
	for g := range 8 {
		go func() {
			for i := g; i < len(kvs); i += 3 {
				v, ok, err := f.Get(kvs[i].k)
				if err != nil || !ok || v != kvs[i].v {
					done <- fmt.Errorf("Get(%q) = %d, %v, %v", kvs[i].k, v, ok, err)
					return
				}
			}
			it := f.Prefix([]byte("beta/"))
			for it.Next() {
			}
			done <- it.Err()
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// Ensure Get and GetPrefetch do not allocate, hits and misses alike, also
// under the race detector: the walker has no pool whose items it could
// drop.
func TestGet_Allocs(t *testing.T) {
	kvs := randomKVs(2000, 6)
	f := mustLoad(t, kvs)
	hit, miss := kvs[1000].k, []byte("no such key")
	values := make([]byte, 1<<16)
	allocs := testing.AllocsPerRun(1000, func() {
		f.Get(hit)
		f.Get(miss)
		f.GetPrefetch(hit, values)
		f.GetPrefetch(miss, values)
	})
	if allocs != 0 {
		t.Fatalf("Get allocates %.1f times per call pair", allocs)
	}
}

// Ensure MinKey and MaxKey return the ends, including the empty key.
func TestMinMaxKey(t *testing.T) {
	for _, keys := range [][]string{{}, {""}, {"", "a"}, {"a", "b\xff\xff"}, {"abc"}} {
		var kvs []kv
		for i, k := range keys {
			kvs = append(kvs, kv{[]byte(k), uint64(i)})
		}
		f := mustLoad(t, kvs)
		lo, okLo, err1 := f.MinKey()
		hi, okHi, err2 := f.MaxKey()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if okLo != (len(keys) > 0) || okHi != okLo {
			t.Fatalf("%q: ok %v %v", keys, okLo, okHi)
		}
		if okLo && (string(lo) != keys[0] || string(hi) != keys[len(keys)-1]) {
			t.Fatalf("%q: min %q max %q", keys, lo, hi)
		}
	}
}
