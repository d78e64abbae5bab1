package reader

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kvdict/kvdict/internal/mmapfile"
)

// Ensure warmFile brings a whole cold file into the page cache: 20 MiB,
// evicted (fsynced first, so its pages are clean), mapped, warmed.
func TestWarmFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 20<<20+123)
	rand.Read(data)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	f.Sync()
	f.Close()
	if err := mmapfile.DropCache(path); err != nil {
		t.Fatal(err)
	}
	m, err := mmapfile.Open(path, mmapfile.AdviceRandom) // no readahead of its own
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	before, total, err := m.Resident()
	if err != nil {
		t.Fatal(err)
	}
	if before > total/2 {
		t.Skipf("the page cache cannot be dropped here (%d of %d pages resident)", before, total)
	}
	var prog atomic.Int64
	if err := warmFile(m.Data, &prog); err != nil {
		t.Fatal(err)
	}
	after, _, _ := m.Resident()
	if after != total || prog.Load() != int64(len(data)) {
		t.Fatalf("after warmFile: %d of %d pages resident (%d before), progress %d", after, total, before, prog.Load())
	}
}
