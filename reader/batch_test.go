package reader_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// Ensure GetBatch answers exactly as Get, key by key, for hits, misses,
// keys before the first partition and repeated keys, with and without a
// hash index, over batches that are not a multiple of the group size.
func TestGetBatch_Oracle(t *testing.T) {
	kvs := testutil.RandomKVs(30_000, 31)
	for _, hash := range []bool{false, true} {
		opts := hashOptions(t)
		if !hash {
			opts = nil
		}
		d, err := reader.Open(testutil.MustBuild(t, kvs, 3, opts), nil)
		if err != nil {
			t.Fatal(err)
		}
		var keys [][]byte
		for i, kv := range kvs {
			keys = append(keys, kv.Key)
			if i%3 == 0 {
				keys = append(keys, append(bytes.Clone(kv.Key), 0xfe), fmt.Appendf(nil, "absent-%d", i))
			}
		}
		keys = append(keys, []byte{}, []byte{0}, kvs[7].Key, kvs[7].Key)
		for _, n := range []int{1, 15, 16, 17, 1000, len(keys)} {
			vals, found := make([][]byte, n), make([]bool, n)
			for lo := 0; lo+n <= len(keys); lo += n * 7 {
				batch := keys[lo : lo+n]
				if err := d.GetBatch(batch, vals, found); err != nil {
					t.Fatal(err)
				}
				for i, k := range batch {
					v, err := d.Get(k)
					if found[i] != (err == nil) || !bytes.Equal(vals[i], v) {
						t.Fatalf("hash=%v n=%d: GetBatch(%q) = %q, %v; Get = %q, %v", hash, n, k, vals[i], found[i], v, err)
					}
					if !found[i] && vals[i] != nil {
						t.Fatalf("absent key %q has a value", k)
					}
				}
			}
		}
		if err := d.GetBatch(keys, nil, nil); !errors.Is(err, reader.ErrBatchLength) {
			t.Fatalf("short outputs: %v", err)
		}
		d.Close()
		if err := d.GetBatch(keys[:1], make([][]byte, 1), make([]bool, 1)); !errors.Is(err, reader.ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	}
}

// Ensure GetBatch allocates nothing.
func TestGetBatch_Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	kvs := testutil.RandomKVs(1000, 4)
	d, err := reader.Open(testutil.MustBuild(t, kvs, 2, hashOptions(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var keys [][]byte
	for _, kv := range kvs[:100] {
		keys = append(keys, kv.Key, []byte("absent"))
	}
	vals, found := make([][]byte, len(keys)), make([]bool, len(keys))
	if a := testing.AllocsPerRun(100, func() { d.GetBatch(keys, vals, found) }); a != 0 {
		t.Errorf("GetBatch: %v allocs/op", a)
	}
}

// Ensure that on a damaged dictionary GetBatch still answers exactly as
// Get, key by key: the same value, the same absence, and an error wrapping
// ErrCorrupt (returned for the first such key) where Get gives one, with
// every byte of every file flipped in turn, with the index (whose
// prefetched candidates must be confirmed all the same) and without it
// (whose values are prefetched from FST outputs).
func TestGetBatch_EveryFlippedByteAgreesWithGet(t *testing.T) {
	kvs := testutil.RandomKVs(30, 21)
	keys := [][]byte{[]byte("absent"), {}, []byte("https://absent.example/")}
	for _, kv := range kvs {
		keys = append(keys, kv.Key)
	}
	for _, hash := range []bool{false, true} {
		opts := hashOptions(t)
		files := []string{"part-00000.fst", "part-00000.vlog", "part-00000.hix"}
		if !hash {
			opts, files = nil, files[:2]
		}
		dir := testutil.MustBuild(t, kvs, 1, opts)
		for _, file := range files {
			name := filepath.Join(dir, file)
			orig, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			vals, found := make([][]byte, len(keys)), make([]bool, len(keys))
			for pos := range orig {
				b := bytes.Clone(orig)
				b[pos] ^= 0x5a
				if err := os.WriteFile(name, b, 0o644); err != nil {
					t.Fatal(err)
				}
				d, err := reader.Open(dir, nil)
				if err != nil {
					continue // Open's own tests check its errors
				}
				berr := d.GetBatch(keys, vals, found)
				var firstErr error
				for i, k := range keys {
					v, err := d.Get(k)
					if found[i] != (err == nil) || !bytes.Equal(vals[i], v) {
						t.Fatalf("hash=%v %s byte %d: GetBatch(%q) = %q, %v; Get = %q, %v", hash, file, pos, k, vals[i], found[i], v, err)
					}
					if err != nil && !errors.Is(err, reader.ErrNotFound) && firstErr == nil {
						firstErr = err
					}
				}
				switch {
				case (berr == nil) != (firstErr == nil):
					t.Fatalf("hash=%v %s byte %d: GetBatch error %v, Get's first %v", hash, file, pos, berr, firstErr)
				case berr != nil && !errors.Is(berr, reader.ErrCorrupt):
					t.Fatalf("hash=%v %s byte %d: GetBatch error %v wraps no ErrCorrupt", hash, file, pos, berr)
				}
				d.Close()
			}
			if err := os.WriteFile(name, orig, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
