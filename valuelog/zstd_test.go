package valuelog_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
	"github.com/kvdict/kvdict/valuelog"
)

// pypiRecords returns the sorted (key, value) pairs of the repository's
// testdata/pypi-sample.tsv: real text, the shape compression is for.
func pypiRecords(t testing.TB, n int) (keys, vals [][]byte) {
	f, err := os.Open(filepath.Join("..", "testdata", "pypi-sample.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(m) < n {
		k, v, _ := bytes.Cut(sc.Bytes(), []byte("\t"))
		m[string(k)] = bytes.Clone(v)
	}
	for k := range m {
		keys = append(keys, []byte(k))
	}
	slices.SortFunc(keys, bytes.Compare)
	for _, k := range keys {
		vals = append(vals, m[string(k)])
	}
	return keys, vals
}

// zdict trains a dictionary on keyed records of those pairs.
func zdict(t testing.TB, keys, vals [][]byte, size int) []byte {
	tr := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: size})
	for i := range keys {
		tr.Add(append(append(bytes.Clone(keys[i]), '\t'), vals[i]...))
	}
	d, err := tr.Train()
	if err != nil || d == nil {
		t.Fatalf("train: %v", err)
	}
	return d
}

// oracleData mixes real text with every edge case the issue names:
// incompressible values, a 5 MB value, empty values, many identical
// values (long and short), binary keys.
func oracleData(t testing.TB) (keys, vals [][]byte) {
	keys, vals = pypiRecords(t, 3000)
	rng := rand.New(rand.NewPCG(3, 4))
	add := func(k, v []byte) { keys, vals = append(keys, k), append(vals, v) }
	for i := range 200 {
		v := make([]byte, rng.IntN(200))
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		add(fmt.Appendf(nil, "\xff\x00bin-%d\x00", i), v) // binary keys, incompressible values
	}
	add([]byte("\xff\xffbig"), bytes.Repeat([]byte("5 MB of one document. "), 5<<20/22))
	for i := range 300 {
		add(fmt.Appendf(nil, "\xff\xffsame-%04d", i), []byte("an identical value, long enough to be shared by reference"))
		add(fmt.Appendf(nil, "\xff\xffshort-%04d", i), []byte("tiny"))
		add(fmt.Appendf(nil, "\xff\xffz-empty-%04d", i), nil)
	}
	return keys, vals
}

