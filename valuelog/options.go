package valuelog

// DefaultDedupBytes is the dedup cache budget used when
// WriterOptions.DedupBytes is 0: 8 MiB. With it the cache holds 65536 slots
// in 2-way sets (1.5 MiB) and a 6.5 MiB ring of value copies: it remembers
// up to 65536 recent values, and all of them while they average under
// 100 bytes. The builder runs one Writer per
// partition, concurrently, so even 32 partitions cost only 256 MiB, small
// next to the sort buffers. Measured by BenchmarkAppend.
const DefaultDedupBytes = 8 << 20

// maxDedupValue caps the size of a value the dedup cache will consider.
// Larger values bypass the cache: they are rarely repeated byte for byte,
// and copying them would evict many small values.
const maxDedupValue = 4 << 10

// WriterOptions configures a Writer. A nil *WriterOptions means defaults.
type WriterOptions struct {
	// DedupBytes is the memory budget, in bytes, of the cache that makes
	// identical values share one record. 0 means DefaultDedupBytes; a
	// negative value, or one under 128, turns dedup off. The cache (slot
	// table plus the copies of cached values) is allocated once by NewWriter
	// and never holds more than DedupBytes bytes. Values longer than 4 KiB
	// bypass it (for budgets under about 90 KiB: longer than a sixteenth of
	// the part of the budget that holds value copies).
	DedupBytes int
	// Keyed writes a version 2 log of keyed records (AppendKeyed): every
	// key gets a record holding the key and its value, or a reference to
	// an earlier record with the same value. The default, false, writes a
	// version 1 log of value-only records (Append).
	Keyed bool
	// Compression, when not nil, writes a compressed keyed log (codec 1;
	// needs Keyed): records in zstd-compressed groups, addressed by group
	// offset << AddrShift | index (see zstd.go).
	Compression *Compression
}

// ensureDefaults returns a copy of o with defaults filled in.
func (o *WriterOptions) ensureDefaults() WriterOptions {
	var r WriterOptions
	if o != nil {
		r = *o
	}
	if r.DedupBytes == 0 {
		r.DedupBytes = DefaultDedupBytes
	}
	return r
}
