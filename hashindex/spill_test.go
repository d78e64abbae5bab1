package hashindex_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/hashindex"
)

// spillingWriter returns a Writer over out that has spilled runs of
// n keys into a spill file in dir (whose path it returns) at a 64 KiB
// budget: 2048 pairs a run, the bufio writer (256 KiB) flushed n*16/256Ki
// times.
func spillingWriter(t *testing.T, out *bytes.Buffer, dir string, n int) (*hashindex.Writer, string) {
	t.Helper()
	w := hashindex.NewWriter(out, &hashindex.WriterOptions{Seed: 3, MemoryBytes: 64 << 10, TmpDir: dir})
	for i, k := range keys(n, "k") {
		if err := w.Add(k, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(m) != 1 {
		t.Fatalf("%d files in the spill directory, want one: %v", len(m), m)
	}
	return w, m[0]
}

// Ensure that Close and Abort remove the spill file, whether Close
// succeeds or not.
func TestWriter_RemovesSpillFile(t *testing.T) {
	for _, end := range []string{"Close", "Abort", "Close after damage"} {
		t.Run(end, func(t *testing.T) {
			dir := t.TempDir()
			var out bytes.Buffer
			w, path := spillingWriter(t, &out, dir, 40_000)
			switch end {
			case "Close":
				if _, err := w.Close(); err != nil {
					t.Fatal(err)
				}
			case "Abort":
				w.Abort()
			case "Close after damage":
				if err := os.Truncate(path, 1000); err != nil {
					t.Fatal(err)
				}
				w.Close()
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) != 0 {
				t.Fatalf("left behind: %v", m)
			}
		})
	}
}

// Ensure that a spill file damaged between the spills and Close (cut
// short, overwritten, zeroed: another process, a full or failing disk)
// makes Close fail rather than panic or write an index that misplaces
// keys.
func TestWriter_DamagedSpillFile(t *testing.T) {
	const n = 40_000 // 640,000 spilled bytes, all but the last run flushed
	for _, tc := range []struct {
		name   string
		damage func(f *os.File) error
	}{
		{"truncated", func(f *os.File) error { return f.Truncate(300_000) }},
		{"truncated to a run boundary", func(f *os.File) error { return f.Truncate(2048 * 16 * 3) }},
		{"emptied", func(f *os.File) error { return f.Truncate(0) }},
		{"zeroed hashes", func(f *os.File) error { _, err := f.WriteAt(make([]byte, 4096), 100_000); return err }},
		{"one byte of an address", func(f *os.File) error { _, err := f.WriteAt([]byte{0x5a}, 2048*16*2+8+16*100+2); return err }},
		{"one byte of a hash", func(f *os.File) error { _, err := f.WriteAt([]byte{0x5a}, 2048*16*5+16*7+3); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w, path := spillingWriter(t, &out, t.TempDir(), n)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if _, err := w.Close(); err == nil {
				t.Fatal("Close succeeded on a damaged spill file")
			}
		})
	}
}
