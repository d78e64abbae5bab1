package reader_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// FuzzOpen feeds arbitrary bytes as each of a dictionary's three files and
// checks that Open, Get, every iterator and Verify return errors instead of
// panicking or hanging. Run it with -fuzzminimizetime 50x on a busy machine:
// minimizing an input runs it thousands of times. Seeds are the files of a real dictionary
// (testdata/dict-v1, checked in) plus a fresh one.
func FuzzOpen(f *testing.F) {
	seed := func(dir string) {
		var files [3][]byte
		for i, name := range dictFiles {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				f.Fatal(err)
			}
			files[i] = b
		}
		f.Add(files[0], files[1], files[2])
	}
	seed(filepath.Join("testdata", "dict-v1"))
	seed(testutil.MustBuild(f, testutil.RandomKVs(30, 5), 1, nil))
	probe := [][]byte{nil, {}, []byte("a"), []byte("https://"), {0xff, 0xff}}
	f.Fuzz(func(t *testing.T, man, fstData, logData []byte) {
		// A hang is a bug too: crash with every goroutine's stack so the
		// fuzzer records the input.
		watchdog := time.AfterFunc(20*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("FuzzOpen: one input ran over 20s:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		dir := t.TempDir()
		for i, b := range [][]byte{man, fstData, logData} {
			if err := os.WriteFile(filepath.Join(dir, dictFiles[i]), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, err := reader.Open(dir, nil)
		if err != nil {
			return
		}
		defer d.Close()
		for _, k := range probe {
			d.Get(k)
			d.Contains(k)
		}
		n := 0
		for it := d.All(); it.Next() && n < 10_000; n++ {
			d.Get(it.Key())
			it.Value()
		}
		for it := d.Prefix([]byte("h")); it.Next(); {
			it.Value()
		}
		if it, err := d.Fuzzy("abc", 1); err == nil {
			for it.Next() {
			}
		}
		d.Verify()
		d.Stats()
	})
}

// FuzzOpenHashIndex is FuzzOpen for a dictionary with keyed records and a
// hash index: arbitrary bytes as each of its four files. Beyond not
// panicking or hanging, it checks exactness: a key Get finds through the
// index is the key a scan finds, with the same value (Get compares the key
// stored in the record, so no damage can return another key's value).
// Seeds are testdata/dict-hash and a fresh multi-record dictionary.
func FuzzOpenHashIndex(f *testing.F) {
	seed := func(dir string) {
		var files [4][]byte
		for i, name := range goldenHashFiles {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				f.Fatal(err)
			}
			files[i] = b
		}
		f.Add(files[0], files[1], files[2], files[3])
	}
	seed(filepath.Join("testdata", "dict-hash"))
	seed(testutil.MustBuild(f, testutil.RandomKVs(30, 5), 1, hashOptions(f)))
	probe := [][]byte{nil, {}, []byte("a"), []byte("https://"), {0xff, 0xfe, 0x00}, []byte("empty_value")}
	f.Fuzz(func(t *testing.T, man, fstData, logData, hixData []byte) {
		watchdog := time.AfterFunc(20*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("FuzzOpenHashIndex: one input ran over 20s:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		dir := t.TempDir()
		for i, b := range [][]byte{man, fstData, logData, hixData} {
			if err := os.WriteFile(filepath.Join(dir, goldenHashFiles[i]), b, 0o644); err != nil {
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
			it.Value()
			d.Get(it.Key())
		}
		for it := d.Prefix([]byte("h")); it.Next(); {
			it.Value()
		}
		if d.Verify() == nil {
			// A dictionary that verifies answers every scanned key exactly.
			for it := d.All(); it.Next(); {
				v, err := d.Get(it.Key())
				if err != nil || !bytes.Equal(v, it.Value()) {
					t.Fatalf("verified dictionary: Get(%q) = %q, %v; scan says %q", it.Key(), v, err, it.Value())
				}
			}
		}
	})
}
