package valuelog_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/valuelog"
)

// buildKeyed writes keys and vals as keyed records (version 2) and returns
// the file bytes and each key's record offset.
func buildKeyed(t testing.TB, opts *valuelog.WriterOptions, keys, vals [][]byte) ([]byte, []uint64) {
	t.Helper()
	o := valuelog.WriterOptions{Keyed: true}
	if opts != nil {
		o = *opts
		o.Keyed = true
	}
	var buf bytes.Buffer
	w, err := valuelog.NewWriter(&buf, &o)
	if err != nil {
		t.Fatal(err)
	}
	offs := make([]uint64, len(keys))
	for i := range keys {
		if offs[i], err = w.AppendKeyed(keys[i], vals[i]); err != nil {
			t.Fatalf("AppendKeyed #%d: %v", i, err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), offs
}

// keyedData returns n sorted keys with values drawn from a small set (so
// many are shared by reference), some empty, some long.
func keyedData(n int) (keys, vals [][]byte) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := [][]byte{{}, []byte("x"), []byte("a shared value that is long enough to be referenced"), bytes.Repeat([]byte("z"), 300)}
	for i := range n {
		keys = append(keys, fmt.Appendf(nil, "key-%08d", i))
		if rng.IntN(3) == 0 {
			vals = append(vals, pool[rng.IntN(len(pool))])
		} else {
			vals = append(vals, fmt.Appendf(nil, "value %d %x", i, rng.Uint64()))
		}
	}
	return keys, vals
}

// Ensure that keyed records return their key and value by offset, by
// Match and in order from the iterator, and that shared values become
// references.
func TestKeyed_RoundTrip(t *testing.T) {
	keys, vals := keyedData(5000)
	keys = append(keys, bytes.Repeat([]byte{0xff}, valuelog.MaxKeyLen))
	vals = append(vals, []byte("longest key"))
	data, offs := buildKeyed(t, nil, keys, vals)
	l := mustLoad(t, data)
	if !l.Keyed() || l.Version() != valuelog.VersionKeyed || l.Len() != uint64(len(keys)) {
		t.Fatalf("Keyed %v, Version %d, Len %d; want true, 2, %d", l.Keyed(), l.Version(), l.Len(), len(keys))
	}
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		k, v, err := l.Record(offs[i])
		if err != nil || !bytes.Equal(k, keys[i]) || !bytes.Equal(v, vals[i]) {
			t.Fatalf("Record(%d) = %q, %q, %v; want %q, %q", offs[i], k, v, err, keys[i], vals[i])
		}
		if v2, err := l.Value(offs[i]); err != nil || !bytes.Equal(v2, vals[i]) {
			t.Fatalf("Value(%d) = %q, %v; want %q", offs[i], v2, err, vals[i])
		}
		if v3, ok, err := l.Match(offs[i], keys[i]); !ok || err != nil || !bytes.Equal(v3, vals[i]) {
			t.Fatalf("Match(%d, own key) = %q, %v, %v", offs[i], v3, ok, err)
		}
		other := keys[(i+1)%len(keys)]
		if _, ok, err := l.Match(offs[i], other); ok || err != nil {
			t.Fatalf("Match(%d, %q) = %v, %v; want no match", offs[i], other, ok, err)
		}
	}
	it := l.Iter()
	i := 0
	for it.Next() {
		if it.Offset() != offs[i] || !bytes.Equal(it.Key(), keys[i]) || !bytes.Equal(it.Value(), vals[i]) {
			t.Fatalf("record %d: iterator gives %d %q %q", i, it.Offset(), it.Key(), it.Value())
		}
		i++
	}
	if it.Err() != nil || i != len(keys) {
		t.Fatalf("iterated %d of %d: %v", i, len(keys), it.Err())
	}
	st := l.Len()
	if st != uint64(len(keys)) {
		t.Fatalf("records %d, want one per key (%d)", st, len(keys))
	}
	// Seek starts mid-log.
	it = l.Iter()
	it.Seek(offs[4000])
	if !it.Next() || !bytes.Equal(it.Key(), keys[4000]) {
		t.Fatalf("after Seek: %q, %v", it.Key(), it.Err())
	}
	// Shared values were written once: the log is smaller than without dedup.
	raw, _ := buildKeyed(t, &valuelog.WriterOptions{DedupBytes: -1}, keys, vals)
	if len(data) >= len(raw) {
		t.Fatalf("with dedup %d bytes, without %d: no value was shared", len(data), len(raw))
	}
	if _, err := valuelog.NewWriter(&bytes.Buffer{}, nil); err != nil {
		t.Fatal(err)
	}
}

