package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/tmpdir"
)

// Sorter builds a dictionary from records in any order, of any number and
// size: an external merge sort in bounded memory in front of a [Builder].
//
// Records go into run buffers; a full buffer is sorted (byte order of the
// key, then sequence number), its duplicates are folded by the policy, and
// it is spilled to a run file under SortOptions.TempDir. Commit merges every
// run — and every [SortedInput] — in one pass, in parallel over key ranges,
// each range into its own partition of the dictionary. Input that fits in
// SortOptions.Memory never touches the disk.
//
// Concurrency: [Sorter.Add] is safe for concurrent use (calls are
// serialized). For parallel producers, give each goroutine a [SortWriter]
// from [Sorter.NewWriter]: each has its own run buffer and sorts and spills
// it without locking. Commit and Abort must not run concurrently with Add.
//
// Atomicity is the Builder's: nothing appears at the path before Commit,
// and a failed or aborted build leaves the path as it was and removes every
// temporary file.
type Sorter struct {
	o     SortOptions // resolved
	b     *Builder
	owned bool // made by NewSorter: Commit commits b, Abort aborts it
	start time.Time

	addMu   sync.Mutex // serializes Add
	def     *SortWriter
	nextSeq uint64

	records, keys atomic.Int64

	sketch  keySketch  // the sample partition boundaries are cut from
	mu      sync.Mutex // guards the fields below
	done    bool       // Merge (or Commit) or Abort was called
	merged  bool       // Merge succeeded: only the Builder's commit is left
	tmp     string
	nrun    int
	spills  []*runFile
	mems    []*runBuf
	inputs  []sortedInput
	writers []*SortWriter
	stats   SortStats

	seg *segmenter // SortOptions.Sorted only

	testHookAdd func() // tests: runs before every key is written
}

// NewSorter starts a dictionary that Commit will place at path, as
// [Create] does (the parent directory must exist; an existing target needs
// SortOptions.Builder.Force).
func NewSorter(path string, opts *SortOptions) (*Sorter, error) {
	o := opts.withDefaults()
	bo := Options{}
	if o.Builder != nil {
		bo = *o.Builder
	}
	if bo.FST == nil {
		bo.FST = &fst.BuilderOptions{RegistryTableSize: -1}
	}
	bo.Build = make(map[string]string, len(bo.Build)+5)
	if o.Builder != nil {
		for k, v := range o.Builder.Build {
			bo.Build[k] = v
		}
	}
	b, err := Create(path, &bo)
	if err != nil {
		return nil, err
	}
	return newSorter(b, o, true), nil
}

// NewSorterInto returns a Sorter that writes its partitions into b, a
// Builder the caller owns (for example a store version from store.Begin,
// or a Builder with partitions of its own): [Sorter.Merge] fills b, and the
// caller commits or aborts b. SortOptions.Builder is ignored; b's options
// hold. The Sorter's partitions follow every partition b already has, so
// its keys must sort after theirs.
func NewSorterInto(b *Builder, opts *SortOptions) (*Sorter, error) {
	o := opts.withDefaults()
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if done {
		return nil, ErrDone
	}
	return newSorter(b, o, false), nil
}

func newSorter(b *Builder, o SortOptions, owned bool) *Sorter {
	// The manifest records the effective settings, after the memory cap.
	info := map[string]string{
		"duplicates": o.Duplicates.String(),
		"sorted":     strconv.FormatBool(o.Sorted),
		"memory":     formatSize(o.Memory),
		"threads":    strconv.Itoa(o.Threads),
	}
	if o.Duplicates.kind == kindConcat {
		info["separator"] = strconv.Quote(string(o.Duplicates.sep))
	}
	b.mu.Lock()
	build := make(map[string]string, len(b.opts.Build)+len(info))
	for k, v := range b.opts.Build {
		build[k] = v
	}
	for k, v := range info {
		build[k] = v
	}
	b.opts.Build = build
	b.mu.Unlock()

	s := &Sorter{o: o, b: b, owned: owned, start: time.Now()}
	s.stats.MemoryLimit = o.Memory
	s.stats.Threads = o.Threads
	o.Progress.setPhase(PhaseAdd)
	if o.Sorted {
		s.seg = newSegmenter(s)
	}
	return s
}

// Add adds a record. Its key may be at most fst.MaxKeyLen bytes; the value
// any size. Its sequence number is one more than the number of records
// added by Add before it (1, 2, 3, …): "first" and "last" in the policy
// mean call order, and errors name records by it. Add is safe for
// concurrent use. After an error the Sorter can only be aborted. Add copies
// key and value; the caller may reuse them.
func (s *Sorter) Add(key, value []byte) error {
	s.addMu.Lock()
	defer s.addMu.Unlock()
	if s.def == nil {
		w, err := s.NewWriter()
		if err != nil {
			return err
		}
		s.def = w
	}
	s.nextSeq++
	return s.def.Add(s.nextSeq, key, value)
}

