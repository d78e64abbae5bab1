// Package builder writes a kvdict dictionary from keys that arrive already
// sorted in byte order (bytes.Compare) and without duplicates. kvbuild's
// external sort feeds it; programs that already hold sorted data can use it
// directly.
//
// # Atomicity
//
// A Builder writes into a fresh temporary directory beside the target
// (".NAME.tmp-XXXX"). Commit fsyncs every file and the directory, writes the
// MANIFEST last, and renames the directory into place; only then can a
// reader open it. An error, a crash or Abort at any earlier point leaves the
// target untouched: either absent, or the previous dictionary intact.
// Replacing an existing dictionary happens only with Options.Force, and then
// atomically (renameat2 RENAME_EXCHANGE where the file system supports it):
// readers that already have the old dictionary open keep reading it until
// they close it.
//
// # Partitions
//
// A dictionary is one or more partitions, disjoint key ranges in increasing
// order, each an FST file plus the value log it points into. Partitions are
// written independently, so several goroutines can each fill one
// (vellum's FST builder is single-threaded; this is how a build uses every
// core). The partition made first must hold the smallest keys; Commit checks
// that partitions are disjoint and ordered.
//
// # Costs
//
// Building is O(n) in the input and streams to disk: each open partition
// holds the FST builder's bounded state (a few MB), the value
// deduplication cache (valuelog.WriterOptions.DedupBytes) and two 1 MiB
// write buffers, whatever the number of keys.
package builder
