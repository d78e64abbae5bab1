//go:build !linux

package mmapfile

// AdviseHuge asks for transparent huge pages on data; only Linux has
// MADV_HUGEPAGE, so elsewhere it does nothing and reports false.
func AdviseHuge(data []byte) bool { return false }
