//go:build amd64 || arm64

package prefetch

// line prefetches the cache line holding *p (prefetch_$GOARCH.s).
//
//go:noescape
func line(p *byte)

// lines prefetches the cache lines holding p[0:n], n > 0, from the last
// one down to the first (prefetch_$GOARCH.s).
//
//go:noescape
func lines(p *byte, n int)

// Enabled reports whether At prefetches on this architecture.
const Enabled = true
