// Package hashindex is a dictionary partition's hash index: an open
// addressing table, beside the FST, that maps a key to the address of its
// keyed record in the partition's value log in about one cache miss. The
// table holds no keys, only a 16-bit fingerprint per entry; the record
// holds the key, and a lookup is confirmed by comparing the key's bytes, so
// an absent key never returns a value whatever the table says.
//
// A Writer builds the index in bounded memory: it hashes each key as it is
// added, keeps (hash, address) pairs in a buffer of WriterOptions.MemoryBytes,
// sorts and spills full buffers as runs to a temporary file, and at Close
// merges the runs and places the entries in one sequential pass. An Index
// reads a loaded (mmapped) file with O(1) Load and allocation-free lookups.
//
// The file layout is documented in format.go and docs/FORMAT.md.
//
// # Costs
//
// Index size: 8 bytes per slot at load factor 0.8, about 10 bytes per key.
// A hit reads one or two table cache lines then the record; a miss reads
// one table line (the fingerprint rejects 65535 of 65536 non-matching
// entries before any record is read). Build: one XXH3-64 hash per key, a
// sort of 16-byte pairs, and the table written sequentially.
package hashindex
