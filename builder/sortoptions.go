package builder

import (
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

// SortOptions configure a [Sorter]. A nil *SortOptions means the defaults.
type SortOptions struct {
	// Duplicates decides the value of a key added more than once. The
	// zero value is KeepLast.
	Duplicates Policy
	// Memory is the budget in bytes for the sorter: run buffers, spill
	// and merge buffers, and PartitionReserve per output partition.
	// Default DefaultMemory(). An eighth of it is kept for the merge's
	// read buffers and is idle while records are added: a producer may
	// use up to that much for its own input buffers (kvbuild's chunk pool
	// does). Anything else the caller uses is not included.
	Memory int64
	// Threads is the number of run buffers sorted concurrently (at most
	// one per SortWriter) and of output partitions merged in parallel.
	// Default runtime.NumCPU(). It is lowered when Memory cannot give each
	// thread its PartitionReserve plus a 16 MiB run buffer; Stats reports
	// the number used.
	Threads int
	// TempDir is where full run buffers are spilled, inside a private
	// subdirectory that Commit and Abort remove. Default os.TempDir().
	// The run files need about as much space as the records added.
	TempDir string
	// KeepTemp leaves the run files behind (for debugging); Stats names
	// their directory.
	KeepTemp bool
	// Sorted declares that records arrive in key order (equal keys
	// adjacent, in sequence order): nothing is sorted or spilled, the
	// order is checked (an *OrderError), and full segments are written as
	// partitions while records still arrive. Add from one goroutine.
	Sorted bool
	// Partitions is the number of key-range partitions the merge writes,
	// in parallel. Default Threads; 1 builds a single partition (for
	// example one partition of a key range in a distributed build). Fewer
	// are written when the records are few. Ignored under Sorted, which
	// cuts a partition whenever a segment fills.
	Partitions int
	// PartitionReserve is the memory counted per output partition for the
	// builder's own state (vellum, the value dedup cache, write buffers,
	// the hash index's buffers if any). Default DefaultPartitionReserve.
	PartitionReserve int64
	// Builder configures the dictionary written (Force, FST and value-log
	// options, Tool, Build). Nil means the Builder defaults, except that
	// the FST registry is off (fst.BuilderOptions.RegistryTableSize -1)
	// unless Builder.FST says otherwise: about 3x faster FST construction
	// for a 1-2% bigger dictionary (docs/BENCHMARKS.md, section 2).
	Builder *Options
	// Progress, if set, is updated while the sorter runs.
	Progress *SortProgress

	noThreadCap bool // tests: keep Threads whatever the Memory
}

// DefaultPartitionReserve is SortOptions.PartitionReserve's default: the
// memory of one open partition without a hash index, in the worst case it
// can reach: the value log's dedup cache full (valuelog's 8 MiB default),
// the FST and value-log write buffers (2 MiB each, internal/frame), and 4 MiB
// for vellum's builder state and registry (its default 10000 rows take about 2.3 MiB:
// 32 partitions of the 886k PyPI rows peak 72 MiB higher with the registry
// than without). Measured use is lower, ~1.5 MiB a partition on that data
// (docs/BENCHMARKS.md). A thread then needs 16 + 1 (spill buffer) + 16
// (minUsefulRun) = 33 MiB, so the default 4 GiB budget runs 107 threads:
// --threads 64 on a big server is not capped (with the former 48 MiB it was
// capped to 54, with a warning on every build). Callers that enlarge the
// registry or add a hash index add their cost to it.
const DefaultPartitionReserve = 16 << 20

// Fixed parts of the memory budget.
const (
	spillBufSize  = 1 << 20  // write buffer per run writer
	slackBytes    = 24 << 20 // Go runtime, goroutine stacks, small buffers
	minRunBudget  = 64 << 10 // per run buffer, whatever the budget
	minUsefulRun  = 16 << 20 // the smallest run buffer Threads is capped to keep
	mergeIOShare  = 8        // the merge's read buffers get Memory/mergeIOShare
	minReadBuf    = 16 << 10 // per run per partition in the merge
	maxReadBuf    = 1 << 20
	samplesPerRun = 1024 // splitter samples from an in-memory run

	// singlePartitionBelow is the record count under which one partition
	// is written (tiny inputs are not worth splitting).
	singlePartitionBelow = 4096
)

// DefaultMemory is the default budget: a quarter of physical RAM, at most
// 4 GiB and at least 256 MiB. A quarter leaves room for the page cache that
// the spill files and the freshly written dictionary live in, and for other
// processes; beyond 4 GiB bigger runs barely help, since the merge is one
// pass whatever the fan-in.
func DefaultMemory() int64 {
	return min(max(physicalRAM()/4, 256<<20), 4<<30)
}

// withDefaults resolves the zero fields and caps Threads to the budget.
func (o *SortOptions) withDefaults() SortOptions {
	var r SortOptions
	if o != nil {
		r = *o
	}
	if r.Memory <= 0 {
		r.Memory = DefaultMemory()
	}
	if r.Threads <= 0 {
		r.Threads = runtime.NumCPU()
	}
	if r.TempDir == "" {
		r.TempDir = os.TempDir()
	}
	if r.PartitionReserve <= 0 {
		r.PartitionReserve = DefaultPartitionReserve
	}
	if r.Progress == nil {
		r.Progress = new(SortProgress)
	}
	// Each thread needs its output partition's reserve, a spill buffer and
	// a run buffer worth having; a small budget gets fewer threads rather
	// than thousands of tiny runs (which would make the one merge pass
	// open thousands of files).
	if !r.noThreadCap {
		per := r.PartitionReserve + spillBufSize + minUsefulRun
		t := (r.Memory - slackBytes - r.Memory/mergeIOShare) / per
		r.Threads = int(min(max(t, 1), int64(r.Threads)))
	}
	if r.Partitions <= 0 {
		r.Partitions = r.Threads
	}
	return r
}

// runBudget is the memory of one run buffer when parts of them share the
// budget (Threads writers, or Threads+1 segments under Sorted).
func (o *SortOptions) runBudget(parts int) int64 {
	t := int64(o.Threads)
	fixed := t*spillBufSize + t*o.PartitionReserve + slackBytes + o.Memory/mergeIOShare
	return max((o.Memory-fixed)/int64(parts), minRunBudget)
}

// SortStats describes a Sorter's work so far (complete after Commit).
type SortStats struct {
	Records     int64         // records added (and records of sorted inputs)
	Keys        int64         // distinct keys written
	Duplicates  int64         // records folded into another record of the same key
	Runs        int           // sorted runs merged (spilled + in memory + sorted inputs)
	Spilled     int           // runs written to disk
	SpillBytes  int64         // bytes written to run files
	Partitions  int           // partitions written
	MemoryLimit int64         // the budget used (SortOptions.Memory)
	Threads     int           // threads used (SortOptions.Threads, capped by Memory)
	MergeTime   time.Duration // Commit's merge into the partitions
	TempDir     string        // the run files' directory, if kept (KeepTemp)
}

// Phases reported through SortProgress.
const (
	PhaseAdd   = "add"   // records are being added (and sorted, spilled)
	PhaseMerge = "merge" // Commit is merging runs into the dictionary
	PhaseDone  = "done"  // committed or aborted
)

// SortProgress is updated atomically while a Sorter runs, for a progress
// bar; read it from any goroutine.
type SortProgress struct {
	phase        atomic.Value // string
	Records      atomic.Int64 // records added
	TotalRecords atomic.Int64 // records to merge, known when the merge starts
	Merged       atomic.Int64 // records merged
}

// Phase returns the current phase.
func (p *SortProgress) Phase() string {
	if s, ok := p.phase.Load().(string); ok {
		return s
	}
	return PhaseAdd
}

func (p *SortProgress) setPhase(s string) { p.phase.Store(s) }
