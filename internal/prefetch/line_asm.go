//go:build amd64 || arm64

package prefetch

// line prefetches the cache line holding *p (prefetch_$GOARCH.s).
//
//go:noescape
func line(p *byte)

// Enabled reports whether At prefetches on this architecture.
const Enabled = true
