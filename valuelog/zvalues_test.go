package valuelog_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
	"github.com/kvdict/kvdict/valuelog"
)

// checkZValues checks every read path of a compressed value-only log: vals[i]
// was appended as the i-th value and got address addrs[i].
func checkZValues(t *testing.T, l *valuelog.Log, vals [][]byte, addrs []uint64) {
	t.Helper()
	if !l.Compressed() || l.Keyed() {
		t.Fatalf("Compressed %v, Keyed %v", l.Compressed(), l.Keyed())
	}
	first := map[string]uint64{} // value -> address of its record
	buf := make([]byte, 0, 64)
	cur := l.Cursor()
	for i, a := range addrs {
		if v, err := l.Value(a); err != nil || !bytes.Equal(v, vals[i]) || v == nil || cap(v) != len(v) {
			t.Fatalf("Value(%#x) #%d: %d bytes, %v", a, i, len(v), err)
		}
		out, err := l.AppendValue(append(buf[:0], 'p'), a)
		if err != nil || out[0] != 'p' || !bytes.Equal(out[1:], vals[i]) {
			t.Fatalf("AppendValue #%d: %v", i, err)
		}
		if v, err := cur.Value(a); err != nil || !bytes.Equal(v, vals[i]) {
			t.Fatalf("Cursor.Value #%d: %v", i, err)
		}
		if f, ok := first[string(vals[i])]; ok && f != a && len(vals[i]) < 4096 {
			t.Fatalf("value #%d stored again at %#x (first at %#x): dedup missed", i, a, f)
		} else if !ok {
			first[string(vals[i])] = a
		}
	}
	// A cursor's values stay valid after it moves on to other groups (they
	// share its payload slabs), and appending to one cannot touch another.
	cur = l.Cursor()
	held := make([][]byte, len(addrs))
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(len(addrs)) {
		v, err := cur.Value(addrs[i])
		if err != nil || !bytes.Equal(v, vals[i]) || cap(v) != len(v) {
			t.Fatalf("Cursor.Value #%d in random order: %v", i, err)
		}
		held[i] = v
	}
	for i, v := range held {
		if !bytes.Equal(v, vals[i]) {
			t.Fatalf("value #%d returned by the Cursor changed when it moved on", i)
		}
	}
	// The iterator yields each record once, in address order.
	it := l.Iter()
	n := 0
	var last uint64
	for it.Next() {
		if it.Key() != nil || (n > 0 && it.Offset() <= last) {
			t.Fatalf("record %d at %#x after %#x, key %q", n, it.Offset(), last, it.Key())
		}
		if v, err := l.Value(it.Offset()); err != nil || !bytes.Equal(v, it.Value()) {
			t.Fatalf("record %d at %#x: iterator and Value disagree: %v", n, it.Offset(), err)
		}
		last = it.Offset()
		n++
	}
	if it.Err() != nil || uint64(n) != l.Len() {
		t.Fatalf("iterator: %d records, footer %d, %v", n, l.Len(), it.Err())
	}
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
}

// Ensure that a compressed value-only log returns every value by address
// (Value, AppendValue, Cursor) and in order, with and without a dictionary
// and checksums, on real text and every edge case (incompressible values, 5
// MB, empty, many identical), shares identical values, keeps at most 16
// records a group, and is much smaller than the raw log on text.
func TestZstdValues_Oracle(t *testing.T) {
	keys, vals := oracleData(t)
	dict := zdictValues(t, vals[:3000], 16<<10)
	raw, _ := build(t, nil, vals[:3000])
	configs := []valuelog.Compression{{Dict: dict}, {}, {Dict: dict, NoChecksum: true}, {Dict: dict, GroupRecords: 16, GroupBytes: 4096}}
	if raceEnabled {
		configs = configs[:1]
	}
	_ = keys
	for _, c := range configs {
		t.Run(fmt.Sprintf("dict=%v/checksum=%v/group=%d", c.Dict != nil, !c.NoChecksum, c.GroupRecords), func(t *testing.T) {
			data, addrs := build(t, &valuelog.WriterOptions{Compression: &c}, vals)
			l := mustLoad(t, data)
			checkZValues(t, l, vals, addrs)
			perGroup := map[uint64]map[uint64]bool{}
			for _, a := range addrs {
				g := a >> valuelog.AddrShift
				if perGroup[g] == nil {
					perGroup[g] = map[uint64]bool{}
				}
				perGroup[g][a] = true
			}
			for g, recs := range perGroup {
				if len(recs) > zrec.MaxGroupRecords {
					t.Fatalf("group %d holds %d records", g, len(recs))
				}
			}
			text, _ := build(t, &valuelog.WriterOptions{Compression: &c}, vals[:3000])
			t.Logf("3000 PyPI values: raw log %d bytes, compressed %d (%.2fx)", len(raw), len(text), float64(len(raw))/float64(len(text)))
			if c.Dict != nil && len(text)*3 > len(raw)*2 {
				t.Fatalf("compressed %d bytes is not 1.5x smaller than raw %d", len(text), len(raw))
			}
		})
	}
}

