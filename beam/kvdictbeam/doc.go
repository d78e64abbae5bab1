// Package kvdictbeam builds one kvdict dictionary with an Apache Beam
// pipeline (Go SDK), on any runner: Prism in-process for tests and small
// data, Dataflow, Flink or Spark for big data.
//
// The pipeline is kvdict's engine-neutral scale-out (docs/DESIGN.md,
// "Building across machines") expressed in Beam transforms:
//
//	list the --input globs (io/filesystem)  ─▶ files, numbered in input order
//	read key<TAB>value rows (splittable DoFn over byte ranges, gzip/zstd whole)
//	   each row carries its place: file number and byte offset
//	sample keys (bottom-k by hash: deterministic) ─▶ builder.SplitKeys ─▶ N-1 split keys
//	route each row to builder.RangeOf(splits, key) ─▶ GroupByKey(range)
//	per range, on a worker: builder.Sorter (spills to local disk) ─▶ builder.MakePart
//	   ─▶ part-RRRRR-<random>.* in the parts directory (uploaded when it is gs:// or s3://)
//	one final step: fill empty ranges, drop other attempts' parts, builder.Join
//
// Every row carries its place in input order (file number in the order of
// the globs, then byte order of the names within a glob; byte offset in the
// file), so all six duplicate policies give what kvbuild gives on the same
// files in that order: last, first and concat need that order, error, sum
// and count do not (see Options.Duplicates).
//
// The module is separate from kvdict's (beam/go.mod) because Beam's SDK
// links ~800 packages; kvdict itself never imports it.
package kvdictbeam
