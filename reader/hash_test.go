package reader_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// hashOptions builds with a hash index; a small MemoryBytes makes every
// partition's index build spill and merge runs.
func hashOptions(t testing.TB) *builder.Options {
	return &builder.Options{HashIndex: &hashindex.WriterOptions{MemoryBytes: 64 << 10}}
}

// Ensure that with a hash index every key reads back its value through the
// index, absent keys (including ones sharing fingerprints with present
// keys, by sheer number) are ErrNotFound, scans and Verify agree, with one
// partition and with several.
func TestHashIndex_Oracle(t *testing.T) {
	n := 300_000
	if raceEnabled || testing.Short() {
		n = 50_000
	}
	kvs := testutil.RandomKVs(n, 21)
	kvs = append(kvs,
		testutil.KV{Key: bytes.Repeat([]byte("k"), 4096), Value: []byte("four KB key")},
		testutil.KV{Key: []byte("big/value"), Value: bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)},
		testutil.KV{Key: []byte("big/value-again"), Value: bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)},
	)
	o := newOracle(kvs)
	for _, parts := range []int{1, 3} {
		dir := testutil.MustBuild(t, kvs, parts, hashOptions(t))
		d, err := reader.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := d.Manifest()
		if !slices.Equal(m.Features, []string{manifest.FeatureKeyedRecords}) || !slices.Equal(m.OptionalFeatures, []string{manifest.FeatureHashIndex}) {
			t.Fatalf("features %q, optional %q", m.Features, m.OptionalFeatures)
		}
		for k, want := range o {
			got, err := d.Get([]byte(k))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("parts=%d: Get(%q) = %q, %v; want %q", parts, trunc([]byte(k)), trunc(got), err, trunc(want))
			}
		}
		r := rand.New(rand.NewPCG(8, 8))
		for range 200_000 {
			k := make([]byte, 1+r.IntN(30))
			for i := range k {
				k[i] = byte(r.Uint32())
			}
			if _, ok := o[string(k)]; ok {
				continue
			}
			if v, err := d.Get(k); !errors.Is(err, reader.ErrNotFound) {
				t.Fatalf("Get(absent %q) = %q, %v; want ErrNotFound", k, v, err)
			}
			if ok, err := d.Contains(k); ok || err != nil {
				t.Fatalf("Contains(absent %q) = %v, %v", k, ok, err)
			}
		}
		st, err := d.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if per := float64(st.HashIndexBytes) / float64(len(o)); per > 10.5 {
			t.Errorf("hash index %.2f bytes per key, want <= 10.5", per)
		}
		keys := o.sortedKeys()
		i := 0
		it := d.All()
		for k, v := range it.All() {
			if i >= len(keys) || string(k) != keys[i] || !bytes.Equal(v, o[keys[i]]) {
				t.Fatalf("scan item %d = %q", i, trunc(k))
			}
			i++
		}
		if it.Err() != nil || i != len(keys) {
			t.Fatalf("scan: %d of %d keys, %v", i, len(keys), it.Err())
		}
		if err := d.Verify(); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
}

