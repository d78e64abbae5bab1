package fst_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/fst"
)

var update = flag.Bool("update", false, "rewrite testdata/golden-v1.fst")

// goldenKVs are the keys of testdata/golden-v1.fst: a shared prefix
// ("cat", "cats"), a large value and a decreasing value.
var goldenKVs = []kv{
	{[]byte("cat"), 5},
	{[]byte("cats"), 1 << 40},
	{[]byte("dog"), 2},
}

// Ensure the builder writes exactly the bytes of testdata/golden-v1.fst,
// and that this version-1 file keeps loading with the same contents
// forever. Run with -update to rewrite it after a deliberate change (and
// bump Version if old files would no longer read the same).
// checkGoldenFile compares got with the file at path (after rewriting
// it with got when rewrite is set) and returns the file's bytes.
func checkGoldenFile(t *testing.T, path string, got []byte, rewrite bool) []byte {
	t.Helper()
	if rewrite {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\ngot  % x\nwant % x", path, got, want)
	}
	return want
}

func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "golden-v1.fst")
	want := checkGoldenFile(t, path, build(t, goldenKVs, nil), *update)
	f, err := fst.Load(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(); err != nil {
		t.Fatal(err)
	}
	if !equalKVs(collect(t, f.Range(nil, nil)), goldenKVs) {
		t.Fatal("golden file contents changed")
	}
}
