package reader_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/internal/zrec"
	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/valuelog"
)

// zstdOptions trains a dictionary on a sample of kvs and returns builder
// options that compress every value log with it.
func zstdOptions(t testing.TB, kvs []testutil.KV) *builder.Options {
	tr := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: 8 << 10})
	for _, kv := range kvs[:min(len(kvs), 20000)] {
		tr.Add(append(append(bytes.Clone(kv.Key), '\t'), kv.Value...))
	}
	d, err := tr.Train()
	if err != nil {
		t.Fatal(err)
	}
	return &builder.Options{Compression: &valuelog.Compression{Dict: d}}
}

// zstdKVs is text-like data plus the edge cases: incompressible
// values, a 5 MB value, empty values, many identical values, binary keys.
func zstdKVs(n int) []testutil.KV {
	kvs := testutil.RandomKVs(n, 9)
	for i := range 300 {
		kvs = append(kvs,
			testutil.KV{Key: fmt.Appendf(nil, "\xfe\x00same-%d", i), Value: []byte("one value shared by three hundred keys, long enough")},
			testutil.KV{Key: fmt.Appendf(nil, "\xfe\x01empty-%d", i), Value: nil},
			testutil.KV{Key: fmt.Appendf(nil, "\xfe\x02rand-%d", i), Value: fmt.Appendf(nil, "%x%x", i*7919, i*104729)},
		)
	}
	kvs = append(kvs, testutil.KV{Key: []byte("\xfe\x03big"), Value: bytes.Repeat([]byte("5 MB value. "), 5<<20/12)})
	return kvs
}

// Ensure that a compressed dictionary (builder Options.Compression, of
// values alone or with KeyedRecords) reads back every key by Get,
// AppendGet and GetBatch, answers absent keys with ErrNotFound, scans in
// order (values staying valid after the scan moves on), verifies, and
// records the feature.
func TestZstd_Dictionary(t *testing.T) {
	n, partsList := 100_000, []int{1, 3}
	if raceEnabled || testing.Short() {
		n, partsList = 5_000, []int{3} // zstd under the race detector is ~10x slower
	}
	for _, mode := range []string{"values", "keyed", "hash-index"} {
		keyed := mode != "values"
		if keyed {
			// kvbuild writes value-only logs without the index; keyed
			// ones (builder KeyedRecords, or HashIndex: keyed records in
			// groups that the index addresses) get a smaller run, keeping
			// the package's tests well inside go test's 10 minutes on a
			// loaded machine.
			n, partsList = min(n, 20_000), []int{3}
		}
		kvs := zstdKVs(n)
		o := newOracle(kvs)
		for _, parts := range partsList {
			t.Run(fmt.Sprintf("%s/parts=%d", mode, parts), func(t *testing.T) {
				checkZstdDictionary(t, kvs, o, parts, keyed, mode == "hash-index")
			})
		}
	}
}

