package valuelog_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/valuelog"
)

var update = flag.Bool("update", false, "rewrite testdata/golden-v1.vlog")

// build writes vals to a value log and returns the file bytes and offsets.
func build(t testing.TB, opts *valuelog.WriterOptions, vals [][]byte) ([]byte, []uint64) {
	t.Helper()
	var buf bytes.Buffer
	w, err := valuelog.NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	offs := make([]uint64, len(vals))
	for i, v := range vals {
		if offs[i], err = w.Append(v); err != nil {
			t.Fatalf("Append #%d: %v", i, err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), offs
}

// mustLoad loads data and fails the test on error.
func mustLoad(t testing.TB, data []byte) *valuelog.Log {
	t.Helper()
	l, err := valuelog.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// checkAll checks that every value comes back from its offset.
func checkAll(t testing.TB, l *valuelog.Log, vals [][]byte, offs []uint64) {
	t.Helper()
	for i, v := range vals {
		got, err := l.Value(offs[i])
		if err != nil {
			t.Fatalf("Value(%d) for #%d: %v", offs[i], i, err)
		}
		if !bytes.Equal(got, v) {
			t.Fatalf("Value(%d) for #%d = %q (len %d), want %q (len %d)", offs[i], i, trunc(got), len(got), trunc(v), len(v))
		}
	}
}

func trunc(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// Ensure that a small log round-trips, dedups and has the documented offsets.
func TestRoundTrip_Basic(t *testing.T) {
	vals := [][]byte{[]byte("a"), {}, []byte("hello"), []byte("a"), bytes.Repeat([]byte{0xff, 0}, 1000)}
	data, offs := build(t, nil, vals)
	l := mustLoad(t, data)
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, l, vals, offs)
	if offs[0] != frame.HeaderLen || offs[3] != offs[0] {
		t.Fatalf("offsets %v: want first at 16 and \"a\" deduplicated", offs)
	}
	if l.Len() != 4 || l.Size() != len(data) {
		t.Fatalf("Len, Size = %d, %d; want 4, %d", l.Len(), l.Size(), len(data))
	}
}

// Ensure that 1M random values (lengths 0..64, binary) plus multi-MB and
// empty values round-trip, with dedup on and off.
func TestRoundTrip_Million(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	} else if raceEnabled {
		n = 100_000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([][]byte, 0, n+8)
	for range n {
		v := make([]byte, rng.IntN(65))
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		if len(v) > 0 && rng.IntN(4) == 0 {
			v = v[:min(len(v), 1+rng.IntN(2))] // short values repeat often: exercises dedup
		}
		vals = append(vals, v)
	}
	for _, size := range []int{3 << 20, 8<<20 + 7} {
		big := make([]byte, size)
		for j := range big {
			big[j] = byte(j * 31)
		}
		at := rng.IntN(len(vals))
		vals = append(vals[:at], append([][]byte{big, nil, {}}, vals[at:]...)...)
	}
	for _, opts := range []*valuelog.WriterOptions{nil, {DedupBytes: -1}} {
		t.Run(fmt.Sprintf("opts=%+v", opts), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := valuelog.NewWriter(&buf, opts)
			if err != nil {
				t.Fatal(err)
			}
			offs := make([]uint64, len(vals))
			for i, v := range vals {
				if offs[i], err = w.Append(v); err != nil {
					t.Fatal(err)
				}
			}
			f, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			st := w.Stats()
			data := buf.Bytes()
			if st.Appends != uint64(len(vals)) || st.Records+st.DedupHits != st.Appends || st.BytesWritten != uint64(len(data)) {
				t.Fatalf("Stats = %+v for %d values, %d bytes", st, len(vals), len(data))
			}
			if opts == nil && st.DedupHits == 0 || opts != nil && st.DedupHits != 0 {
				t.Fatalf("DedupHits = %d with opts %+v", st.DedupHits, opts)
			}
			l := mustLoad(t, data)
			if l.Len() != st.Records || f.Count != st.Records || l.Footer() != f {
				t.Fatalf("Len = %d, footer %+v, Records %d", l.Len(), f, st.Records)
			}
			if err := l.Verify(); err != nil {
				t.Fatal(err)
			}
			checkAll(t, l, vals, offs)
			// A full scan visits each record once, in offset order.
			var recs uint64
			last := uint64(0)
			for off, v := range l.All() {
				if off <= last {
					t.Fatalf("All: offset %d after %d", off, last)
				}
				if got, _ := l.Value(off); !bytes.Equal(got, v) {
					t.Fatalf("All: value at %d differs from Value", off)
				}
				last = off
				recs++
			}
			if recs != l.Len() {
				t.Fatalf("All visited %d records, want %d", recs, l.Len())
			}
		})
	}
}

// Ensure that identical values share a record and different values never do.
func TestDedup_Identical(t *testing.T) {
	// A handful of hot values: with thousands of sets of 2 slots, they
	// cannot crowd each other out (3 in one set: odds about 1e-9).
	var vals [][]byte
	for i := range 1000 {
		vals = append(vals, fmt.Appendf(nil, "value-%d", i%2), []byte{})
	}
	data, offs := build(t, nil, vals)
	l := mustLoad(t, data)
	checkAll(t, l, vals, offs)
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3 distinct values", l.Len())
	}
	checkSharing(t, vals, offs, true)

	// Many values: sharing is best effort (the cache is bounded), but
	// different values must never share, and most repeats must hit.
	vals = vals[:0]
	for i := range 5000 {
		vals = append(vals, fmt.Appendf(nil, "value-%d", i%500))
	}
	data, offs = build(t, nil, vals)
	l = mustLoad(t, data)
	checkAll(t, l, vals, offs)
	checkSharing(t, vals, offs, false)
	if l.Len() >= 600 {
		t.Fatalf("Len = %d for 500 distinct values: dedup mostly missed", l.Len())
	}
}

// checkSharing checks that different values never share an offset and, if
// all is set, that identical values always do.
func checkSharing(t *testing.T, vals [][]byte, offs []uint64, all bool) {
	t.Helper()
	byVal := map[string]uint64{}
	byOff := map[uint64]string{}
	for i, v := range vals {
		if o, ok := byVal[string(v)]; all && ok && o != offs[i] {
			t.Fatalf("%q at offsets %d and %d", v, o, offs[i])
		}
		if s, ok := byOff[offs[i]]; ok && s != string(v) {
			t.Fatalf("offset %d shared by %q and %q", offs[i], s, v)
		}
		byVal[string(v)], byOff[offs[i]] = offs[i], string(v)
	}
}

// Ensure that the dedup cache never returns a wrong offset, however many
// values collide on its slots: tiny budgets (1 or 2 slots, a ring of a few
// bytes), values drawn from a small set of lookalikes (same length, shared
// prefixes, differing in one byte) so hits, misses, evictions and ring
// overwrites all happen constantly.
func TestDedup_Adversarial(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var pool [][]byte
	for l := range 12 {
		for b := range 4 {
			v := bytes.Repeat([]byte{'x'}, l)
			if l > 0 {
				v[rng.IntN(l)] = byte('a' + b)
			}
			pool = append(pool, v)
		}
	}
	for _, budget := range []int{1, 64, 127, 128, 129, 200, 256, 1000, 4096, 1 << 16} {
		vals := make([][]byte, 20000)
		for i := range vals {
			vals[i] = pool[rng.IntN(len(pool))]
		}
		data, offs := build(t, &valuelog.WriterOptions{DedupBytes: budget}, vals)
		l := mustLoad(t, data)
		checkAll(t, l, vals, offs)
		if err := l.Verify(); err != nil {
			t.Fatal(err)
		}
		t.Logf("budget %d: %d records for %d values", budget, l.Len(), len(vals))
	}
}

// Ensure that Load rejects damaged files with the right sentinel, and that
// a flipped byte anywhere is caught by Load or Verify while Value, at any
// offset, never panics.
func TestCorruption(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var vals [][]byte
	for i := range 60 {
		vals = append(vals, bytes.Repeat([]byte{byte(i)}, rng.IntN(20)))
	}
	vals = append(vals, make([]byte, 300)) // a 2-byte length varint
	data, offs := build(t, &valuelog.WriterOptions{DedupBytes: -1}, vals)

	t.Run("truncated", func(t *testing.T) {
		for n := range len(data) {
			if _, err := valuelog.Load(data[:n]); !errors.Is(err, valuelog.ErrCorrupt) {
				t.Fatalf("Load of %d/%d bytes: %v, want ErrCorrupt", n, len(data), err)
			}
		}
		if _, err := valuelog.Load(append(bytes.Clone(data), 0)); !errors.Is(err, valuelog.ErrCorrupt) {
			t.Fatalf("Load with a trailing byte: %v, want ErrCorrupt", err)
		}
	})
	t.Run("magic", func(t *testing.T) {
		d := bytes.Clone(data)
		copy(d, "kvdFST\x00\x00")
		if _, err := valuelog.Load(d); !errors.Is(err, valuelog.ErrMagic) {
			t.Fatalf("Load: %v, want ErrMagic", err)
		}
	})
	t.Run("version", func(t *testing.T) {
		d := bytes.Clone(data)
		d[8] = valuelog.Version + 1
		if _, err := valuelog.Load(d); !errors.Is(err, valuelog.ErrVersion) {
			t.Fatalf("Load: %v, want ErrVersion", err)
		}
	})
	t.Run("flip", func(t *testing.T) {
		for pos := range data {
			d := bytes.Clone(data)
			d[pos] ^= 1 << rng.IntN(8)
			l, err := valuelog.Load(d)
			if err != nil {
				if !errors.Is(err, valuelog.ErrCorrupt) && !errors.Is(err, valuelog.ErrMagic) && !errors.Is(err, valuelog.ErrVersion) {
					t.Fatalf("flip at %d: Load: %v, want a kvdict sentinel", pos, err)
				}
				continue
			}
			if err := l.Verify(); !errors.Is(err, valuelog.ErrCorrupt) {
				t.Fatalf("flip at %d: Verify: %v, want ErrCorrupt", pos, err)
			}
			for off := range uint64(len(d) + 2) {
				if v, err := l.Value(off); err == nil && cap(v) != len(v) {
					t.Fatalf("flip at %d: Value(%d) has cap %d > len %d", pos, off, cap(v), len(v))
				}
			}
			for _, off := range offs {
				l.Value(off)
			}
		}
	})
}

// rawLog frames body by hand (valid checksums) so that structural checks
// can be tested apart from the CRC.
func rawLog(t testing.TB, flags uint32, body []byte, count uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := frame.NewWriter(&buf, frame.Header{Magic: valuelog.Magic, Version: valuelog.VersionValues, Flags: flags}, 0)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(body)
	if _, err := fw.Finish(count); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Ensure that Load and Verify catch malformed bodies whose checksums are
// right, each with its own sentinel and reason.
func TestVerify_Structure(t *testing.T) {
	tests := []struct {
		name    string
		flags   uint32
		body    string
		count   uint64
		loadErr error
		err     string // substring of the Verify error; "" = no error
	}{
		{name: "empty", body: "", count: 0},
		{name: "ok", body: "\x01a\x00\x02bc", count: 3},
		{name: "runs past end", body: "\x05ab", count: 1, err: "length 5 runs past the end"},
		{name: "varint truncated", body: "\x01a\x80", count: 2, err: "record at offset 18: length varint truncated"},
		{name: "varint overflow", body: strings.Repeat("\x80", 10) + "\x01", count: 1, err: "length varint longer"},
		{name: "extra record", body: "\x01a\x00", count: 1, err: "past the 1 records the footer counts"},
		{name: "missing record", body: "\x01a", count: 2, err: "body holds 1 records, footer says 2"},
		{name: "count over body", body: "\x00", count: 2, loadErr: valuelog.ErrCorrupt},
		{name: "codec 1 without its trailer", flags: 1, body: "", count: 0, loadErr: valuelog.ErrCorrupt},
		{name: "codec 2", flags: 2, body: "", count: 0, loadErr: valuelog.ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := valuelog.Load(rawLog(t, tt.flags, []byte(tt.body), tt.count))
			if tt.loadErr != nil {
				if !errors.Is(err, tt.loadErr) {
					t.Fatalf("Load: %v, want %v", err, tt.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = l.Verify()
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, valuelog.ErrCorrupt) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Verify: %v, want ErrCorrupt with %q", err, tt.err)
			}
		})
	}
}

// Ensure that Value rejects offsets outside the body with ErrCorrupt and an
// error naming the offset.
func TestValue_BadOffsets(t *testing.T) {
	data, _ := build(t, nil, [][]byte{[]byte("a"), []byte("bc")})
	l := mustLoad(t, data)
	end := uint64(len(data) - frame.FooterLen)
	for _, off := range []uint64{0, 1, 15, end, end + 1, uint64(len(data)), math.MaxUint32 + 16, math.MaxInt64, math.MaxUint64} {
		v, err := l.Value(off)
		if !errors.Is(err, valuelog.ErrCorrupt) || v != nil {
			t.Fatalf("Value(%d) = %q, %v; want ErrCorrupt", off, v, err)
		}
		if want := fmt.Sprintf("offset %d:", off); !strings.Contains(err.Error(), want) {
			t.Fatalf("Value(%d): %q does not name the offset", off, err)
		}
	}
	// An empty log has no valid offset at all.
	empty, _ := build(t, nil, nil)
	for off := range uint64(len(empty) + 1) {
		if _, err := mustLoad(t, empty).Value(off); !errors.Is(err, valuelog.ErrCorrupt) {
			t.Fatalf("empty log: Value(%d): %v, want ErrCorrupt", off, err)
		}
	}
	// Appending to a returned value must not write into the loaded bytes.
	v, _ := l.Value(frame.HeaderLen)
	before := bytes.Clone(data)
	_ = append(v, 'X', 'Y', 'Z')
	if !bytes.Equal(data, before) {
		t.Fatal("append to a Value result modified the log")
	}
}

// Ensure that Value is safe for concurrent use (run with -race).
func TestValue_Concurrent(t *testing.T) {
	vals := make([][]byte, 5000)
	for i := range vals {
		vals[i] = fmt.Appendf(nil, "v%d", i*7)
	}
	data, offs := build(t, nil, vals)
	l := mustLoad(t, data)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(vals); i += 3 {
				if v, err := l.Value(offs[i]); err != nil || !bytes.Equal(v, vals[i]) {
					t.Errorf("Value(%d) = %q, %v", offs[i], v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Ensure that the bytes of a 3-value log never change: version-1 files must
// stay readable forever. Regenerate with: go test ./valuelog -run Golden -update
func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "golden-v1.vlog")
	vals := [][]byte{[]byte("a"), {}, []byte("hello")}
	data, offs := build(t, nil, vals)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
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
	if fmt.Sprint(offs) != "[16 18 19]" {
		t.Fatalf("offsets %v, want [16 18 19]", offs)
	}
	l := mustLoad(t, want)
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
	checkAll(t, l, vals, offs)
}

// closeRecorder is an io.WriteCloser that fails after limit bytes and
// records whether it was closed.
type closeRecorder struct {
	n, limit int
	closed   bool
}

var errDiskFull = errors.New("disk full")

func (c *closeRecorder) Write(p []byte) (int, error) {
	if c.n+len(p) > c.limit {
		return 0, errDiskFull
	}
	c.n += len(p)
	return len(p), nil
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// Ensure that write errors are sticky, that Close does not close the
// caller's writer, and that a closed Writer refuses more work.
func TestWriter_Errors(t *testing.T) {
	cr := &closeRecorder{limit: 1 << 30}
	w, err := valuelog.NewWriter(cr, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Append([]byte("x"))
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if cr.closed {
		t.Fatal("Writer.Close closed the underlying writer")
	}
	if _, err := w.Append([]byte("y")); !errors.Is(err, valuelog.ErrClosed) {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := w.Close(); !errors.Is(err, valuelog.ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}

	cr = &closeRecorder{limit: 100}
	w, _ = valuelog.NewWriter(cr, nil)
	if _, err := w.Append(make([]byte, 2<<20)); !errors.Is(err, errDiskFull) {
		t.Fatalf("Append: %v, want disk full", err)
	}
	if _, err := w.Append([]byte("z")); !errors.Is(err, errDiskFull) {
		t.Fatalf("Append after failure: %v, want the sticky error", err)
	}
	if _, err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Close after failure: %v, want the sticky error", err)
	}
}

// Ensure that offsets past 4 GiB work: they are uint64 throughout.
func TestWriter_Over4GiB(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("writes 4.3 GB to io.Discard; nothing in it for the race detector")
	}
	w, err := valuelog.NewWriter(io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<20)
	var off uint64
	for i := range 66 {
		chunk[0] = byte(i)
		if off, err = w.Append(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if off <= math.MaxUint32 {
		t.Fatalf("last offset %d, want > 4 GiB", off)
	}
	small, err := w.Append([]byte("after"))
	if err != nil || small <= off {
		t.Fatalf("Append after 4 GiB: %d, %v", small, err)
	}
	f, err := w.Close()
	if err != nil || f.BodyLen <= math.MaxUint32 || f.Count != 67 {
		t.Fatalf("Close: %+v, %v", f, err)
	}
}

// Ensure the iterator contract shared with fst and reader: All closes the
// Iterator when the loop breaks, and Close returns the error that ended
// the iteration.
func TestIterator_Contract(t *testing.T) {
	vals := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	data, _ := build(t, nil, vals)
	it := mustLoad(t, data).Iter()
	for range it.All() {
		break
	}
	if it.Next() {
		t.Fatal("All did not close the Iterator on break")
	}
	if err := it.Close(); err != nil {
		t.Fatalf("Close after a clean stop: %v", err)
	}

	// A log whose footer counts one more record than the body holds.
	good := mustLoad(t, data).Footer()
	good.Count++
	bad := frame.AppendFooter(bytes.Clone(data[:len(data)-frame.FooterLen]), valuelog.Magic, good)
	l, err := valuelog.Load(bad)
	if err != nil {
		t.Fatal(err)
	}
	it = l.Iter()
	for it.Next() {
	}
	if err := it.Close(); !errors.Is(err, valuelog.ErrCorrupt) || err != it.Err() {
		t.Fatalf("Close returned %v, Err %v; want the ErrCorrupt that stopped it", err, it.Err())
	}
}
