// Package extsort is kvbuild's TSV front end over [builder.Sorter]: it reads
// key<TAB>value lines, bigger than RAM and in any order, from files or
// stdin (.gz and .zst decompressed, detected by magic bytes), and adds them
// to a Sorter, which sorts, applies the duplicate policy and writes the
// dictionary. (The package keeps its historical name; the sort itself is
// builder's.)
//
// # Pipeline
//
//		inputs ──reader──▶ chunks of whole lines ──T parse workers──▶ T SortWriters ──▶ Sorter
//
//	  - One reader goroutine reads the inputs in order, cuts them into
//	    multi-MiB chunks at line boundaries and numbers the lines, so every
//	    record knows its file and line.
//	  - T parse workers (one under Sorted, which needs the records in order)
//	    split chunks into records and add them through their own
//	    builder.SortWriter. A record's sequence number is file<<40 | line,
//	    so the Sorter's policy goes by file order, then line order.
//	  - The Sorter's errors name records by sequence number; Build maps them
//	    back to FILE:LINE ([LineError], [DuplicateKeyError], [OrderError]).
//
// # Memory
//
// The chunk pool (2T+2 chunks) comes out of the eighth of the Sorter's
// budget that the Sorter keeps for its merge's read buffers, idle while
// records are added.
package extsort
