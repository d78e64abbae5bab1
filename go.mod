module github.com/kvdict/kvdict

go 1.26.0

require (
	// mmap-go: we own the mapping of every dictionary file (never vellum.Open).
	github.com/edsrzf/mmap-go v1.2.0
	// x/sys: madvise, fadvise and renameat2(RENAME_EXCHANGE) for atomic --force.
	golang.org/x/sys v0.49.0
)
