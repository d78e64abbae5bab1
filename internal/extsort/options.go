package extsort

import (
	"sync/atomic"
	"time"

	"github.com/kvdict/kvdict/builder"
)

// MaxKeyLen is the longest key the dictionary format holds.
const MaxKeyLen = 65535 // fst.MaxKeyLen; a test pins the two together

// Options configure how Build reads TSV. A nil *Options means the defaults.
// Everything about sorting, duplicates, memory and threads is the Sorter's
// (builder.SortOptions).
type Options struct {
	// Unescape decodes \t \n \r \\ in keys and values.
	Unescape bool
	// SkipInvalid skips bad lines instead of failing; Stats counts them.
	SkipInvalid bool
	// KeyOnly reads a line without a TAB as a key with an empty value
	// (sets; counting with Count) instead of an invalid line.
	KeyOnly bool
	// SkipHeader skips the first SkipHeader lines of every input.
	SkipHeader int
	// ChunkSize is the size of the input chunks handed to the parse
	// workers. Default 4 MiB, less when the pool of 2*Threads+2 chunks
	// would exceed an eighth of the Sorter's memory (the share the Sorter
	// keeps for its merge, idle while records are added).
	ChunkSize int
	// Progress, if set, is updated as the input is read.
	Progress *Progress
}

func (o *Options) withDefaults(so builder.SortOptions) Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.ChunkSize <= 0 {
		r.ChunkSize = int(min(4<<20, max(64<<10, so.Memory/int64(8*(2*so.Threads+2)))))
	}
	if r.Progress == nil {
		r.Progress = new(Progress)
	}
	return r
}

// Stats describes a finished (or failed) build: the reading here and the
// Sorter's work.
type Stats struct {
	builder.SortStats
	InputBytes int64         // bytes read from the inputs (compressed size for .gz/.zst)
	TextBytes  int64         // bytes of text read (after decompression)
	BOMInputs  []string      // inputs whose text starts with a UTF-8 byte order mark
	Lines      int64         // non-empty lines read
	Skipped    int64         // invalid lines skipped under SkipInvalid
	FirstSkips []LineError   // the first few skipped lines, in the order they were found
	ReadTime   time.Duration // reading, parsing, sorting and spilling (the whole build under Sorted)
}

// Progress is updated atomically while the input is read, for a progress
// bar (the Sorter's builder.SortProgress covers the merge).
type Progress struct {
	TotalBytes atomic.Int64 // sum of input sizes, 0 if unknown (stdin)
	Bytes      atomic.Int64 // input bytes read
	Lines      atomic.Int64 // lines read
}