// NewWriter returns a handle for adding records from one goroutine, with
// its own run buffer. Under SortOptions.Sorted, records must reach the
// Sorter in order, so use a single writer (or Add).
//
// Memory: the run buffers of Threads writers fit SortOptions.Memory; each
// writer beyond that adds one more buffer of the same size.
func (s *Sorter) NewWriter() (*SortWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil, ErrDone
	}
	w := &SortWriter{s: s}
	s.writers = append(s.writers, w)
	return w, nil
}

// SortedInput is a source of records already in strictly increasing key
// order that enters the merge as one more run, without being sorted or
// spilled: for example the dictionary being updated by a delta merge.
type SortedInput interface {
	// Range returns the records with lo <= key < hi (a nil bound is
	// open), in strictly increasing key order. The merge calls it once
	// per partition, from that partition's goroutine.
	Range(lo, hi []byte) SortedIterator
}

// SortedIterator is the iterator a SortedInput returns: the bufio.Scanner
// shape of reader.Iterator. Key and Value are valid until the next call to
// Next.
type SortedIterator interface {
	Next() bool
	Key() []byte
	Value() []byte
	Err() error
	Close() error
}

// SortedSampler is implemented by a SortedInput that can tell how its
// records spread, so that partition boundaries balance its records with
// the added ones. Without it, an input's records do not weigh in the
// choice of boundaries.
type SortedSampler interface {
	// Sample returns up to n keys in increasing order that cut the input
	// into parts of about equal record counts, and its number of records.
	Sample(n int) (keys [][]byte, records int64)
}

// SortedReduced is implemented by a SortedInput whose records are already
// folded under the Sorter's policy — for example a dictionary built with
// it, entering an update as the base — when Reduced returns true. It only
// matters under Count: such an input's values are counts to add to
// (parsed as decimal int64), not one occurrence each. Under the other
// policies a reduced record folds like an added one.
type SortedReduced interface {
	Reduced() bool
}

func isReduced(in SortedInput) bool {
	r, ok := in.(SortedReduced)
	return ok && r.Reduced()
}

type sortedInput struct {
	in  SortedInput
	seq uint64
}

// AddSorted enters a sorted input into the merge. All its records have
// sequence number seq: with seq 0 they are older than every record of Add
// (which starts at 1), so under KeepLast every added record replaces the
// input's record of the same key — the base dictionary of an update enters
// the merge this way. Its records count in the policy like added ones. Not
// available under SortOptions.Sorted.
func (s *Sorter) AddSorted(in SortedInput, seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return ErrDone
	}
	if s.o.Sorted {
		return errors.New("builder: AddSorted under SortOptions.Sorted (the merge it needs does not run)")
	}
	s.inputs = append(s.inputs, sortedInput{in, seq})
	return nil
}

// Options returns the options in effect: defaults resolved, Threads capped
// by Memory.
func (s *Sorter) Options() SortOptions { return s.o }

// Stats reports the work so far; complete after Commit.
func (s *Sorter) Stats() SortStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Records = s.records.Load()
	st.Keys = s.keys.Load()
	st.Duplicates = st.Records - st.Keys
	return st
}

// Commit is CommitContext with context.Background().
func (s *Sorter) Commit() error { return s.CommitContext(context.Background()) }

// CommitContext merges everything added into the dictionary and installs
// it at the path, as Builder.Commit does: it is Merge (unless Merge was
// called already) followed by the Builder's Commit. On error, or when ctx is cancelled (the error is then
// ctx's cause), nothing is installed and every temporary file is removed.
// A Sorter from NewSorterInto cannot commit: call Merge and commit the
// Builder.
func (s *Sorter) CommitContext(ctx context.Context) error {
	if !s.owned {
		return errors.New("builder: Commit on a Sorter from NewSorterInto (call Merge, then commit the Builder)")
	}
	s.mu.Lock()
	merged := s.merged
	s.mu.Unlock()
	if !merged {
		if err := s.Merge(ctx); err != nil {
			return err
		}
	}
	if _, err := s.b.Commit(); err != nil {
		return errors.Join(err, s.b.Abort())
	}
	return nil
}

