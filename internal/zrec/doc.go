// Package zrec compresses small groups of value-log records with zstd and a
// dictionary trained at build time, so that one group decompresses on its
// own in about a microsecond: a point lookup reads and decodes a few hundred
// bytes, never a whole block of kilobytes.
//
// The package knows nothing of keys, values or file offsets. A group's
// payload is a short sequence of records (each an opaque byte string, e.g. a
// keyed record of package valuelog); the caller decides which records form
// a group (see [DefaultGroupRecords] and [DefaultGroupBytes]) and where the
// group is stored, and names a record by (group offset, index in group).
//
// # Group format
//
// All multi-byte integers are little-endian; uvarint is unsigned LEB128 as
// in encoding/binary. A group starts at a byte offset chosen by the caller:
//
//	+-----------+-------------+-------------------------------+------------+
//	| uvarint H | [uvarint m] | data: m zstd bytes or n raw   | [CRC-32C]  |
//	+-----------+-------------+-------------------------------+------------+
//
//	 0:a        H = n<<1 | s, a uvarint (1 <= a <= 10) where
//	              n = payload length in bytes (the decompressed size),
//	              s = 1 when the payload is stored raw (it did not shrink)
//	 a:a+b      only when s = 0: m = length of the zstd data, a uvarint
//	 ..+m|n     s = 0: the blocks of a zstd frame (RFC 8878 section 3.1.1)
//	            whose frame header is implied (below), m >= 3;
//	            s = 1: the payload verbatim, n bytes
//	 ..+4       only in files written with checksums (the default; the
//	            file records the choice, it is not a per-group flag, so a
//	            damaged header cannot switch the check off): CRC-32C
//	            (Castagnoli) of the n payload bytes, uint32 little-endian
//
// The implied frame header is not stored (it would cost 6 to 18 bytes a
// group). A reader rebuilds the standard frame by prepending
//
//	28 b5 2f fd           zstd magic
//	e3 | e0               frame header descriptor: FCS field 8 bytes,
//	                      single segment, no content checksum, dictionary ID
//	                      field 4 bytes (e3) when a dictionary is used, none
//	                      (e0) without one
//	ID (4 bytes)          the dictionary's ID (only with e3)
//	n (8 bytes)           frame content size = the payload length
//
// and decodes it with any zstd decoder (libzstd's ZSTD_decompress_usingDDict
// in C) given the dictionary. The decoded size must equal n.
//
// The payload is opaque to the group format. The helpers AppendRecord,
// Record and CountRecords frame records as a uvarint length followed by
// that many bytes; package valuelog instead stores its keyed records back
// to back, since they delimit themselves.
//
// # Dictionary format
//
// A dictionary is a standard zstd dictionary (RFC 8878 section 5: magic
// 37 a4 30 ec, a nonzero dictionary ID, entropy tables, content), trained by
// [Trainer] (a port of github.com/klauspost/compress/dict, trainhist.go)
// from a bounded random sample. An empty dictionary means "no dictionary"
// (e0 frames).
//
// # Worked example
//
// Records "hello" and "" in one group, too small to shrink, stored raw with
// a checksum (pinned by TestGolden):
//
//	0f                    H = 7<<1 | 1: n = 7, raw
//	05 68 65 6c 6c 6f 00  payload: record "hello", record ""
//	78 0f 28 7f           CRC-32C of the 7 payload bytes (0x7f280f78)
//
// A compressed group, testdata/golden.zrec (146 bytes: three PyPI rows and
// an empty record, with the 4,231-byte testdata/golden.dict), starts
//
//	ba 03                 H = 442 = 221<<1 | 0: n = 221, compressed
//	8a 01                 m = 138 bytes of zstd data follow
//	3d 04 00 ...          first zstd block header (RFC 8878 3.1.1.2:
//	                      last block, compressed, 135 bytes)
//	... c6 35 40 e4       the last 4 bytes: CRC-32C of the 221-byte payload
//
// and decodes by prepending 28 b5 2f fd e3 01 00 00 00 dd 00 00 00 00 00
// 00 00 to its 138 zstd bytes.
//
// # Encoder choices (not format)
//
// Within that format the Encoder makes two choices that decide read speed.
// Its dictionaries ([Trainer.Train]) have a literals Huffman tree that
// codes all 256 byte values (completeLitTree), and it rewrites each
// single-block group's literals section as "treeless" (RFC 8878
// Literals_Block_Type 3), coded with that tree, whenever the block grows by
// at most a couple of bytes (treeless.go). A decoder builds the
// dictionary's tables once (ZSTD_createDDict; klauspost's
// WithDecoderDicts); a group that carried its own tree cost a table build
// on every read, which was most of a lookup's time. Decoders need nothing
// new: older groups, and groups whose literals the tree cannot code, keep
// the zstd encoder's own tree.
//
// With such a dictionary the Encoder codes most groups itself (seqenc.go,
// fse.go): a greedy match search against the dictionary and the group,
// treeless literals, and sequences in Repeat_Mode (the dictionary's FSE
// distributions), all prepared once per dictionary, where klauspost's
// encoder resets its state to the dictionary and builds tables for every
// frame (~3x the CPU per group). Groups it cannot code that way (a code
// the dictionary's distributions lack, a payload over 32 KiB, a block
// that would not shrink) go to the zstd encoder as before.
//
// # Decoding
//
// A Decoder decodes the groups zrec writes with its own zstd block decoder
// (zdec.go and the zdec_*.go files: RFC 8878 blocks, literals, Huffman and
// FSE tables, sequences), which parses the dictionary's tables, repeat
// offsets and content once in NewDecoder and allocates nothing per group.
// It covers every block shape the format allows (raw/RLE/compressed
// blocks, raw/RLE/Huffman/treeless literals in one or four streams,
// predefined/RLE/FSE/repeat sequence tables); groups over 64 KiB of
// payload, and any group it refuses as damaged, are decoded by
// klauspost/compress instead, so a damaged group gets klauspost's verdict
// and the fast decoder never has to be complete to be correct
// (FuzzFastDecoder: whatever it accepts, klauspost accepts with the same
// bytes). The environment variable KVDICT_ZDEC=off, read by NewDecoder,
// leaves every group to klauspost (for comparisons, or to rule the fast
// decoder out when chasing a problem).
//
// # Damage
//
// Every decoding function bounds n by [DecoderOptions.MaxPayload] before it
// allocates, checks every length against the bytes it was given, and
// returns an error wrapping [ErrCorrupt] on any inconsistency: a bad
// varint, a truncated group, a zstd error, a size mismatch, a checksum
// mismatch, or a record index past the group's last record. It never
// panics. Without checksums a damaged literal can decode to different bytes
// of the right length; with them (the default) any damage that CRC-32C
// detects is reported.
package zrec