// Ensure that every single-bit flip of a small compressed value-only log is
// caught by Load or Verify, and that no read ever panics or returns a
// wrong value: each fails with ErrCorrupt or returns exactly the original.
func TestZstdValues_ByteFlips(t *testing.T) {
	_, tv := pypiRecords(t, 2000)
	dict := zdictValues(t, tv, 1<<10)
	_, vals := pypiRecords(t, 40)
	vals = append(vals, []byte("a value written twice"), nil, []byte("a value written twice"))
	data, addrs := build(t, &valuelog.WriterOptions{Compression: &valuelog.Compression{Dict: dict}}, vals)
	bits, step := []byte{0x01, 0x10, 0x80}, 1
	if raceEnabled {
		bits, step = bits[:1], 5
	}
	for pos := 0; pos < len(data); pos += step {
		for _, bit := range bits {
			d := bytes.Clone(data)
			d[pos] ^= bit
			l, err := valuelog.Load(d)
			if err != nil {
				if !errors.Is(err, valuelog.ErrCorrupt) && !errors.Is(err, valuelog.ErrMagic) && !errors.Is(err, valuelog.ErrVersion) {
					t.Fatalf("byte %d: Load: %v wraps no sentinel", pos, err)
				}
				continue
			}
			if l.Verify() == nil {
				t.Fatalf("byte %d ^ %#x: Verify passed", pos, bit)
			}
			cur := l.Cursor()
			for i, a := range addrs {
				v1, err1 := l.Value(a)
				v2, err2 := cur.Value(a)
				v3, err3 := l.AppendValue(nil, a)
				for _, r := range []struct {
					v   []byte
					err error
				}{{v1, err1}, {v2, err2}, {v3, err3}} {
					if r.err != nil {
						if !errors.Is(r.err, valuelog.ErrCorrupt) {
							t.Fatalf("byte %d: %v wraps no ErrCorrupt", pos, r.err)
						}
					} else if !bytes.Equal(r.v, vals[i]) {
						t.Fatalf("byte %d ^ %#x: value %d read back wrong without an error", pos, bit, i)
					}
				}
			}
			it := l.Iter()
			for it.Next() {
			}
		}
	}
	for n := range len(data) {
		if _, err := valuelog.Load(data[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: Load succeeded", n)
		}
	}
}

// Ensure that AppendValue on a compressed value-only log does not allocate
// when the caller's buffer has room: neither when it decodes a group into
// pooled scratch (each group read once, as random lookups over a large log
// do), nor once the groups of a small working set are cached.
func TestZstdValues_NoAllocs(t *testing.T) {
	_, vals := pypiRecords(t, 4000)
	data, addrs := build(t, &valuelog.WriterOptions{Compression: &valuelog.Compression{Dict: zdictValues(t, vals, 16<<10)}}, vals)
	l := mustLoad(t, data)
	buf := make([]byte, 0, 4096)
	var firsts []uint64 // one address in each group, in file order
	for _, a := range addrs {
		if len(firsts) == 0 || a>>valuelog.AddrShift != firsts[len(firsts)-1]>>valuelog.AddrShift {
			firsts = append(firsts, a)
		}
	}
	if len(firsts) < 202 {
		t.Fatalf("only %d groups", len(firsts))
	}
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		buf, _ = l.AppendValue(buf[:0], firsts[i])
		i++
	})
	if allocs > 0 && !raceEnabled {
		t.Fatalf("uncached: %.1f allocations per AppendValue", allocs)
	}
	small := addrs[:200]
	for range 2 { // a second miss in a row admits a group
		for _, a := range small {
			buf, _ = l.AppendValue(buf[:0], a)
		}
	}
	i = 0
	allocs = testing.AllocsPerRun(200, func() {
		i = (i + 7) % len(small)
		buf, _ = l.AppendValue(buf[:0], small[i])
	})
	if allocs > 0 && !raceEnabled {
		t.Fatalf("cached: %.1f allocations per AppendValue", allocs)
	}
}

// Ensure that the layout of a compressed value-only log is the documented
// one: the worked example of zvalues.go, byte for byte (its group is stored
// raw, so the bytes do not depend on the zstd encoder).
func TestZstdValues_Golden(t *testing.T) {
	vals := [][]byte{[]byte("a"), {}, []byte("a")}
	data, addrs := build(t, &valuelog.WriterOptions{Compression: &valuelog.Compression{}}, vals)
	path := filepath.Join("testdata", "golden-v1-zstd.vlog")
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
		t.Fatalf("got\n% x\nwant\n% x", data, want)
	}
	if g := uint64(16 + 2); addrs[0] != g<<4 || addrs[1] != g<<4|1 || addrs[2] != g<<4 {
		t.Fatalf("addresses %#x", addrs)
	}
	checkZValues(t, mustLoad(t, want), vals, addrs)
}

// zdictValues trains a dictionary on groups of 8 value records.
func zdictValues(t testing.TB, vals [][]byte, size int) []byte {
	tr := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: size})
	var p []byte
	for i, v := range vals {
		p = zrec.AppendRecord(p, v)
		if i%8 == 7 {
			tr.Add(p)
			p = p[:0]
		}
	}
	d, err := tr.Train()
	if err != nil || d == nil {
		t.Fatalf("train: %v", err)
	}
	return d
}

// Ensure that point lookups on a compressed value-only log are safe for
// concurrent use while their group cache fills and replaces groups (run
// with -race): 8 goroutines read overlapping address sets, each address
// several times, through Value and AppendValue.
func TestZstdValues_Concurrent(t *testing.T) {
	_, vals := pypiRecords(t, 6000)
	data, addrs := build(t, &valuelog.WriterOptions{Compression: &valuelog.Compression{Dict: zdictValues(t, vals, 16<<10)}}, vals)
	l := mustLoad(t, data)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			buf := make([]byte, 0, 256)
			for round := range 3 {
				for i := g * 500; i < len(vals); i += 1 + round {
					v, err := l.Value(addrs[i])
					if err == nil {
						buf, err = l.AppendValue(buf[:0], addrs[i])
					}
					if err != nil || !bytes.Equal(v, vals[i]) || !bytes.Equal(buf, vals[i]) {
						t.Errorf("value #%d: %q / %q, %v", i, v, buf, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
