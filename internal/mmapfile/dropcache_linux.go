package mmapfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// DropCache asks the kernel to drop the file's pages from the page cache
// (posix_fadvise POSIX_FADV_DONTNEED). Pages still mapped by a process, or
// dirty, may stay. Benchmarks use it to measure cold lookups.
func DropCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
