package reader_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

var dictFiles = []string{"MANIFEST", "part-00000.fst", "part-00000.vlog"}

func smallDict(t *testing.T) (string, []testutil.KV) {
	kvs := testutil.RandomKVs(40, 11)
	return testutil.MustBuild(t, kvs, 1, nil), kvs
}

func mutate(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Ensure each kind of damage to each file maps to its sentinel at Open.
func TestOpen_Corrupt(t *testing.T) {
	tests := []struct {
		name string
		mut  func([]byte) []byte
		want error
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, reader.ErrCorrupt},
		{"truncated-to-half", func(b []byte) []byte { return b[:len(b)/2] }, reader.ErrCorrupt},
		{"empty", func(b []byte) []byte { return nil }, reader.ErrCorrupt},
		{"trailing-junk", func(b []byte) []byte { return append(b, 0) }, reader.ErrCorrupt},
		{"bad-magic", func(b []byte) []byte { b[0] ^= 0x20; return b }, reader.ErrMagic},
		{"future-version", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:12], 99); return b }, reader.ErrVersion},
	}
	for _, file := range dictFiles {
		for _, tt := range tests {
			t.Run(file+"/"+tt.name, func(t *testing.T) {
				dir, _ := smallDict(t)
				mutate(t, filepath.Join(dir, file), tt.mut)
				d, err := reader.Open(dir, nil)
				if err == nil {
					d.Close()
					t.Fatal("Open succeeded")
				}
				if !errors.Is(err, tt.want) {
					t.Fatalf("Open: %v, want %v", err, tt.want)
				}
			})
		}
	}
}

// Ensure a dictionary whose files are missing, or that is not a dictionary
// at all, gets a clear error.
func TestOpen_NotADict(t *testing.T) {
	dir, _ := smallDict(t)
	if err := os.Remove(filepath.Join(dir, "part-00000.vlog")); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Open(dir, nil); !errors.Is(err, reader.ErrCorrupt) {
		t.Fatalf("missing data file: %v", err)
	}
	if _, err := reader.Open(t.TempDir(), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty directory: %v", err)
	}
	file := filepath.Join(t.TempDir(), "x.tsv")
	os.WriteFile(file, []byte("a\tb\n"), 0o644)
	if _, err := reader.Open(file, nil); !errors.Is(err, reader.ErrMagic) {
		t.Fatalf("plain file: %v", err)
	}
}

// Ensure that flipping any single byte of any file is caught: Open fails,
// or Verify does; and that Get and scans on the damaged dictionary never
// panic. This is exhaustive over every byte of a small dictionary.
func TestVerify_EveryFlippedByte(t *testing.T) {
	dir, kvs := smallDict(t)
	for _, file := range dictFiles {
		orig, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for pos := range orig {
			b := append([]byte(nil), orig...)
			b[pos] ^= 0x5a
			if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := reader.Open(dir, nil)
			if err != nil {
				continue // caught at Open
			}
			for _, kv := range kvs {
				d.Get(kv.Key) // may be wrong or an error; must not panic
			}
			it := d.All()
			for it.Next() {
				it.Value()
			}
			if err := d.Verify(); !errors.Is(err, reader.ErrCorrupt) {
				t.Errorf("%s: byte %d flipped: Verify = %v, want ErrCorrupt", file, pos, err)
			}
			d.Close()
		}
		if err := os.WriteFile(filepath.Join(dir, file), orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := reader.Open(dir, &reader.Options{Verify: true})
	if err != nil {
		t.Fatalf("restored dictionary: %v", err)
	}
	d.Close()
}

// Ensure Options.Verify makes Open itself reject a damaged body.
func TestOpen_VerifyOption(t *testing.T) {
	dir, _ := smallDict(t)
	mutate(t, filepath.Join(dir, "part-00000.vlog"), func(b []byte) []byte { b[20] ^= 1; return b })
	d, err := reader.Open(dir, nil)
	if err != nil {
		t.Fatalf("plain Open should not read the body: %v", err)
	}
	d.Close()
	if _, err := reader.Open(dir, &reader.Options{Verify: true}); !errors.Is(err, reader.ErrCorrupt) {
		t.Fatalf("Open with Verify: %v", err)
	}
}

// Ensure files swapped in from another build are caught at Open.
func TestOpen_MixedBuilds(t *testing.T) {
	a, _ := smallDict(t)
	b := testutil.MustBuild(t, testutil.RandomKVs(40, 99), 1, nil)
	data, _ := os.ReadFile(filepath.Join(b, "part-00000.vlog"))
	os.WriteFile(filepath.Join(a, "part-00000.vlog"), data, 0o644)
	if _, err := reader.Open(a, nil); !errors.Is(err, reader.ErrCorrupt) {
		t.Fatalf("Open with another build's value log: %v", err)
	}
}

// Ensure the README's damage table holds for its worst row: a flipped bit
// inside a value is not seen by Open or Get (values carry no checksum of
// their own; the damaged bytes come back), and Verify reports it.
func TestDamage_ValueBitDetectedByVerifyOnly(t *testing.T) {
	kvs := []testutil.KV{{Key: []byte("key"), Value: []byte("the value of key")}}
	dir := testutil.MustBuild(t, kvs, 1, nil)
	vlog := filepath.Join(dir, "part-00000.vlog")
	mutate(t, vlog, func(b []byte) []byte {
		i := bytes.Index(b, []byte("value"))
		b[i] ^= 0x20 // "value" -> "Value"
		return b
	})
	d, err := reader.Open(dir, nil)
	if err != nil {
		t.Fatalf("Open: %v (Open does not read values)", err)
	}
	defer d.Close()
	v, err := d.Get([]byte("key"))
	if err != nil || string(v) != "the Value of key" {
		t.Fatalf("Get = %q, %v; want the damaged bytes (a lookup cannot see them)", v, err)
	}
	if err := d.Verify(); !errors.Is(err, reader.ErrCorrupt) {
		t.Fatalf("Verify: %v, want ErrCorrupt", err)
	}
}