// Merge closes every SortWriter still open and merges everything added, in
// parallel over key ranges, into new partitions of the Builder, which it
// leaves uncommitted; then it removes the run files. After Merge only
// Stats, Abort and (for a Sorter from NewSorter) Commit remain. A front end
// that reads its input and merges in one call (kvbuild's) calls Merge and
// leaves installing to its caller. On error the Sorter is aborted
// (with a Builder from NewSorterInto, abort it too: its new partitions are
// incomplete).
func (s *Sorter) Merge(ctx context.Context) (err error) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return ErrDone
	}
	s.done = true
	writers := s.writers
	s.mu.Unlock()
	defer func() {
		err = errors.Join(err, s.cleanup(err != nil))
	}()
	var errs []error
	for _, w := range writers {
		errs = append(errs, w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if ctx.Err() != nil { // a cancelled build never installs, however small
		return context.Cause(ctx)
	}
	mergeStart := time.Now()
	if s.seg != nil {
		err = s.seg.finish(ctx)
	} else {
		err = s.mergeAll(ctx)
	}
	s.mu.Lock()
	s.merged = err == nil
	s.stats.MergeTime = time.Since(mergeStart)
	if s.o.KeepTemp {
		s.stats.TempDir = s.tmp
	}
	s.mu.Unlock()
	return err
}

// Abort discards everything and removes every temporary file; for a
// Sorter from NewSorter it also aborts the dictionary. It is safe to call
// more than once and after Commit or Merge (then it does nothing), so
// `defer s.Abort()` is the idiom.
func (s *Sorter) Abort() error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return nil
	}
	s.done = true
	s.mu.Unlock()
	return s.cleanup(true)
}

// cleanup frees the runs and removes the run files, and with abort also the
// dictionary being built.
func (s *Sorter) cleanup(abort bool) error {
	var errs []error
	if s.seg != nil {
		if abort {
			s.seg.abort()
		}
		s.seg.release()
	}
	for _, w := range s.writers {
		w.release()
	}
	for _, rb := range s.mems {
		rb.release()
	}
	s.mems = nil
	if s.tmp != "" {
		if s.o.KeepTemp {
			tmpdir.Keep(s.tmp) // never swept by a later build
		} else if err := tmpdir.Remove(s.tmp); err != nil {
			errs = append(errs, fmt.Errorf("builder: removing %s: %w", s.tmp, err))
		}
	}
	if abort && s.owned {
		errs = append(errs, s.b.Abort())
	}
	s.o.Progress.setPhase(PhaseDone)
	return errors.Join(errs...)
}

// newPartition opens the next partition of the dictionary.
func (s *Sorter) newPartition() (partitionWriter, error) {
	p, err := s.b.NewPartition()
	if err != nil {
		return nil, err
	}
	if s.testHookAdd != nil {
		return hookedPartition{p, s.testHookAdd}, nil
	}
	return p, nil
}

type hookedPartition struct {
	*Partition
	hook func()
}

func (h hookedPartition) Add(k, v []byte) error {
	h.hook()
	return h.Partition.Add(k, v)
}

// partitionWriter receives a partition's strictly increasing keys:
// *Partition, or a test's wrapper.
type partitionWriter interface {
	Add(key, value []byte) error
	Close() error
}

// nextRunPath names the next run file, creating the private directory on
// the first spill.
func (s *Sorter) nextRunPath() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tmp == "" {
		if err := os.MkdirAll(s.o.TempDir, 0o755); err != nil {
			return "", fmt.Errorf("builder: temporary directory: %w", err)
		}
		d, err := tmpdir.Create(s.o.TempDir, ".kvbuild-tmp-") // owner recorded: swept if we are killed
		if err != nil {
			return "", spillError(s.o.TempDir, err)
		}
		s.tmp = d
	}
	s.nrun++
	return filepath.Join(s.tmp, fmt.Sprintf("run-%06d", s.nrun)), nil
}

// formatSize prints a byte count for the manifest: 512 MiB, 1.5 GiB.
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// sortSamples is a splitter candidate: a key standing for w records.
type sortSample struct {
	key []byte
	w   int64
}

// splitters picks up to parts-1 keys that cut the runs into ranges of about
// equal record counts.
func (s *Sorter) splitters(parts int) [][]byte {
	// The added records' sample depends on their distinct keys only, not
	// on how they fell into runs (sample.go): the same input gives the same
	// boundaries, and so the same bytes, at every build.
	ss := s.sketch.samples()
	var total int64
	for _, smp := range ss {
		total += smp.w
	}
	for _, in := range s.inputs {
		if sm, ok := in.in.(SortedSampler); ok {
			keys, n := sm.Sample(samplesPerRun)
			if len(keys) == 0 {
				continue
			}
			w := max(n/int64(len(keys)), 1)
			for _, k := range keys {
				ss = append(ss, sortSample{k, w})
				total += w
			}
		}
	}
	slices.SortFunc(ss, func(a, b sortSample) int { return bytes.Compare(a.key, b.key) })
	var cuts [][]byte
	var acc int64
	next := 1
	for _, smp := range ss {
		if next >= parts {
			break
		}
		if acc >= total*int64(next)/int64(parts) {
			if len(cuts) == 0 || !bytes.Equal(cuts[len(cuts)-1], smp.key) {
				if acc > 0 {
					cuts = append(cuts, bytes.Clone(smp.key))
				}
			}
			next++
		}
		acc += smp.w
	}
	return cuts
}
