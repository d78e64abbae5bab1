package reader_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

var update = flag.Bool("update", false, "rewrite testdata/dict-v1 (the format v1 compatibility fixture)")

// goldenKVs is the content of testdata/dict-v1: the edge cases of cdb's
// test table (empty key, empty value), a non-UTF-8 key, a non-ASCII key and
// a repeated value.
var goldenKVs = []testutil.KV{
	{Key: []byte(""), Value: []byte("empty key")},
	{Key: []byte("empty_value"), Value: []byte("")},
	{Key: []byte("caf\u00e9"), Value: []byte("non-ASCII key")},
	{Key: []byte{0xff, 0xfe, 0x00}, Value: []byte("binary key")},
	{Key: []byte("https://example.com/a"), Value: []byte("shared")},
	{Key: []byte("https://example.com/b"), Value: []byte("shared")},
}

var goldenOptions = &builder.Options{
	Tool: "kvdict-test",
	Now:  func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) },
}

// TestGolden pins format version 1 byte for byte: building goldenKVs must
// produce exactly the checked-in files, and the checked-in files must keep
// reading back (TestCompat_V1). A change here is a format change: bump the
// version instead of regenerating, unless the format is unreleased.
func TestGolden(t *testing.T) {
	checkGoldenDict(t, goldenOptions, "dict-v1", dictFiles)
}

// checkGoldenDict builds goldenKVs with o and compares the named files
// with testdata/dir byte for byte, or rewrites them under -update.
func checkGoldenDict(t *testing.T, o *builder.Options, dir string, files []string) {
	t.Helper()
	built := filepath.Join(t.TempDir(), "d")
	testutil.Build(t, built, goldenKVs, 1, o)
	golden := filepath.Join("testdata", dir)
	for _, name := range files {
		got, err := os.ReadFile(filepath.Join(built, name))
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			os.MkdirAll(golden, 0o755)
			if err := os.WriteFile(filepath.Join(golden, name), got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(filepath.Join(golden, name))
		if err != nil {
			t.Fatalf("%v (run go test ./reader -run %s -update)", err, t.Name())
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: built bytes differ from testdata/%s/%s:\n got %x\nwant %x", name, dir, name, got, want)
		}
	}
}

// TestCompat_V1 reads the checked-in format v1 dictionary. It must pass
// forever: every later build reads version 1 dictionaries.
func TestCompat_V1(t *testing.T) {
	d, err := reader.Open(filepath.Join("testdata", "dict-v1"), &reader.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Len() != len(goldenKVs) {
		t.Fatalf("Len = %d, want %d", d.Len(), len(goldenKVs))
	}
	for _, kv := range goldenKVs {
		v, err := d.Get(kv.Key)
		if err != nil || string(v) != string(kv.Value) {
			t.Errorf("Get(%q) = %q, %v; want %q", kv.Key, v, err, kv.Value)
		}
	}
	if m := d.Manifest(); m.Values != uint64(len(goldenKVs)-1) {
		t.Errorf("value records = %d, want %d (the repeated value stored once)", m.Values, len(goldenKVs)-1)
	}
}
