package extsort

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvdict/kvdict/internal/tmpdir"
)

// Fixed parts of the memory budget.
const (
	spillBufSize  = 1 << 20  // write buffer per worker
	slackBytes    = 24 << 20 // Go runtime, goroutine stacks, small buffers
	minRunBudget  = 64 << 10 // per worker, whatever the budget
	minReadBuf    = 16 << 10 // per run per partition in the merge
	maxReadBuf    = 1 << 20
	samplesPerRun = 1024 // splitter samples from an in-memory run
)

// singlePartitionBelow is the record count under which one partition is
// written (tiny inputs are not worth splitting).
var singlePartitionBelow int64 = 4096

// Build reads inputs and writes their records, sorted and with duplicates
// resolved, into partitions of sink. On error nothing is committed (the
// caller aborts the sink) and every temporary file is removed.
func Build(ctx context.Context, inputs []Input, sink Sink, opts *Options) (*Stats, error) {
	o := opts.withDefaults()
	names := make([]string, len(inputs))
	var total int64
	known := true // every size known (not stdin): progress can show an ETA
	for i, in := range inputs {
		names[i] = in.Name
		total += in.Size
		known = known && in.Size > 0
	}
	if !known {
		total = 0
	}
	if len(inputs) >= 1<<24 {
		return nil, fmt.Errorf("too many inputs (%d)", len(inputs))
	}
	o.Progress.TotalBytes.Store(total)
	o.Progress.setPhase(PhaseRead)
	b := &build{o: o, inputs: inputs, names: names, sink: sink, start: time.Now()}
	b.parser = &lineParser{names: names, unescape: o.Unescape, skip: o.SkipInvalid, skips: &b.skips, keyOnly: o.KeyOnly, header: int64(max(o.SkipHeader, 0))}
	b.stats.MemoryLimit = o.Memory
	b.stats.Threads = o.Threads
	defer b.removeTmp()
	defer b.release()
	var err error
	if o.Sorted {
		err = b.sorted(ctx)
	} else {
		err = b.unsorted(ctx)
	}
	b.stats.Skipped = b.skips.n
	b.stats.FirstSkips = b.skips.first
	b.stats.Records = b.records.Load()
	b.stats.Lines = b.lines.Load()
	b.stats.Keys = b.keys.Load()
	b.stats.Duplicates = b.stats.Records - b.stats.Keys
	b.stats.InputBytes = b.reader.nread
	b.stats.TextBytes = b.reader.text
	b.stats.BOMInputs = b.reader.boms
	if o.KeepTmp {
		b.stats.TmpDir = b.tmp
	}
	o.Progress.setPhase(PhaseDone)
	if err != nil {
		return &b.stats, err
	}
	return &b.stats, nil
}

type build struct {
	o      Options
	inputs []Input
	names  []string
	sink   Sink
	parser *lineParser
	skips  skipLog
	reader chunkReader

	records, lines, keys atomic.Int64
	start                time.Time

	mu     sync.Mutex
	tmp    string
	nrun   int
	spills []*runFile
	mems   []*runBuf
	stats  Stats
}

// budget splits the memory budget; it returns the run buffer budget per
// worker (or per segment under --sorted with parts = T+1).
func (b *build) runBudget(parts int) int64 {
	o := &b.o
	t := int64(o.Threads)
	fixed := (2*t+2)*int64(o.ChunkSize) + t*spillBufSize + t*o.PartitionReserve + slackBytes
	per := (o.Memory - fixed) / int64(parts)
	return max(per, minRunBudget)
}

func (b *build) startReader(g *group) chan *chunk {
	n := 2*b.o.Threads + 2
	free := make(chan *chunk, n)
	for range n {
		free <- &chunk{buf: make([]byte, b.o.ChunkSize)}
	}
	out := make(chan *chunk, n)
	b.reader = chunkReader{inputs: b.inputs, free: free, out: out, prog: b.o.Progress}
	g.go_(b.reader.run)
	return out
}