func checkZstdDictionary(t *testing.T, kvs []testutil.KV, o oracle, parts int, keyed, hix bool) {
	{
		opts := zstdOptions(t, kvs)
		opts.KeyedRecords = keyed
		if hix {
			opts.HashIndex = hashOptions(t).HashIndex
		}
		dir := testutil.MustBuild(t, kvs, parts, opts)
		d, err := reader.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		f := d.Manifest().Features
		if keyed && (!slices.Contains(f, manifest.FeatureZstdRecords) || !slices.Contains(f, manifest.FeatureKeyedRecords)) {
			t.Fatalf("features %q", f)
		}
		if !keyed && (!slices.Contains(f, manifest.FeatureZstdValues) || len(f) != 1) {
			t.Fatalf("features %q", f)
		}
		if of := d.Manifest().OptionalFeatures; hix != slices.Contains(of, manifest.FeatureHashIndex) {
			t.Fatalf("optional features %q", of)
		}
		if st, err := d.Stats(); err != nil || hix != (st.HashIndexBytes > 0) {
			t.Fatalf("hash index bytes %d, %v", st.HashIndexBytes, err)
		}
		if b := d.Manifest().Build; b["vlog.compression"] != "zstd" || parseRatio(b["vlog.compression_ratio"]) < 1.5 {
			t.Fatalf("build info %q", b)
		}
		t.Logf("parts=%d: compression ratio %s", parts, d.Manifest().Build["vlog.compression_ratio"])
		buf := make([]byte, 0, 256)
		for k, want := range o {
			got, err := d.Get([]byte(k))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("parts=%d: Get(%q) = %q, %v", parts, trunc([]byte(k)), trunc(got), err)
			}
			buf, err = d.AppendGet(buf[:0], []byte(k))
			if err != nil || !bytes.Equal(buf, want) {
				t.Fatalf("AppendGet(%q): %v", trunc([]byte(k)), err)
			}
		}
		for _, k := range []string{"", "\x00", "\xfe\x00same-", "\xff\xff"} {
			if _, ok := o[k]; ok {
				continue
			}
			if _, err := d.Get([]byte(k)); !errors.Is(err, reader.ErrNotFound) {
				t.Fatalf("Get(absent %q): %v", k, err)
			}
			if out, err := d.AppendGet(buf[:0], []byte(k)); !errors.Is(err, reader.ErrNotFound) || len(out) != 0 {
				t.Fatalf("AppendGet(absent %q): %v", k, err)
			}
		}
		// Many absent keys, near present ones: with the index, some share a
		// candidate group and a fingerprint, and the key comparison in the
		// decoded group must reject them.
		for i, k := range o.sortedKeys() {
			if i%7 != 0 {
				continue
			}
			for _, a := range [][]byte{append([]byte(k), 0), []byte(k)[:len(k)/2]} {
				if _, ok := o[string(a)]; ok {
					continue
				}
				if v, err := d.Get(a); !errors.Is(err, reader.ErrNotFound) {
					t.Fatalf("Get(absent %q) = %q, %v", trunc(a), trunc(v), err)
				}
				if ok, err := d.Contains(a); ok || err != nil {
					t.Fatalf("Contains(absent %q) = %v, %v", trunc(a), ok, err)
				}
			}
			if ok, err := d.Contains([]byte(k)); !ok || err != nil {
				t.Fatalf("Contains(%q) = %v, %v", trunc([]byte(k)), ok, err)
			}
		}
		keys := o.sortedKeys()
		batch := make([][]byte, 64)
		for i := range batch {
			batch[i] = []byte(keys[(i*7919)%len(keys)])
		}
		vals, found := make([][]byte, len(batch)), make([]bool, len(batch))
		if err := d.GetBatch(batch, vals, found); err != nil {
			t.Fatal(err)
		}
		for i := range batch {
			if !found[i] || !bytes.Equal(vals[i], o[string(batch[i])]) {
				t.Fatalf("GetBatch %d (%q) wrong", i, trunc(batch[i]))
			}
		}
		i := 0
		it := d.All()
		var held [][]byte
		for k, v := range it.All() {
			if i >= len(keys) || string(k) != keys[i] || !bytes.Equal(v, o[keys[i]]) {
				t.Fatalf("scan item %d = %q", i, trunc(k))
			}
			if !keyed && i%97 == 0 {
				held = append(held, v)
			}
			i++
		}
		if it.Err() != nil || i != len(keys) {
			t.Fatalf("scan: %d of %d keys, %v", i, len(keys), it.Err())
		}
		for j, v := range held {
			if !bytes.Equal(v, o[keys[j*97]]) {
				t.Fatalf("scan value %d changed after the scan moved on", j*97)
			}
		}
		j := 0
		pit := d.Prefix([]byte("\xfe\x00same-"))
		for range pit.All() {
			j++
		}
		if pit.Err() != nil || j != 300 {
			t.Fatalf("prefix scan: %d keys, %v", j, pit.Err())
		}
		if err := d.Verify(); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
}

// Ensure that a flipped byte anywhere in a compressed value log (of values
// alone or keyed records) makes Open, Get or Verify fail with ErrCorrupt,
// and never yields a wrong value.
func TestZstd_FlippedValueLog(t *testing.T) {
	for _, mode := range []string{"values", "keyed", "hash-index"} {
		t.Run(mode, func(t *testing.T) {
			opts := &builder.Options{KeyedRecords: mode != "values", Compression: &valuelog.Compression{}}
			if mode == "hash-index" {
				opts.HashIndex = hashOptions(t).HashIndex
			}
			flipZstdValueLog(t, opts)
		})
	}
}

