package reader_test

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kvdict/kvdict/internal/mmapfile"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// coldOpen evicts the dictionary's files from the page cache (mapped
// pages would stay, so before Open), opens it, and reports whether the
// files are still mostly out of the cache (not on tmpfs, and not when
// Open itself reads much of a small dictionary). TestWarmFile checks the
// mechanism on a file nothing else reads.
func coldOpen(t *testing.T, dir string) (*reader.Dict, bool) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		mmapfile.DropCache(filepath.Join(dir, e.Name()))
	}
	d, err := reader.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Stats()
	return d, err == nil && st.ResidentBytes < st.Bytes()/2
}

// Ensure Warm leaves every byte of the dictionary resident, or only the
// FSTs with IndexOnly, and reports the bytes warmed.
func TestWarm(t *testing.T) {
	kvs := testutil.RandomKVs(30000, 3)
	for i := range kvs {
		kvs[i].Value = append(kvs[i].Value, make([]byte, 200)...) // values dominate
	}
	dir := testutil.MustBuild(t, kvs, 3, nil)
	d, dropped := coldOpen(t, dir)
	st, _ := d.Stats()
	var prog atomic.Int64
	n, err := d.Warm(&reader.WarmOptions{IndexOnly: true, Progress: &prog})
	if err != nil || n != st.FSTBytes+st.HashIndexBytes+st.TopBytes || prog.Load() != n {
		t.Fatalf("index only: %d bytes (progress %d), %v; want %d", n, prog.Load(), err, st.FSTBytes+st.HashIndexBytes)
	}
	after, _ := d.Stats()
	if after.ResidentBytes < st.FSTBytes+st.HashIndexBytes {
		t.Fatalf("index only: %d resident, FSTs are %d", after.ResidentBytes, st.FSTBytes)
	}
	if dropped && after.ResidentBytes > st.Bytes()/2 {
		t.Errorf("index only warmed the values too: %d of %d resident", after.ResidentBytes, st.Bytes())
	}
	if !dropped {
		t.Log("the page cache could not be dropped here: residency checks are weaker")
	}

	d.Close()
	d, _ = coldOpen(t, dir)
	defer d.Close()
	if n, err = d.Warm(nil); err != nil || n != st.Bytes() {
		t.Fatalf("warm: %d, %v; want %d", n, err, st.Bytes())
	}
	if after, _ = d.Stats(); after.ResidentBytes < st.Bytes() {
		t.Fatalf("after Warm %d of %d bytes resident", after.ResidentBytes, st.Bytes())
	}
	d.Close()
	if _, err := d.Warm(nil); err != reader.ErrClosed {
		t.Fatalf("after Close: %v", err)
	}
}
