// Package valuelog stores the values of a kvdict dictionary: a writer that
// appends values as records (sharing one record between identical values
// through a bounded dedup cache), and a zero-copy, bounds-checked reader
// over the loaded (mmap'd) file. The FST maps each key to the file offset
// of its value's record.
//
// # File format
//
// A value log is a framed file (see package internal/frame): header, body,
// footer. All fixed-width integers are little-endian.
//
//	+-------------------------+--------------------------------------+--------------------+
//	| header (16 bytes)       | body: record, record, ...            | footer (32 bytes)  |
//	| "kvdVLOG\0" v1 codec 0  | each record = uvarint(len) + bytes   | count = records    |
//	+-------------------------+--------------------------------------+--------------------+
//
// Header (offset 0):
//
//	 0:8    magic "kvdVLOG\x00"
//	 8:12   version (uint32), 1
//	12:16   flags (uint32) = codec; 0 (CodecRaw) is the only codec in version 1
//
// Record (codec 0), at its absolute file offset off:
//
//	0:k    value length n as a uvarint (unsigned LEB128), 1 <= k <= 10
//	k:k+n  value bytes
//
// Footer (last 32 bytes): record count (uint64), body length (uint64), body
// CRC-32C over header+body, footer CRC-32C, magic.
//
// A record's address is its absolute file offset, so the first record is at
// offset 16. Offsets are uint64: there is no 4 GiB limit.
//
// Worked example: the values "a", "" and "hello" (testdata/golden-v1.vlog,
// pinned by TestGolden):
//
//	off  0: 6b 76 64 56 4c 4f 47 00 01 00 00 00 00 00 00 00   header
//	off 16: 01 61                                             "a"      -> offset 16
//	off 18: 00                                                ""       -> offset 18
//	off 19: 05 68 65 6c 6c 6f                                 "hello"  -> offset 19
//	off 25: 03 00 00 00 00 00 00 00  09 00 00 00 00 00 00 00   count 3, body length 9
//	        e0 83 47 26  ac 1e 5e 96  6b 76 64 56 4c 4f 47 00   body CRC, footer CRC, magic
//
// # Dedup
//
// Writer.Append keeps a 2-way set-associative cache keyed by a hash
// (hash/maphash) of recent values. A slot stores the record offset and a
// copy of the value bytes, and a hit requires the bytes to be equal: a hash
// collision can cost a missed dedup, never a wrong value. The cache uses at
// most WriterOptions.DedupBytes of memory; values over 4 KiB bypass it.
// Dedup is best effort: a value evicted from the cache is written again.
//
// # Costs
//
// Load is O(1): it checks the header and footer only. Value is O(1), does
// not allocate, and is safe for concurrent use. Verify reads the whole
// file.
//
// # Keyed records (version 2)
//
// With WriterOptions.Keyed the writer produces a version 2 log: one record
// per key holding the key and its value, or a reference to an earlier
// record with the same value (AppendKeyed; layout in format.go). Record
// and Match read them; Value skips the key; the iterator yields keys too.
// A hash index (package hashindex) confirms its candidates with Match.
//
// # Compressed logs (codec 1)
//
// With WriterOptions.Compression the records are stored in zstd groups of
// 1 to 16 (package internal/zrec) with a trained dictionary, codec 1 in the
// header flags, so that a reader without the codec rejects the file with
// ErrVersion at Load rather than misreading it. A version 1 log then holds
// the distinct values alone (zvalues.go), a version 2 log keyed records
// (zstd.go; keys stay inside so a hash match can still be confirmed). A
// record's address is its group's file offset << AddrShift | its index.
package valuelog
