module github.com/kvdict/kvdict

go 1.26.0

// Direct dependencies, and why each is here:
require (
	// The FST (design card). Pinned to v1.2.1: v1.2.0 panics with
	// RegistryTableSize 0 and builds ~1.3x slower (docs/BENCHMARKS.md).
	github.com/blevesearch/vellum v1.2.1
	// mmap of every dictionary file: we own the mapping, never vellum.Open.
	github.com/edsrzf/mmap-go v1.2.0
	// Transparent .gz and .zst input for kvbuild: the standard library has
	// no zstd, and its gzip is slower. Also compressed value-log records
	// (internal/zrec): zstd with a dictionary trained by its dict package.
	github.com/klauspost/compress v1.20.3
	// The CLIs (design card).
	github.com/urfave/cli/v2 v2.27.7
	// The hash index's hash (part of the format): XXH3-64 with a seed. Chosen
	// over cespare/xxhash/v2 (XXH64) for speed on short keys (4.8-5.3 ns per
	// 50-byte URL, shared/research/hashindex.md) and because the reference
	// C library (libxxhash, Debian) has the same function for C readers.
	github.com/zeebo/xxh3 v1.1.0
	// madvise, fadvise, mincore and renameat2 (atomic --force replacement).
	golang.org/x/sys v0.49.0
)

require (
	github.com/bits-and-blooms/bitset v1.24.2 // indirect
	github.com/blevesearch/mmap-go v1.2.0 // indirect
	github.com/cpuguy83/go-md2man/v2 v2.0.7 // indirect
	github.com/klauspost/cpuid/v2 v2.2.10 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	github.com/xrash/smetrics v0.0.0-20240521201337-686a1a2994c1 // indirect
)