// checkZ checks every read path of a compressed log against the oracle.
func checkZ(t *testing.T, l *valuelog.Log, keys, vals [][]byte, addrs []uint64) {
	t.Helper()
	if !l.Compressed() || l.Len() != uint64(len(keys)) {
		t.Fatalf("Compressed %v, Len %d, want %d", l.Compressed(), l.Len(), len(keys))
	}
	buf := make([]byte, 0, 64)
	for i, a := range addrs {
		k, v, err := l.Record(a)
		if err != nil || !bytes.Equal(k, keys[i]) || !bytes.Equal(v, vals[i]) {
			t.Fatalf("Record(%#x) #%d = %q, %d bytes, %v", a, i, k, len(v), err)
		}
		if v, err := l.Value(a); err != nil || !bytes.Equal(v, vals[i]) {
			t.Fatalf("Value #%d: %v", i, err)
		}
		out, err := l.AppendValue(append(buf[:0], 'p'), a)
		if err != nil || out[0] != 'p' || !bytes.Equal(out[1:], vals[i]) {
			t.Fatalf("AppendValue #%d: %v", i, err)
		}
		if v, ok, err := l.Match(a, keys[i]); !ok || err != nil || !bytes.Equal(v, vals[i]) || v == nil {
			t.Fatalf("Match #%d: %v %v", i, ok, err)
		}
		if _, ok, err := l.Match(a, append(bytes.Clone(keys[i]), 0)); ok || err != nil {
			t.Fatalf("Match of another key #%d: %v %v", i, ok, err)
		}
		if out, ok, err := l.MatchAppend(buf[:0], a, keys[i]); !ok || err != nil || !bytes.Equal(out, vals[i]) {
			t.Fatalf("MatchAppend #%d: %v %v", i, ok, err)
		}
		// The hash index over groups gives the group's address, index 0.
		g := a &^ (1<<valuelog.AddrShift - 1)
		if out, ok, err := l.MatchGroupAppend(append(buf[:0], 'p'), g, keys[i]); !ok || err != nil || out[0] != 'p' || !bytes.Equal(out[1:], vals[i]) {
			t.Fatalf("MatchGroupAppend #%d: %v %v", i, ok, err)
		}
		if _, ok, err := l.MatchGroupAppend(buf[:0], g, append(bytes.Clone(keys[i]), 0)); ok || err != nil {
			t.Fatalf("MatchGroupAppend of an absent key #%d: %v %v", i, ok, err)
		}
	}
	// GroupKeys lists each group's keys in order, and nothing else.
	for i := 0; i < len(addrs); {
		g := addrs[i] >> valuelog.AddrShift
		gk, err := l.GroupKeys(addrs[i])
		if err != nil {
			t.Fatalf("GroupKeys #%d: %v", i, err)
		}
		for j, k := range gk {
			if i+j >= len(addrs) || addrs[i+j]>>valuelog.AddrShift != g || !bytes.Equal(k, keys[i+j]) {
				t.Fatalf("GroupKeys of group %d: key %d is %q", g, j, k)
			}
		}
		if i += len(gk); i < len(addrs) && addrs[i]>>valuelog.AddrShift == g {
			t.Fatalf("GroupKeys of group %d stops early at %d keys", g, len(gk))
		}
	}
	it := l.Iter()
	n := 0
	for it.Next() {
		if n >= len(keys) || it.Offset() != addrs[n] || !bytes.Equal(it.Key(), keys[n]) || !bytes.Equal(it.Value(), vals[n]) {
			t.Fatalf("iterator record %d at %#x: key %q", n, it.Offset(), it.Key())
		}
		n++
	}
	if it.Err() != nil || n != len(keys) {
		t.Fatalf("iterator: %d records, %v", n, it.Err())
	}
	// Seek into the middle of a group and read on from there.
	mid := len(addrs) / 2
	it = l.Iter()
	it.Seek(addrs[mid])
	for j := mid; j < len(addrs); j++ {
		if !it.Next() || it.Offset() != addrs[j] || !bytes.Equal(it.Key(), keys[j]) {
			t.Fatalf("after Seek: record %d: %v", j, it.Err())
		}
	}
	if it.Next() || it.Err() != nil {
		t.Fatalf("after Seek: extra record or error %v", it.Err())
	}
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
}

// Ensure that a compressed keyed log returns every key and value by address,
// by Match and in order, with and without a dictionary and checksums, on
// real text and every edge case; that it is much smaller than the raw keyed
// log on text; and that addresses name (group << 4 | index).
func TestZstd_Oracle(t *testing.T) {
	keys, vals := oracleData(t)
	dict := zdict(t, keys[:3000], vals[:3000], 16<<10)
	raw, _ := buildKeyed(t, nil, keys[:3000], vals[:3000])
	configs := []valuelog.Compression{{Dict: dict}, {}, {Dict: dict, NoChecksum: true}, {Dict: dict, GroupRecords: 16, GroupBytes: 4096}}
	if raceEnabled {
		configs = configs[:1] // the race detector makes zstd ~10x slower
	}
	for _, c := range configs {
		t.Run(fmt.Sprintf("dict=%v/checksum=%v/group=%d", c.Dict != nil, !c.NoChecksum, c.GroupRecords), func(t *testing.T) {
			data, addrs := buildKeyed(t, &valuelog.WriterOptions{Compression: &c}, keys, vals)
			l := mustLoad(t, data)
			checkZ(t, l, keys, vals, addrs)
			perGroup := map[uint64]int{}
			for _, a := range addrs {
				perGroup[a>>valuelog.AddrShift]++
			}
			for g, n := range perGroup {
				if n > zrec.MaxGroupRecords {
					t.Fatalf("group %d holds %d records", g, n)
				}
			}
			text, _ := buildKeyed(t, &valuelog.WriterOptions{Compression: &c}, keys[:3000], vals[:3000])
			t.Logf("3000 PyPI rows: raw keyed log %d bytes, compressed %d (%.2fx)", len(raw), len(text), float64(len(raw))/float64(len(text)))
			if c.Dict != nil && len(text)*3 > len(raw)*2 {
				t.Fatalf("compressed %d bytes is not 1.5x smaller than raw %d", len(text), len(raw))
			}
		})
	}
}

