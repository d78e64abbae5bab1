package extsort

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// Policy says what happens when a key occurs on more than one line.
type Policy int

// The duplicate policies. Input order is file order (as given on the command
// line), then line order.
const (
	// Last keeps the value of the last occurrence in input order (default).
	Last Policy = iota
	// First keeps the value of the first occurrence.
	First
	// Error fails the build, naming the key and two of its places.
	Error
	// Sum adds the values, which must be decimal int64 integers; a value
	// that is not, or a sum that overflows int64, fails the build.
	Sum
	// Count replaces the value by the number of occurrences (in decimal);
	// the input values are ignored.
	Count
	// Concat joins the values in input order with Options.Separator.
	Concat
)

var policyNames = []string{"last", "first", "error", "sum", "count", "concat"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy maps a --duplicates value to a Policy.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if s == n {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown duplicate policy %q (want one of %s)", s, strings.Join(policyNames, ", "))
}

// reduces reports whether duplicates are folded into one record inside a
// run (every policy but concat, whose output must keep every value).
func (p Policy) reduces() bool { return p != Concat }

// numeric reports whether records carry a count instead of a value.
func (p Policy) numeric() bool { return p == Sum || p == Count }

// MaxKeyLen is the longest key the dictionary format holds (fst.MaxKeyLen).
const MaxKeyLen = 65535

// Options configures a build. A nil *Options means the defaults.
type Options struct {
	// Memory is the budget in bytes for the whole pipeline. Default
	// DefaultMemory().
	Memory int64
	// Threads is the number of parse/sort workers and of output partitions.
	// Default runtime.NumCPU(). It is lowered when Memory cannot give each
	// thread its PartitionReserve plus a 16 MiB run buffer (Stats.Threads).
	Threads int
	// TmpDir is where run files are spilled (inside a private subdirectory
	// that is always removed unless KeepTmp). Default os.TempDir(); the CLI
	// defaults to the output's directory.
	TmpDir string
	// KeepTmp leaves the run files behind (for debugging).
	KeepTmp bool
	// Sorted declares the input already in byte order: no sort, no spill;
	// order is checked and a violation fails with file:line.
	Sorted bool
	// Duplicates is the duplicate-key policy. Default Last.
	Duplicates Policy
	// Separator joins values under Concat. Default ",".
	Separator []byte
	// Unescape decodes \t \n \r \\ in keys and values.
	Unescape bool
	// SkipInvalid skips bad lines instead of failing; Stats counts them.
	SkipInvalid bool
	// KeyOnly reads a line without a TAB as a key with an empty value
	// (sets; counting with Count) instead of an invalid line.
	KeyOnly bool
	// SkipHeader skips the first SkipHeader lines of every input.
	SkipHeader int
	// PartitionReserve is the memory counted per output partition for the
	// builder (vellum state, value dedup cache, write buffers). Default 48 MiB.
	PartitionReserve int64
	// ChunkSize is the size of the input chunks handed to workers. Default
	// 4 MiB, less when the pool of 2*Threads+2 chunks would exceed Memory/8.
	ChunkSize int
	// Progress, if set, is updated as the build runs.
	Progress *Progress

	noThreadCap bool // tests: keep Threads whatever the Memory
}

// minUsefulRun is the smallest run buffer per thread that Threads is
// capped to keep: 16 MiB of records per run.
const minUsefulRun = 16 << 20

// DefaultMemory is the default budget: a quarter of physical RAM, at most
// 4 GiB and at least 256 MiB. A quarter leaves room for the page cache that
// the spill files and the freshly written dictionary live in, and for other
// processes; beyond 4 GiB bigger runs barely help, since the merge is one pass
// whatever the fan-in.
func DefaultMemory() int64 {
	ram := physicalRAM()
	m := ram / 4
	if m > 4<<30 {
		m = 4 << 30
	}
	if m < 256<<20 {
		m = 256 << 20
	}
	return m
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Memory <= 0 {
		r.Memory = DefaultMemory()
	}
	if r.Threads <= 0 {
		r.Threads = runtime.NumCPU()
	}
	if r.TmpDir == "" {
		r.TmpDir = os.TempDir()
	}
	if r.Separator == nil {
		r.Separator = []byte(",")
	}
	if r.PartitionReserve <= 0 {
		r.PartitionReserve = 48 << 20
	}
	if r.ChunkSize <= 0 {
		// 4 MiB, unless the chunk pool (2T+2 chunks) would take more than
		// an eighth of the budget (many threads, little memory).
		r.ChunkSize = int(min(4<<20, max(64<<10, r.Memory/int64(8*(2*r.Threads+2)))))
	}
	if r.Progress == nil {
		r.Progress = new(Progress)
	}
	if !r.noThreadCap {
		// Each thread needs its output partition's reserve, chunks, a spill
		// buffer and a run buffer worth having; a small budget gets fewer
		// threads rather than thousands of tiny runs (which would make the
		// one merge pass open thousands of files).
		per := r.PartitionReserve + 2*int64(r.ChunkSize) + spillBufSize + minUsefulRun
		t := (r.Memory - slackBytes - 2*int64(r.ChunkSize)) / per
		r.Threads = int(min(max(t, 1), int64(r.Threads)))
	}
	return r
}

// Stats describes a finished (or failed) build.
type Stats struct {
	InputBytes  int64         // bytes read from the inputs (compressed size for .gz/.zst)
	TextBytes   int64         // bytes of text read (after decompression)
	BOMInputs   []string      // inputs whose text starts with a UTF-8 byte order mark
	Lines       int64         // non-empty lines read
	Records     int64         // valid lines
	Skipped     int64         // invalid lines skipped under SkipInvalid
	FirstSkips  []LineError   // the first few skipped lines, in the order they were found
	Keys        int64         // distinct keys written
	Duplicates  int64         // records folded into another record of the same key
	Runs        int           // sorted runs (spilled + in memory)
	Spilled     int           // runs written to disk
	SpillBytes  int64         // bytes written to run files
	Partitions  int           // output partitions
	MemoryLimit int64         // the budget used
	Threads     int           // threads used (Options.Threads, capped by Memory)
	ReadTime    time.Duration // parsing, sorting and spilling (the whole build under Sorted)
	MergeTime   time.Duration // merging into the partitions
	TmpDir      string        // the run files' directory, if kept (KeepTmp)
}

// Phases reported through Progress.
const (
	PhaseRead  = "read"  // parsing (and sorting/spilling) the input
	PhaseMerge = "merge" // merging runs into the dictionary
	PhaseDone  = "done"
)

// Progress is updated atomically while a build runs, for a progress bar.
type Progress struct {
	phase        atomic.Value // string
	TotalBytes   atomic.Int64 // sum of input sizes, 0 if unknown (stdin)
	Bytes        atomic.Int64 // input bytes read
	Lines        atomic.Int64 // lines read
	TotalRecords atomic.Int64 // records to merge, known when the merge starts
	Merged       atomic.Int64 // records merged
}

// Phase returns the current phase.
func (p *Progress) Phase() string {
	if s, ok := p.phase.Load().(string); ok {
		return s
	}
	return PhaseRead
}

func (p *Progress) setPhase(s string) { p.phase.Store(s) }

// Sink receives the sorted output: partitions in key order, written
// concurrently. *builder.Builder satisfies it through a small adapter.
type Sink interface {
	// NewPartition opens the next partition; all its keys sort after
	// those of the partitions created before it.
	NewPartition() (PartitionWriter, error)
}

// PartitionWriter receives strictly increasing keys.
type PartitionWriter interface {
	Add(key, value []byte) error
	Close() error
}
