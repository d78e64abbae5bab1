package main

import (
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Ensure a build warns at the start, with the numbers, when the file
// systems of --tmp-dir and DICT have less free space than it will need,
// and still builds.
func TestRun_FreeSpaceWarning(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	in := writeFile(t, dir, "in.tsv", strings.Repeat("key\tvalue\n", 300000)) // 3000000 B
	gz := filepath.Join(dir, "in.tsv.gz")
	f, _ := os.Create(gz)
	zw := gzip.NewWriter(f)
	zw.Write([]byte("a\t1\n"))
	zw.Close()
	f.Close()
	fi, _ := os.Stat(gz)

	defer func(orig func(string) (int64, uint64, error)) { freeSpace = orig }(freeSpace)
	fs := map[string]uint64{dir: 1, tmp: 2}
	freeSpace = func(d string) (int64, uint64, error) { return 1 << 20, fs[d], nil }

	code, stderr := kvbuild(t, context.Background(), "", "-q", "--memory", "1M", "--tmp-dir", tmp, "-o", filepath.Join(dir, "d"), in, gz)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	need := formatBytes(3000000 + 4*fi.Size())
	for _, want := range []string{
		tmp + " has 1.0 MiB free, but this build needs ~" + need + " of sorted runs there (estimated from the input size, compressed files counted 4x)",
		dir + " has 1.0 MiB free, but this build needs up to ~" + need + " for the dictionary there",
		"put the runs on another file system with --tmp-dir",
		"write DICT to another file system",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// One file system: one warning adding both needs. Enough space, or
	// --sorted on input that fits: no runs, no warning about them.
	fs[tmp] = 1
	_, stderr = kvbuild(t, context.Background(), "", "-q", "--force", "--memory", "1M", "--tmp-dir", tmp, "-o", filepath.Join(dir, "d"), in)
	if strings.Count(stderr, "warning") != 1 || !strings.Contains(stderr, "of sorted runs and up to ~2.9 MiB for the dictionary") {
		t.Errorf("one file system:\n%s", stderr)
	}
	freeSpace = func(d string) (int64, uint64, error) { return 1 << 30, fs[d], nil }
	if _, stderr = kvbuild(t, context.Background(), "", "-q", "--force", "--memory", "1M", "--tmp-dir", tmp, "-o", filepath.Join(dir, "d"), in); stderr != "" {
		t.Errorf("enough space: %s", stderr)
	}
}
