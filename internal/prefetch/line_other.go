//go:build !amd64 && !arm64

package prefetch

// line does nothing on architectures without an assembly prefetch.
func line(p *byte) {}

// lines does nothing on architectures without an assembly prefetch.
func lines(p *byte, n int) {}

// Enabled reports whether At prefetches on this architecture.
const Enabled = false