// Ensure that every single-bit flip of a small compressed log is caught by
// Load or Verify, and that no read ever panics or returns a wrong record:
// each either fails with ErrCorrupt or returns exactly the original.
func TestZstd_ByteFlips(t *testing.T) {
	tk, tv := pypiRecords(t, 2000)
	dict := zdict(t, tk, tv, 1<<10)
	keys, vals := pypiRecords(t, 40)
	keys = append(keys, []byte("\xffsame1"), []byte("\xffsame2"))
	v := []byte("the same value twice, referenced by the second")
	vals = append(vals, v, v)
	data, addrs := buildKeyed(t, &valuelog.WriterOptions{Compression: &valuelog.Compression{Dict: dict}}, keys, vals)
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
			for i, a := range addrs {
				k, v, err := l.Record(a)
				if err != nil {
					if !errors.Is(err, valuelog.ErrCorrupt) {
						t.Fatalf("byte %d: Record: %v", pos, err)
					}
					continue
				}
				if !bytes.Equal(k, keys[i]) || !bytes.Equal(v, vals[i]) {
					t.Fatalf("byte %d ^ %#x: record %d read back wrong without an error", pos, bit, i)
				}
			}
			for i, a := range addrs {
				v, ok, err := l.MatchGroupAppend(nil, a&^(1<<valuelog.AddrShift-1), keys[i])
				if err != nil && !errors.Is(err, valuelog.ErrCorrupt) && err != valuelog.ErrKeyed { // a flipped codec flag
					t.Fatalf("byte %d: MatchGroupAppend: %v", pos, err)
				}
				if ok && !bytes.Equal(v, vals[i]) {
					t.Fatalf("byte %d ^ %#x: MatchGroupAppend %d read back wrong without an error", pos, bit, i)
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

// Ensure that AppendValue, MatchAppend and MatchGroupAppend do not allocate when the caller's
// buffer has room.
func TestZstd_NoAllocs(t *testing.T) {
	keys, vals := pypiRecords(t, 500)
	data, addrs := buildKeyed(t, &valuelog.WriterOptions{Compression: &valuelog.Compression{Dict: zdict(t, keys, vals, 16<<10)}}, keys, vals)
	l := mustLoad(t, data)
	buf := make([]byte, 0, 4096)
	l.AppendValue(buf, addrs[0]) // warm the pools
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		i = (i + 7) % len(addrs)
		buf, _ = l.AppendValue(buf[:0], addrs[i])
		buf, _, _ = l.MatchAppend(buf[:0], addrs[i], keys[i])
		buf, _, _ = l.MatchGroupAppend(buf[:0], addrs[i], keys[i])
	})
	if allocs > 0 && !raceEnabled {
		t.Fatalf("%.1f allocations per AppendValue+MatchAppend", allocs)
	}
}

// Ensure that the layout of a compressed log is the documented one: the
// worked example of zstd.go, byte for byte (its group is stored raw, so the
// bytes do not depend on the zstd encoder).
func TestZstd_Golden(t *testing.T) {
	data, addrs := buildKeyed(t, &valuelog.WriterOptions{Compression: &valuelog.Compression{}},
		[][]byte{[]byte("a"), []byte("b"), []byte("c")}, [][]byte{[]byte("x"), {}, []byte("x")})
	path := filepath.Join("testdata", "golden-v2-zstd.vlog")
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
	if g := uint64(16 + 2); addrs[0] != g<<4 || addrs[1] != g<<4|1 || addrs[2] != g<<4|2 {
		t.Fatalf("addresses %#x", addrs)
	}
	checkZ(t, mustLoad(t, want), [][]byte{[]byte("a"), []byte("b"), []byte("c")}, [][]byte{[]byte("x"), {}, []byte("x")}, addrs)
}

// Ensure that a junk dictionary is refused.
func TestZstd_Options(t *testing.T) {
	var b bytes.Buffer
	if _, err := valuelog.NewWriter(&b, &valuelog.WriterOptions{Keyed: true, Compression: &valuelog.Compression{Dict: []byte("junk")}}); !errors.Is(err, valuelog.ErrCorrupt) {
		t.Fatalf("NewWriter with a junk dictionary: %v", err)
	}
}
