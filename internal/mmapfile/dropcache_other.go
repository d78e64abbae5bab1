//go:build !linux

package mmapfile

import (
	"errors"
	"runtime"
)

// DropCache asks the kernel to drop the file's pages from the page cache.
// Only Linux has a per-file way (posix_fadvise); elsewhere it fails, and
// cold-cache benchmarks need the system's own purge command.
func DropCache(path string) error {
	return errors.New("mmapfile: dropping a file's cached pages is not supported on " + runtime.GOOS)
}
