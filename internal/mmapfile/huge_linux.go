package mmapfile

import "golang.org/x/sys/unix"

// AdviseHuge asks for transparent huge pages on data, a mapping
// (MADV_HUGEPAGE): pages read from disk through it are cached in 2 MiB
// folios where the file system supports them (Linux 6.x, ext4 and xfs),
// and mapped with 2 MiB pages. It reports whether the kernel took the
// hint (kernels without transparent huge pages refuse it).
func AdviseHuge(data []byte) bool {
	return len(data) > 0 && unix.Madvise(data, unix.MADV_HUGEPAGE) == nil
}
