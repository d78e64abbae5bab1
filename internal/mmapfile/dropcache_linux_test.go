package mmapfile

import (
	"os"
	"path/filepath"
	"testing"
)

// A file just written has dirty pages, which POSIX_FADV_DONTNEED alone
// leaves cached; DropCache writes them back first, so a cold-cache
// benchmark that builds and then drops really starts cold.
func TestDropCache_FreshlyWrittenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	before := resident(t, path)
	if before == 0 {
		t.Skip("the written pages are not cached here (filesystem without a page cache?)")
	}
	if err := DropCache(path); err != nil {
		t.Fatal(err)
	}
	if after := resident(t, path); after > before/10 {
		t.Fatalf("%d of %d cached pages still resident after DropCache", after, before)
	}
}

func TestDropCache_MissingFile(t *testing.T) {
	if err := DropCache(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Fatal("DropCache of a missing file returned nil")
	}
}

func resident(t *testing.T, path string) int {
	t.Helper()
	f, err := Open(path, AdviceNormal)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, _, err := f.Resident()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