// unsorted is the general path: parse + sort + spill, then the parallel merge.
func (b *build) unsorted(ctx context.Context) error {
	g := newGroup(ctx)
	chunks := b.startReader(g)
	per := b.runBudget(b.o.Threads)
	for range b.o.Threads {
		g.go_(func(ctx context.Context) error { return b.worker(ctx, chunks, per) })
	}
	if err := g.wait(); err != nil {
		return err
	}
	b.reader.free = nil // let the chunk pool go
	b.stats.ReadTime = time.Since(b.start)
	err := b.mergeAll(ctx)
	b.stats.MergeTime = time.Since(b.start) - b.stats.ReadTime
	return err
}

// worker parses chunks into its run buffer, sorting and spilling it when full.
func (b *build) worker(ctx context.Context, chunks chan *chunk, budget int64) error {
	var rb *runBuf
	var sw *spillWriter
	var recs, lines int64
	kept := false
	defer func() {
		b.records.Add(recs)
		b.lines.Add(lines)
		if !kept {
			rb.release()
		}
	}()
	spill := func() error {
		rb.sort()
		if sw == nil {
			sw = newSpillWriter(spillBufSize, b.o.Duplicates.numeric())
		}
		path, err := b.nextRunPath()
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		red := newReducer(&memSource{r: rb, end: len(rb.ents)}, b.o.Duplicates, b.names)
		rf, err := sw.write(path, red)
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.spills = append(b.spills, rf)
		b.stats.SpillBytes += rf.size
		b.mu.Unlock()
		rb.reset()
		return nil
	}
	add := func(key, val []byte, seq uint64) error {
		recs++
		if rb.add(key, val, seq) {
			return nil
		}
		if err := spill(); err != nil {
			return err
		}
		rb.add(key, val, seq)
		return nil
	}
	for {
		var c *chunk
		select {
		case c = <-chunks:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if c == nil {
			break
		}
		if rb == nil {
			rb = newRunBuf(budget)
			if total := b.o.Progress.TotalBytes.Load(); total > 0 && len(c.data) > 0 {
				// Known input size: reserve the entries this worker will
				// probably need, from the first chunk's line length.
				perLine := max(1, len(c.data)/(bytes.Count(c.data, nl)+1))
				want := total / int64(perLine) / int64(b.o.Threads) * 11 / 10
				fit := budget / int64(perLine+entrySize) * 11 / 10 // a full run
				rb.reserve(min(want, fit))
			}
		}
		n, err := b.parser.each(c, add)
		lines += n
		b.o.Progress.Lines.Add(n)
		b.reader.free <- c
		if err != nil {
			return err
		}
	}
	if rb != nil && len(rb.ents) > 0 {
		rb.sort()
		b.mu.Lock()
		b.mems = append(b.mems, rb)
		b.mu.Unlock()
		kept = true
	}
	return nil
}

func (b *build) nextRunPath() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tmp == "" {
		if err := os.MkdirAll(b.o.TmpDir, 0o755); err != nil {
			return "", fmt.Errorf("temporary directory: %w", err)
		}
		d, err := tmpdir.Create(b.o.TmpDir, ".kvbuild-tmp-") // owner recorded: swept if we are killed
		if err != nil {
			return "", spillError(b.o.TmpDir, err)
		}
		b.tmp = d
	}
	b.nrun++
	return filepath.Join(b.tmp, fmt.Sprintf("run-%06d", b.nrun)), nil
}

// release frees the in-memory runs.
func (b *build) release() {
	for _, rb := range b.mems {
		rb.release()
	}
	b.mems = nil
}

func (b *build) removeTmp() {
	if b.tmp == "" {
		return
	}
	if b.o.KeepTmp {
		tmpdir.Keep(b.tmp) // never swept by a later build
		return
	}
	tmpdir.Remove(b.tmp)
}

type sample struct {
	key []byte
	w   int64
}

