package reader_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// topDict builds kvs in two partitions with FST top files (manifest
// feature fst-top) of the given limit.
func topDict(t *testing.T, kvs []testutil.KV, limit int) string {
	t.Helper()
	return testutil.MustBuild(t, kvs, 2, &builder.Options{FSTTop: &fst.TopOptions{Limit: limit}})
}

// Ensure a dictionary with top files lists the feature and the files,
// verifies, and answers Get, AppendGet, Contains and GetBatch exactly as
// the input says, for every key and for misses next to every key, with
// every state copied (limit -1) and with the default limit.
func TestTop_Dict(t *testing.T) {
	kvs := testutil.RandomKVs(20_000, 31)
	want := map[string][]byte{}
	for _, kv := range kvs {
		want[string(kv.Key)] = kv.Value
	}
	for _, limit := range []int{-1, 0} {
		dir := topDict(t, kvs, limit)
		d, err := reader.Open(dir, &reader.Options{Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		m := d.Manifest()
		if len(m.Partitions) != 2 || m.Partitions[0].Top == nil || m.Partitions[1].Top == nil {
			t.Fatalf("limit %d: partitions %+v lack top files", limit, m.Partitions)
		}
		found := false
		for _, f := range m.OptionalFeatures {
			found = found || f == manifest.FeatureFSTTop
		}
		if !found {
			t.Fatalf("optional features %v lack %q", m.OptionalFeatures, manifest.FeatureFSTTop)
		}
		var probes [][]byte
		for _, kv := range kvs {
			probes = append(probes, kv.Key, append(bytes.Clone(kv.Key), 0), append(bytes.Clone(kv.Key), 'z'))
			if len(kv.Key) > 0 {
				probes = append(probes, kv.Key[:len(kv.Key)-1])
			}
		}
		for _, k := range probes {
			w, ok := want[string(k)]
			v, err := d.Get(k)
			if ok != (err == nil) || (ok && !bytes.Equal(v, w)) || (!ok && !errors.Is(err, reader.ErrNotFound)) {
				t.Fatalf("limit %d: Get(%q) = %q, %v; want %q, %v", limit, k, v, err, w, ok)
			}
			if c, err := d.Contains(k); c != ok || err != nil {
				t.Fatalf("limit %d: Contains(%q) = %v, %v", limit, k, c, err)
			}
		}
		for i := 0; i < len(probes); i += 64 {
			keys := probes[i:min(i+64, len(probes))]
			vals, fnd := make([][]byte, len(keys)), make([]bool, len(keys))
			if err := d.GetBatch(keys, vals, fnd); err != nil {
				t.Fatal(err)
			}
			for j, k := range keys {
				w, ok := want[string(k)]
				if fnd[j] != ok || (ok && !bytes.Equal(vals[j], w)) {
					t.Fatalf("limit %d: GetBatch %q = %q, %v; want %q, %v", limit, k, vals[j], fnd[j], w, ok)
				}
			}
		}
		d.Close()
	}
}

// Ensure damage to a top file is ErrCorrupt at Open: truncated, a
// trailing byte, a byte flipped anywhere (LoadTop checks the CRC), missing,
// or taken from another build.
func TestTop_DictCorrupt(t *testing.T) {
	kvs := testutil.RandomKVs(300, 32)
	dir := topDict(t, kvs, -1)
	name := filepath.Join(dir, "part-00000.top")
	orig, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	open := func(what string) {
		t.Helper()
		d, err := reader.Open(dir, nil)
		if err == nil {
			d.Close()
			t.Fatalf("%s: Open succeeded", what)
		}
		if !errors.Is(err, reader.ErrCorrupt) {
			t.Fatalf("%s: Open: %v, want ErrCorrupt", what, err)
		}
	}
	write := func(b []byte) {
		t.Helper()
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{0, 1, len(orig) / 2, len(orig) - 1} {
		write(orig[:n])
		open("truncated")
	}
	write(append(bytes.Clone(orig), 0))
	open("trailing byte")
	for pos := 0; pos < len(orig); pos += 3 { // every third byte: header, nodes, footer
		b := bytes.Clone(orig)
		b[pos] ^= 0x5a
		write(b)
		d, err := reader.Open(dir, nil)
		if err == nil {
			d.Close()
			t.Fatalf("byte %d flipped: Open succeeded", pos)
		}
		if !errors.Is(err, reader.ErrCorrupt) && !errors.Is(err, reader.ErrMagic) && !errors.Is(err, reader.ErrVersion) {
			t.Fatalf("byte %d flipped: Open: %v", pos, err)
		}
	}
	other := topDict(t, testutil.RandomKVs(300, 33), -1)
	b, err := os.ReadFile(filepath.Join(other, "part-00000.top"))
	if err != nil {
		t.Fatal(err)
	}
	write(b)
	open("another build's top file")
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	open("missing top file")
	write(orig)
	d, err := reader.Open(dir, &reader.Options{Verify: true})
	if err != nil {
		t.Fatalf("restored: %v", err)
	}
	d.Close()
}

// goldenTopFiles are the files of testdata/dict-top: goldenKVs built with
// FST top files that copy every state with a transition (limit -1).
var goldenTopFiles = []string{"MANIFEST", "part-00000.fst", "part-00000.vlog", "part-00000.top"}

func goldenTopOptions() *builder.Options {
	o := *goldenOptions
	o.FSTTop = &fst.TopOptions{Limit: -1}
	return &o
}

// TestGolden_Top pins a whole dictionary with the fst-top feature byte for
// byte (its manifest's optional feature and top file entry, the top
// file), and TestCompat_Top keeps reading it. Regenerate (only while the
// form is unreleased) with: go test ./reader -run TestGolden_Top -update
func TestGolden_Top(t *testing.T) {
	checkGoldenDict(t, goldenTopOptions(), "dict-top", goldenTopFiles)
}

// TestCompat_Top reads the checked-in dictionary with an FST top file,
// verified, through Get, Contains and a scan. It must pass forever.
func TestCompat_Top(t *testing.T) {
	d, err := reader.Open(filepath.Join("testdata", "dict-top"), &reader.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.Manifest().Has(manifest.FeatureFSTTop) {
		t.Fatal("testdata/dict-top does not list the fst-top feature")
	}
	if st, err := d.Stats(); err != nil || st.TopBytes == 0 {
		t.Fatalf("top bytes %d, %v", st.TopBytes, err)
	}
	want := newOracle(goldenKVs)
	for _, kv := range goldenKVs {
		v, err := d.Get(kv.Key)
		if err != nil || !bytes.Equal(v, kv.Value) {
			t.Errorf("Get(%q) = %q, %v; want %q", kv.Key, v, err, kv.Value)
		}
		if miss := append(bytes.Clone(kv.Key), 0); want[string(miss)] == nil {
			if ok, err := d.Contains(miss); ok || err != nil {
				t.Errorf("Contains(%q) = %v, %v", miss, ok, err)
			}
		}
	}
	i := 0
	for it := d.All(); it.Next(); i++ {
		if !bytes.Equal(it.Value(), want[string(it.Key())]) {
			t.Errorf("scan: %q -> %q", it.Key(), it.Value())
		}
	}
	if i != len(goldenKVs) {
		t.Errorf("scan: %d keys", i)
	}
}

// FuzzOpenTop is FuzzOpen for a dictionary with an FST top file:
// arbitrary bytes as each of its four files. Nothing may panic or hang,
// and a dictionary that verifies must answer every scanned key with its
// scanned value, and a miss next to it with ErrNotFound. Seeds are
// testdata/dict-top and a fresh dictionary with the default limit.
func FuzzOpenTop(f *testing.F) {
	seed := func(dir string) {
		var files [4][]byte
		for i, name := range goldenTopFiles {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				f.Fatal(err)
			}
			files[i] = b
		}
		f.Add(files[0], files[1], files[2], files[3])
	}
	seed(filepath.Join("testdata", "dict-top"))
	seed(testutil.MustBuild(f, testutil.RandomKVs(30, 5), 1, &builder.Options{FSTTop: &fst.TopOptions{Limit: 16}}))
	probe := [][]byte{nil, {}, []byte("a"), []byte("https://"), {0xff, 0xfe, 0x00}, []byte("empty_value")}
	f.Fuzz(func(t *testing.T, man, fstData, logData, topData []byte) {
		dir := t.TempDir()
		for i, b := range [][]byte{man, fstData, logData, topData} {
			if err := os.WriteFile(filepath.Join(dir, goldenTopFiles[i]), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, err := reader.Open(dir, nil)
		if err != nil {
			return
		}
		defer d.Close()
		vals, found := make([][]byte, len(probe)), make([]bool, len(probe))
		d.GetBatch(probe, vals, found)
		for _, k := range probe {
			d.Get(k)
			d.Contains(k)
		}
		n := 0
		for it := d.All(); it.Next() && n < 10_000; n++ {
			d.Get(it.Key())
		}
		if d.Verify() == nil {
			for it := d.All(); it.Next(); {
				v, err := d.Get(it.Key())
				if err != nil || !bytes.Equal(v, it.Value()) {
					t.Fatalf("verified dictionary: Get(%q) = %q, %v; scan says %q", it.Key(), v, err, it.Value())
				}
				miss := append(bytes.Clone(it.Key()), 0xff, 0xff)
				if _, err := d.Get(miss); !errors.Is(err, reader.ErrNotFound) {
					if it2 := d.Range(miss, append(bytes.Clone(miss), 0)); !it2.Next() {
						t.Fatalf("verified dictionary: absent %q: %v", miss, err)
					}
				}
			}
		}
	})
}
