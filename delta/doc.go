// Package delta updates a dictionary without rebuilding it from its full
// input: the old dictionary (the base) enters a [builder.Sorter]'s merge
// as its oldest sorted input, minus the keys to delete, and the new
// records (the delta) are added to the Sorter as usual.
//
// # Semantics
//
// The result is exactly what a full build would give from the combined
// input "the base's input, without the deleted keys, followed by the
// delta", under the same duplicate policy:
//
//   - last: a delta record replaces the base's value (upsert);
//   - first: the base's value stays; a delta key new to the base is added;
//   - error: a key in both the base and the delta fails the merge;
//   - sum: the base's value (a sum) and the delta's values add up;
//   - count: the base's value (a count) plus the number of delta records;
//   - concat: the base's value, the separator, then the delta's values.
//
// Deletions apply to the base only, before the delta: a key that is both
// deleted and in the delta ends up with the delta's value alone, as if
// the base never had it ("the delta wins"; delete + insert is a replace).
// A deleted key that is not in the base is ignored (and counted:
// Base.Missed). The empty key can be deleted, like any other.
//
// # Cost
//
// The base is streamed partition by partition (reader Range iterators)
// and never sorted or spilled; the delete set is itself sorted by a
// Sorter into a small keys-only dictionary in a temporary directory and
// merge-joined with the base, so memory stays within the Sorter's budget
// whatever the sizes. CPU is about that of building the result (the FST
// construction dominates), so a merge is not cheaper than a rebuild when
// the full input is at hand and fits in memory; it wins when the input is
// gone, much larger than the distinct keys (counts), or larger than RAM
// (docs/BENCHMARKS.md).
//
// # Example
//
//	base, _ := reader.Open("old.kvd", nil)
//	s, _ := builder.NewSorter("new.kvd", &builder.SortOptions{Duplicates: builder.Sum})
//	in := delta.NewBase(base, nil /* no deletions */)
//	s.AddSorted(in, 0)            // seq 0: older than every added record
//	s.Add(key, value)             // ... the delta
//	s.Commit()
package delta