// splitters picks up to parts-1 keys that cut the runs into ranges of about
// equal record counts.
func (b *build) splitters(parts int) [][]byte {
	var ss []sample
	var total int64
	for _, rf := range b.spills {
		for i, p := range rf.index {
			next := rf.records
			if i+1 < len(rf.index) {
				next = rf.index[i+1].recs
			}
			ss = append(ss, sample{p.key, next - p.recs})
			total += next - p.recs
		}
	}
	for _, rb := range b.mems {
		stride := max(1, len(rb.ents)/samplesPerRun)
		for i := 0; i < len(rb.ents); i += stride {
			w := int64(min(stride, len(rb.ents)-i))
			ss = append(ss, sample{rb.key(&rb.ents[i]), w})
			total += w
		}
	}
	slices.SortFunc(ss, func(a, b sample) int { return bytes.Compare(a.key, b.key) })
	var cuts [][]byte
	var acc int64
	next := 1
	for _, s := range ss {
		if next >= parts {
			break
		}
		if acc >= total*int64(next)/int64(parts) {
			if len(cuts) == 0 || !bytes.Equal(cuts[len(cuts)-1], s.key) {
				if acc > 0 {
					cuts = append(cuts, bytes.Clone(s.key))
				}
			}
			next++
		}
		acc += s.w
	}
	return cuts
}

// mergeAll runs one merge per key range, in parallel, each into its own
// partition.
func (b *build) mergeAll(ctx context.Context) error {
	o := &b.o
	o.Progress.setPhase(PhaseMerge)
	var nrec int64
	for _, rf := range b.spills {
		nrec += rf.records
	}
	for _, rb := range b.mems {
		nrec += int64(len(rb.ents))
	}
	o.Progress.TotalRecords.Store(nrec)
	b.stats.Runs = len(b.spills) + len(b.mems)
	b.stats.Spilled = len(b.spills)

	parts := o.Threads
	if nrec < singlePartitionBelow {
		parts = 1
	}
	cuts := b.splitters(parts)
	parts = len(cuts) + 1
	b.stats.Partitions = parts

	// Read buffers share the I/O budget (the chunk pool and spill buffers
	// are free by now).
	readBuf := maxReadBuf
	if len(b.spills) > 0 {
		io := (2*int64(o.Threads)+2)*int64(o.ChunkSize) + int64(o.Threads)*spillBufSize
		readBuf = int(min(max(io/int64(parts*len(b.spills)), minReadBuf), maxReadBuf))
	}

	defer func() {
		for _, rf := range b.spills {
			rf.close()
		}
	}()
	for _, rf := range b.spills {
		if err := rf.open(); err != nil {
			return err
		}
	}
	pws := make([]PartitionWriter, parts)
	for i := range pws {
		pw, err := b.sink.NewPartition()
		if err != nil {
			return err
		}
		pws[i] = pw
	}
	g := newGroup(ctx)
	for i := range parts {
		var lo, hi []byte
		if i > 0 {
			lo = cuts[i-1]
		}
		if i < len(cuts) {
			hi = cuts[i]
		}
		g.go_(func(ctx context.Context) error {
			return b.mergeRange(ctx, lo, hi, readBuf, pws[i])
		})
	}
	return g.wait()
}

func (b *build) mergeRange(ctx context.Context, lo, hi []byte, readBuf int, pw PartitionWriter) (err error) {
	var srcs []source
	defer func() {
		for _, s := range srcs {
			s.close()
		}
	}()
	for _, rb := range b.mems {
		i, j := 0, len(rb.ents)
		if lo != nil {
			i = rb.lowerBound(lo)
		}
		if hi != nil {
			j = rb.lowerBound(hi)
		}
		if i < j {
			srcs = append(srcs, newReducer(&memSource{r: rb, i: i, end: j}, b.o.Duplicates, b.names))
		}
	}
	for _, rf := range b.spills {
		srcs = append(srcs, openSpill(rf, lo, hi, readBuf, b.o.Duplicates.numeric()))
	}
	m := &merger{pol: b.o.Duplicates, sep: b.o.Separator, names: b.names, prog: b.o.Progress}
	err = m.run(ctx, srcs, pw)
	b.keys.Add(m.keys)
	if cerr := pw.Close(); err == nil {
		err = cerr
	}
	return err
}