// Ensure Get and Contains through the index allocate nothing.
func TestHashIndex_GetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	kvs := testutil.RandomKVs(1000, 4)
	d, err := reader.Open(testutil.MustBuild(t, kvs, 2, hashOptions(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	hit, miss := kvs[500].Key, []byte("no such key \x00")
	for name, f := range map[string]func(){
		"Get hit":       func() { d.Get(hit) },
		"Get miss":      func() { d.Get(miss) },
		"Contains hit":  func() { d.Contains(hit) },
		"Contains miss": func() { d.Contains(miss) },
	} {
		if a := testing.AllocsPerRun(1000, f); a != 0 {
			t.Errorf("%s: %v allocs/op", name, a)
		}
	}
}

// Ensure many goroutines can Get through one index at once (run with -race).
func TestHashIndex_Concurrent(t *testing.T) {
	kvs := testutil.RandomKVs(20_000, 3)
	d, err := reader.Open(testutil.MustBuild(t, kvs, 2, hashOptions(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
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

// Ensure that flipping any byte of the hash index is caught by Open or
// Verify, and that meanwhile Get never returns a wrong value: only the
// right one, ErrNotFound or ErrCorrupt (the key in the record decides).
// Absent keys are never found.
func TestHashIndex_EveryFlippedByte(t *testing.T) {
	kvs := testutil.RandomKVs(60, 12)
	dir := testutil.MustBuild(t, kvs, 1, hashOptions(t))
	name := filepath.Join(dir, "part-00000.hix")
	orig, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	absent := [][]byte{[]byte("absent"), {}, []byte("https://absent.example/")}
	o := newOracle(kvs)
	for pos := range orig {
		for _, flip := range []byte{0x01, 0x5a, 0x80} {
			b := bytes.Clone(orig)
			b[pos] ^= flip
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := reader.Open(dir, nil)
			if err != nil {
				if !errors.Is(err, reader.ErrCorrupt) && !errors.Is(err, reader.ErrMagic) && !errors.Is(err, reader.ErrVersion) {
					t.Fatalf("byte %d ^ %#x: Open: %v wraps no sentinel", pos, flip, err)
				}
				continue
			}
			for _, kv := range kvs {
				v, err := d.Get(kv.Key)
				if err == nil && !bytes.Equal(v, kv.Value) {
					t.Fatalf("byte %d ^ %#x: Get(%q) = %q, want %q or an error", pos, flip, kv.Key, v, kv.Value)
				}
				if err != nil && !errors.Is(err, reader.ErrNotFound) && !errors.Is(err, reader.ErrCorrupt) {
					t.Fatalf("byte %d ^ %#x: Get(%q): %v", pos, flip, kv.Key, err)
				}
			}
			for _, k := range absent {
				if _, ok := o[string(k)]; ok {
					continue
				}
				if v, err := d.Get(k); err == nil {
					t.Fatalf("byte %d ^ %#x: absent key %q returned %q", pos, flip, k, v)
				}
			}
			if err := d.Verify(); !errors.Is(err, reader.ErrCorrupt) {
				t.Errorf("byte %d ^ %#x: Verify = %v, want ErrCorrupt", pos, flip, err)
			}
			d.Close()
		}
	}
	if err := os.WriteFile(name, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err := reader.Open(dir, &reader.Options{Verify: true}); err != nil {
		t.Fatalf("restored: %v", err)
	} else {
		d.Close()
	}
}

// Ensure that damage to a keyed value log found through the index gives
// ErrCorrupt or the right answer (never a panic), and Verify catches it.
func TestHashIndex_FlippedValueLog(t *testing.T) {
	kvs := testutil.RandomKVs(40, 13)
	dir := testutil.MustBuild(t, kvs, 1, hashOptions(t))
	name := filepath.Join(dir, "part-00000.vlog")
	orig, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for pos := range orig {
		b := bytes.Clone(orig)
		b[pos] ^= 0x5a
		os.WriteFile(name, b, 0o644)
		d, err := reader.Open(dir, nil)
		if err != nil {
			continue
		}
		for _, kv := range kvs {
			if _, err := d.Get(kv.Key); err != nil && !errors.Is(err, reader.ErrNotFound) && !errors.Is(err, reader.ErrCorrupt) {
				t.Fatalf("byte %d: Get: %v", pos, err)
			}
		}
		for it := d.All(); it.Next(); {
			it.Value()
		}
		if err := d.Verify(); !errors.Is(err, reader.ErrCorrupt) {
			t.Errorf("byte %d: Verify = %v, want ErrCorrupt", pos, err)
		}
		d.Close()
	}
}

// Ensure the index file's damage at Open maps to its sentinel, and that a
// missing index file named by the manifest is an error.
func TestHashIndex_OpenCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func([]byte) []byte
		want error
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, reader.ErrCorrupt},
		{"trailing-junk", func(b []byte) []byte { return append(b, 0) }, reader.ErrCorrupt},
		{"bad-magic", func(b []byte) []byte { b[0] ^= 0x20; return b }, reader.ErrMagic},
		{"future-version", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:12], 99); return b }, reader.ErrVersion},
		{"missing", func(b []byte) []byte { return nil }, reader.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testutil.MustBuild(t, testutil.RandomKVs(50, 1), 1, hashOptions(t))
			name := filepath.Join(dir, "part-00000.hix")
			if tc.name == "missing" {
				os.Remove(name)
			} else {
				mutate(t, name, tc.mut)
			}
			if _, err := reader.Open(dir, nil); !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v, want %v", err, tc.want)
			}
		})
	}
}

