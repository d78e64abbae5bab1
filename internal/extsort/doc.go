// Package extsort turns unsorted key<TAB>value lines, bigger than RAM, into
// the sorted, duplicate-free (key, value) stream that the dictionary builder
// needs. It is the engine behind kvbuild.
//
// # Pipeline
//
//		inputs ──reader──▶ chunks ──T parse workers──▶ run buffers ──sort──▶ spill (if full)
//		                                                                      │
//		        T partition merges ◀── T-1 sampled splitter keys ◀────────────┘
//		        (k-way heap merge over every run, one key range each,
//		         duplicate policy applied, written to its own builder partition)
//
//	  - One reader goroutine per build reads the inputs in order (decompressing
//	    .gz and .zst, detected by magic bytes), cuts them into multi-MiB chunks
//	    at line boundaries and numbers the lines, so every record knows its file
//	    and line (its sequence number, file<<40 | line).
//	  - T workers parse chunks into their own arena buffer: key and value bytes
//	    in one []byte, plus a 32-byte index entry per record with an 8-byte key
//	    prefix for cheap comparisons. When a worker's buffer is full it sorts
//	    it (byte order, then sequence number) and spills it to a run file,
//	    reducing duplicates inside the run where the policy allows. Buffers
//	    are reused; nothing is allocated per record.
//	  - After the input ends, T-1 splitter keys are chosen from samples of
//	    every run, and T partition merges run in parallel. Each is a k-way heap
//	    merge over its key range of every run (spilled runs are entered through
//	    a sparse index), so every run file is read exactly once in total and
//	    vellum's single-threaded FST construction runs on every core.
//	  - When the whole input fits in memory nothing is spilled.
//
// There is never more than one merge round, whatever the fan-in (the lesson
// of fst-bin, whose multi-level union re-read the data once per level).
//
// # Memory
//
// [Options.Memory] bounds the whole pipeline: run buffers, the chunk pool,
// merge read buffers and [Options.PartitionReserve] per output partition for
// the builder's own state. The run buffers get what is left.
//
// # Duplicates
//
// See [Policy]. Reductions (sum, count) happen record by record in the merge;
// only concat holds a key's output value in memory.
package extsort
