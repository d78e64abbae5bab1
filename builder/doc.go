// Package builder writes a kvdict dictionary. [Builder] takes keys already
// sorted in byte order (bytes.Compare) and without duplicates; [Sorter]
// takes records in any order, with duplicates, of any total size, and
// feeds a Builder. kvbuild is a TSV front end over Sorter.
//
// # Building from data in any order
//
// [NewSorter] starts a dictionary at a path; [Sorter.Add] (or one
// [SortWriter] per producing goroutine) takes records; [Sorter.Commit]
// merges and installs the dictionary; [Sorter.Abort] discards it.
//
//		records ──Add──▶ run buffers ──sort, fold duplicates──▶ spill (when full)
//		                                                          │
//		   Partitions merges ◀── splitter keys sampled from every run
//		   (k-way heap merge of every run and SortedInput over one key range,
//		    duplicate policy applied, written to its own partition)
//
//	  - A SortWriter fills its own arena (key and value bytes in big blocks
//	    outside the Go heap, plus a 32-byte index entry per record with an
//	    8-byte key prefix). When it is full the writer sorts it (a radix sort
//	    on the prefixes; byte order, then sequence number), folds each key's
//	    records with the [Policy] and spills it to a run file. Nothing is
//	    allocated per record.
//	  - Commit picks Partitions-1 splitter keys from samples of every run and
//	    merges each key range in parallel, in one pass whatever the fan-in:
//	    every run file is read once in total (spilled runs are entered
//	    through a sparse index), and vellum's single-threaded FST
//	    construction runs on every core. Input that fits in memory is never
//	    spilled.
//	  - A [SortedInput] — a source already in key order, such as the
//	    dictionary that an update replaces — enters the merge as one more
//	    run without being sorted or spilled ([Sorter.AddSorted]). Its
//	    records carry one sequence number, so with 0 they are older than
//	    every added record and the policy treats them as the first
//	    occurrences.
//	  - Under SortOptions.Sorted nothing is sorted: records arrive in order,
//	    duplicates are folded as they come, and each full segment becomes a
//	    partition written while records still arrive.
//
// Every record has a sequence number, its place in input order: the policy
// goes by it ("first", "last", concat's order) and errors name records by it
// ([RecordError], [DuplicateKeyError], [OrderError]), so a front end can map
// it back to its own notion of place (kvbuild: FILE:LINE).
//
// SortOptions.Memory bounds the run buffers, spill and merge buffers and
// SortOptions.PartitionReserve per output partition; Threads is lowered
// when the budget is too small for it.
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
// deduplication cache (valuelog.WriterOptions.DedupBytes) and two 2 MiB
// write buffers, whatever the number of keys.
package builder
