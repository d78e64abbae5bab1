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

// randomKVs returns n unique random keys, sorted, with random values,
// including the empty key, binary keys and a few 4 KB keys.
func randomKVs(n int, seed uint64) []kv {
	r := rand.New(rand.NewPCG(seed, 42))
	m := map[string]uint64{"": r.Uint64()}
	for len(m) < n {
		var k []byte
		switch x := r.IntN(100); {
		case x < 1:
			k = make([]byte, 4096)
			for i := range k {
				k[i] = byte(r.IntN(4)) + 'a'
			}
		case x < 30: // binary, not UTF-8
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
	if testing.Short() {
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