// Ensure the manifest's feature rules: an unknown optional feature is
// ignored, an unknown required feature is refused with ErrVersion.
func TestManifest_FeatureCompatibility(t *testing.T) {
	dir := testutil.MustBuild(t, testutil.RandomKVs(50, 1), 1, hashOptions(t))
	rewrite := func(f func(m *manifest.Manifest)) {
		data, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
		if err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		f(m)
		data, err = manifest.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, manifest.FileName), data, 0o644)
	}
	rewrite(func(m *manifest.Manifest) { m.OptionalFeatures = append(m.OptionalFeatures, "from-the-future") })
	d, err := reader.Open(dir, &reader.Options{Verify: true})
	if err != nil {
		t.Fatalf("unknown optional feature: %v", err)
	}
	d.Close()
	rewrite(func(m *manifest.Manifest) { m.Features = append(m.Features, "from-the-future") })
	if _, err := reader.Open(dir, nil); !errors.Is(err, reader.ErrVersion) {
		t.Fatalf("unknown required feature: %v, want ErrVersion", err)
	}
}

// goldenHashFiles are the files of testdata/dict-hash: goldenKVs built
// with keyed records and a hash index (seed fixed).
var goldenHashFiles = []string{"MANIFEST", "part-00000.fst", "part-00000.vlog", "part-00000.hix"}

func goldenHashOptions() *builder.Options {
	o := *goldenOptions
	o.HashIndex = &hashindex.WriterOptions{Seed: 0x6b76646963740001}
	return &o
}

// TestGolden_HashIndex pins the keyed-records + hash-index form byte for
// byte (docs/FORMAT.md walks through these files), and
// TestCompat_HashIndex keeps reading them. Regenerate (only while the form
// is unreleased) with: go test ./reader -run TestGolden_HashIndex -update
func TestGolden_HashIndex(t *testing.T) {
	checkGoldenDict(t, goldenHashOptions(), "dict-hash", goldenHashFiles)
}

// TestCompat_HashIndex reads the checked-in keyed + hash-index dictionary.
// It must pass forever.
func TestCompat_HashIndex(t *testing.T) {
	d, err := reader.Open(filepath.Join("testdata", "dict-hash"), &reader.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Len() != len(goldenKVs) {
		t.Fatalf("Len = %d, want %d", d.Len(), len(goldenKVs))
	}
	for _, kv := range goldenKVs {
		v, err := d.Get(kv.Key)
		if err != nil || !bytes.Equal(v, kv.Value) {
			t.Errorf("Get(%q) = %q, %v; want %q", kv.Key, v, err, kv.Value)
		}
	}
	if _, err := d.Get([]byte("absent")); !errors.Is(err, reader.ErrNotFound) {
		t.Errorf("Get(absent): %v", err)
	}
	i := 0
	for it := d.All(); it.Next(); i++ {
		if !bytes.Equal(it.Value(), newOracle(goldenKVs)[string(it.Key())]) {
			t.Errorf("scan: %q -> %q", it.Key(), it.Value())
		}
	}
	if i != len(goldenKVs) {
		t.Errorf("scan: %d keys", i)
	}
}