func flipZstdValueLog(t *testing.T, opts *builder.Options) {
	kvs := testutil.RandomKVs(300, 4)
	o := newOracle(kvs)
	dir := testutil.MustBuild(t, kvs, 1, opts)
	logs, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if len(logs) != 1 {
		t.Fatalf("value logs %v", logs)
	}
	orig, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	// Every byte is flipped in memory by valuelog's TestZstd*_ByteFlips;
	// here (a file rewrite and an Open per flip) about 2,000 positions.
	step := max(1, len(orig)/2000)
	if raceEnabled {
		step = 37
	}
	for pos := 0; pos < len(orig); pos += step {
		b := bytes.Clone(orig)
		b[pos] ^= 0x20
		if err := os.WriteFile(logs[0], b, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := reader.Open(dir, nil)
		if err != nil {
			if !errors.Is(err, reader.ErrCorrupt) && !errors.Is(err, reader.ErrVersion) && !errors.Is(err, valuelog.ErrMagic) {
				t.Fatalf("byte %d: Open: %v", pos, err)
			}
			continue
		}
		if d.Verify() == nil {
			t.Fatalf("byte %d: Verify passed", pos)
		}
		for k, want := range o {
			v, err := d.Get([]byte(k))
			if err == nil && !bytes.Equal(v, want) {
				t.Fatalf("byte %d: Get(%q) returned a wrong value", pos, k)
			}
			if err != nil && !errors.Is(err, reader.ErrCorrupt) {
				t.Fatalf("byte %d: Get: %v", pos, err)
			}
		}
		it := d.All()
		for k, v := range it.All() {
			if !bytes.Equal(v, o[string(k)]) {
				t.Fatalf("byte %d: scan returned a wrong value for %q", pos, k)
			}
		}
		if err := it.Err(); err != nil && !errors.Is(err, reader.ErrCorrupt) {
			t.Fatalf("byte %d: scan: %v", pos, err)
		}
		d.Close()
	}
	if err := os.WriteFile(logs[0], orig, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Ensure that AppendGet does not allocate on a compressed dictionary when
// the buffer has room, nor Contains, with and without the hash index.
func TestZstd_AppendGetAllocs(t *testing.T) {
	kvs := testutil.RandomKVs(5000, 5)
	for _, hix := range []bool{false, true} {
		opts := zstdOptions(t, kvs)
		if hix {
			opts.HashIndex = hashOptions(t).HashIndex
		}
		dir := testutil.MustBuild(t, kvs, 1, opts)
		d, err := reader.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 0, 1<<16)
		buf, _ = d.AppendGet(buf, kvs[0].Key)
		i := 0
		allocs := testing.AllocsPerRun(500, func() {
			i = (i + 13) % len(kvs)
			buf, _ = d.AppendGet(buf[:0], kvs[i].Key)
		})
		// Contains reads no value, so it allocates nothing either.
		has := testing.AllocsPerRun(500, func() {
			i = (i + 13) % len(kvs)
			if ok, err := d.Contains(kvs[i].Key); !ok || err != nil {
				t.Fatalf("Contains: %v %v", ok, err)
			}
		})
		d.Close()
		if (allocs > 0 || has > 0) && !raceEnabled {
			t.Fatalf("hash index %v: %.1f allocations per AppendGet, %.1f per Contains", hix, allocs, has)
		}
	}
}

// Ensure that every flipped byte of a hash index over compressed groups
// gives the right value, ErrNotFound or ErrCorrupt from Get (the key
// compared in the decoded group decides), never another key's value or a
// value for an absent key, and that Verify reports it.
func TestZstd_HashIndexEveryFlippedByte(t *testing.T) {
	kvs := testutil.RandomKVs(80, 14)
	opts := &builder.Options{Compression: &valuelog.Compression{}, HashIndex: hashOptions(t).HashIndex}
	dir := testutil.MustBuild(t, kvs, 1, opts)
	name := filepath.Join(dir, "part-00000.hix")
	orig, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	o := newOracle(kvs)
	for pos := range orig {
		b := bytes.Clone(orig)
		b[pos] ^= 0x5a
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := reader.Open(dir, nil)
		if err != nil {
			if !errors.Is(err, reader.ErrCorrupt) && !errors.Is(err, reader.ErrMagic) && !errors.Is(err, reader.ErrVersion) {
				t.Fatalf("byte %d: Open: %v wraps no sentinel", pos, err)
			}
			continue
		}
		for _, kv := range kvs {
			v, err := d.Get(kv.Key)
			if err == nil && !bytes.Equal(v, kv.Value) {
				t.Fatalf("byte %d: Get(%q) = %q, want %q or an error", pos, kv.Key, v, kv.Value)
			}
			if err != nil && !errors.Is(err, reader.ErrNotFound) && !errors.Is(err, reader.ErrCorrupt) {
				t.Fatalf("byte %d: Get(%q): %v", pos, kv.Key, err)
			}
			absent := append(bytes.Clone(kv.Key), '~')
			if _, ok := o[string(absent)]; !ok {
				if v, err := d.Get(absent); err == nil {
					t.Fatalf("byte %d: absent key %q returned %q", pos, absent, v)
				}
			}
		}
		if err := d.Verify(); !errors.Is(err, reader.ErrCorrupt) {
			t.Errorf("byte %d: Verify = %v, want ErrCorrupt", pos, err)
		}
		d.Close()
	}
}

// parseRatio parses a recorded compression ratio (0 if absent).
func parseRatio(s string) float64 {
	r, _ := strconv.ParseFloat(s, 64)
	return r
}
