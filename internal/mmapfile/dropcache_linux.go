package mmapfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// DropCache writes the file's dirty pages back (fdatasync) and then asks
// the kernel to drop its pages from the page cache (posix_fadvise
// POSIX_FADV_DONTNEED), which skips dirty pages: without the write-back a
// freshly built file would stay cached. Pages that a process still maps
// may stay too. Benchmarks use it to measure cold lookups.
func DropCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("mmapfile: fdatasync %s: %w", path, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("mmapfile: fadvise %s: %w", path, err)
	}
	return nil
}