// Ensure that Append and AppendKeyed refuse the other form, and that keyed
// accessors refuse a value-only log.
func TestKeyed_Mismatch(t *testing.T) {
	w, _ := valuelog.NewWriter(&bytes.Buffer{}, &valuelog.WriterOptions{Keyed: true})
	if _, err := w.Append([]byte("v")); !errors.Is(err, valuelog.ErrKeyed) {
		t.Fatalf("Append on a keyed writer: %v", err)
	}
	w, _ = valuelog.NewWriter(&bytes.Buffer{}, nil)
	if _, err := w.AppendKeyed([]byte("k"), []byte("v")); !errors.Is(err, valuelog.ErrKeyed) {
		t.Fatalf("AppendKeyed on a value-only writer: %v", err)
	}
	data, offs := build(t, nil, [][]byte{[]byte("v")})
	l := mustLoad(t, data)
	if _, _, err := l.Record(offs[0]); !errors.Is(err, valuelog.ErrKeyed) {
		t.Fatalf("Record on a v1 log: %v", err)
	}
}

// Ensure that truncation and every single-bit flip of a keyed log give an
// error from Load or Verify, never a panic, and that reads of damaged
// records stay in bounds.
func TestKeyed_Corruption(t *testing.T) {
	keys, vals := keyedData(40)
	data, offs := buildKeyed(t, nil, keys, vals)
	for n := range len(data) {
		if _, err := valuelog.Load(data[:n]); !errors.Is(err, valuelog.ErrCorrupt) {
			t.Fatalf("Load of %d/%d bytes: %v, want ErrCorrupt", n, len(data), err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for pos := range data {
		d := bytes.Clone(data)
		d[pos] ^= 1 << rng.IntN(8)
		l, err := valuelog.Load(d)
		if err != nil {
			continue
		}
		if err := l.Verify(); !errors.Is(err, valuelog.ErrCorrupt) {
			t.Fatalf("flip at %d: Verify: %v, want ErrCorrupt", pos, err)
		}
		for off := uint64(0); off < uint64(len(d)+2); off += 1 + uint64(rng.IntN(16)) {
			k, v, err := l.Record(off)
			if err != nil && !errors.Is(err, valuelog.ErrCorrupt) {
				t.Fatalf("flip at %d: Record(%d): %v", pos, off, err)
			}
			if err == nil && (cap(v) != len(v) || cap(k) != len(k)) {
				t.Fatalf("flip at %d: Record(%d) slices exceed their length", pos, off)
			}
		}
		for i, off := range offs {
			l.Match(off, keys[i])
		}
	}
}

// Ensure that hand-made malformed keyed bodies are rejected with a reason.
func TestKeyed_Structure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		count uint64
	}{
		{"unknown tag", "\x02\x01a\x00", 1},
		{"key past end", "\x00\x09a\x00", 1},
		{"value past end", "\x00\x01a\x05x", 1},
		{"reference to itself", "\x01\x01a\x00", 1},
		{"reference before the body", "\x00\x01a\x00\x01\x01b\x09", 2},
		{"reference to a reference", "\x00\x01a\x01x\x01\x01b\x05\x01\x01c\x04", 3},
		{"key length over 65535", "\x00\x80\x80\x04", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := rawKeyed(t, []byte(tc.body), tc.count)
			l, err := valuelog.Load(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Verify(); !errors.Is(err, valuelog.ErrCorrupt) {
				t.Fatalf("Verify: %v, want ErrCorrupt", err)
			}
		})
	}
}

// Ensure that the bytes of a version 2 (keyed) log never change.
// Regenerate with: go test ./valuelog -run GoldenKeyed -update
func TestGoldenKeyed(t *testing.T) {
	path := filepath.Join("testdata", "golden-v2.vlog")
	keys := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	vals := [][]byte{[]byte("x"), {}, []byte("x")}
	data, offs := buildKeyed(t, nil, keys, vals)
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("writer output changed:\n got % x\nwant % x", data, want)
	}
	if fmt.Sprint(offs) != "[16 21 25]" {
		t.Fatalf("offsets %v, want [16 21 25]", offs)
	}
	l := mustLoad(t, want)
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
}

// rawKeyed frames a keyed (version 2) body by hand with valid checksums.
func rawKeyed(t testing.TB, body []byte, count uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := frame.NewWriter(&buf, frame.Header{Magic: valuelog.Magic, Version: valuelog.VersionKeyed}, 0)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(body)
	if _, err := fw.Finish(count); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Ensure Prefetch and Touch accept any offset and length, inside the file
// or far past it, plain and compressed, without panicking or allocating.
func TestLog_PrefetchAnyOffset(t *testing.T) {
	keys := [][]byte{[]byte("a"), []byte("b")}
	vals := [][]byte{[]byte("1"), []byte("2")}
	data, offs := buildKeyed(t, nil, keys, vals)
	l := mustLoad(t, data)
	for _, off := range []uint64{0, offs[1], uint64(len(data)) - 1, uint64(len(data)), 1 << 40, ^uint64(0)} {
		for _, n := range []int{0, 3, len(data), 1 << 30} {
			if a := testing.AllocsPerRun(1, func() { l.Prefetch(off, n); l.Touch(off, n) }); a != 0 {
				t.Fatalf("Prefetch(%d, %d): %v allocs", off, n, a)
			}
		}
	}
}
