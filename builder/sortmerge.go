package builder

import (
	"bytes"
	"context"
	"fmt"

	"github.com/kvdict/kvdict/internal/workgroup"
)

// mergeHeap is a binary min-heap of sources ordered by (key, seq) of their
// current record.
type mergeHeap struct {
	srcs []source
	recs []*record
}

func (h *mergeHeap) less(i, j int) bool {
	a, b := h.recs[i], h.recs[j]
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}

func (h *mergeHeap) swap(i, j int) {
	h.srcs[i], h.srcs[j] = h.srcs[j], h.srcs[i]
	h.recs[i], h.recs[j] = h.recs[j], h.recs[i]
}

func (h *mergeHeap) down(i int) {
	n := len(h.recs)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

func (h *mergeHeap) init() {
	for i := len(h.recs)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// advance moves the top source to its next record.
func (h *mergeHeap) advance() error {
	rec, err := h.srcs[0].next()
	if err != nil {
		return err
	}
	if rec == nil {
		n := len(h.recs) - 1
		h.swap(0, n)
		h.srcs, h.recs = h.srcs[:n], h.recs[:n]
	} else {
		h.recs[0] = rec
	}
	h.down(0)
	return nil
}

// merger writes one partition: the k-way merge of its sources with the
// duplicate policy applied.
type merger struct {
	f    folder // copy: sources reuse their record buffers
	prog *SortProgress
	keys int64
}

func newMerger(pol Policy, prog *SortProgress) *merger {
	return &merger{f: folder{pol: pol, copy: true}, prog: prog}
}

// run merges srcs into pw. It does not close pw.
func (m *merger) run(ctx context.Context, srcs []source, pw partitionWriter) error {
	h := &mergeHeap{}
	for _, s := range srcs {
		rec, err := s.next()
		if err != nil {
			return err
		}
		if rec != nil {
			h.srcs = append(h.srcs, s)
			h.recs = append(h.recs, rec)
		}
	}
	h.init()
	var tick int
	var merged int64
	defer func() { m.prog.Merged.Add(merged) }()
	valuePolicy := m.f.pol.reduces() && !m.f.pol.numeric()
	for len(h.recs) > 0 {
		if tick++; tick&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			m.prog.Merged.Add(merged)
			merged = 0
		}
		top := h.recs[0]
		merged++
		m.keys++
		// Fast path: a key with a single record under a value policy.
		if valuePolicy && !m.nextEqual(h, top.key) {
			if err := pw.Add(top.key, top.val); err != nil {
				return err
			}
			if err := h.advance(); err != nil {
				return err
			}
			continue
		}
		// A group: copy the first record, fold in the rest.
		m.f.start(top)
		if err := h.advance(); err != nil {
			return err
		}
		for len(h.recs) > 0 && bytes.Equal(h.recs[0].key, m.f.acc.key) {
			merged++
			if err := m.f.add(h.recs[0]); err != nil {
				return err
			}
			if err := h.advance(); err != nil {
				return err
			}
		}
		v, err := m.f.value()
		if err != nil {
			return err
		}
		if err := pw.Add(m.f.acc.key, v); err != nil {
			return err
		}
	}
	return nil
}

// nextEqual reports whether another source's current key equals key (the
// top's). With a heap, only the two children of the root can hold it.
func (m *merger) nextEqual(h *mergeHeap, key []byte) bool {
	n := len(h.recs)
	if n > 1 && bytes.Equal(h.recs[1].key, key) {
		return true
	}
	return n > 2 && bytes.Equal(h.recs[2].key, key)
}

// mergeAll runs one merge per key range, in parallel, each into its own
// partition.
func (s *Sorter) mergeAll(ctx context.Context) error {
	o := &s.o
	o.Progress.setPhase(PhaseMerge)
	var nrec int64
	for _, rf := range s.spills {
		nrec += rf.records
	}
	for _, rb := range s.mems {
		nrec += int64(len(rb.ents))
	}
	o.Progress.TotalRecords.Store(nrec)

	parts := o.Partitions
	// Records added, not records in the runs: how many duplicates were
	// folded inside runs depends on timing, and the choice must not.
	if s.records.Load() < singlePartitionBelow && len(s.inputs) == 0 {
		parts = 1
	}
	cuts := s.splitters(parts)
	parts = len(cuts) + 1
	s.mu.Lock()
	s.stats.Runs = len(s.spills) + len(s.mems) + len(s.inputs)
	s.stats.Spilled = len(s.spills)
	s.stats.Partitions = parts
	s.mu.Unlock()

	// Read buffers share the I/O budget (the spill buffers are free by now).
	readBuf := maxReadBuf
	if len(s.spills) > 0 {
		io := o.Memory/mergeIOShare + int64(o.Threads)*spillBufSize
		readBuf = int(min(max(io/int64(parts*len(s.spills)), minReadBuf), maxReadBuf))
	}

	defer func() {
		for _, rf := range s.spills {
			rf.close()
		}
	}()
	for _, rf := range s.spills {
		if err := rf.open(); err != nil {
			return err
		}
	}
	pws := make([]partitionWriter, parts)
	for i := range pws {
		pw, err := s.newPartition()
		if err != nil {
			return err
		}
		pws[i] = pw
	}
	g := workgroup.New(ctx)
	for i := range parts {
		var lo, hi []byte
		if i > 0 {
			lo = cuts[i-1]
		}
		if i < len(cuts) {
			hi = cuts[i]
		}
		g.Go(func(ctx context.Context) error {
			return s.mergeRange(ctx, lo, hi, readBuf, pws[i])
		})
	}
	return g.Wait()
}

// mergeRange merges the records with lo <= key < hi of every run and
// sorted input into pw, and closes pw.
func (s *Sorter) mergeRange(ctx context.Context, lo, hi []byte, readBuf int, pw partitionWriter) (err error) {
	pol := s.o.Duplicates
	var srcs []source
	for _, rb := range s.mems {
		i, j := 0, len(rb.ents)
		if lo != nil {
			i = rb.lowerBound(lo)
		}
		if hi != nil {
			j = rb.lowerBound(hi)
		}
		if i < j {
			srcs = append(srcs, newReducer(&memSource{r: rb, i: i, end: j}, pol))
		}
	}
	for _, rf := range s.spills {
		srcs = append(srcs, openSpill(rf, lo, hi, readBuf, pol.numeric()))
	}
	var ins []*inputSource
	defer func() {
		for _, in := range ins {
			s.records.Add(in.n)
			if cerr := in.it.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("builder: sorted input: %w", cerr)
			}
		}
	}()
	for _, in := range s.inputs {
		src := &inputSource{it: in.in.Range(lo, hi), pol: pol, seq: in.seq, reduced: isReduced(in.in)}
		ins = append(ins, src)
		srcs = append(srcs, src)
	}
	m := newMerger(pol, s.o.Progress)
	err = m.run(ctx, srcs, pw)
	s.keys.Add(m.keys)
	if cerr := pw.Close(); err == nil {
		err = cerr
	}
	return err
}

// inputSource yields a SortedInput's records, loaded for the policy and
// checked to be strictly increasing.
type inputSource struct {
	it   SortedIterator
	pol  Policy
	seq  uint64
	rec  record
	prev []byte
	n    int64 // records read
	// reduced: the input's records are already folded under the policy
	// (SortedReduced), so a count is read from the value.
	reduced bool
}

func (in *inputSource) next() (*record, error) {
	if !in.it.Next() {
		if err := in.it.Err(); err != nil {
			return nil, fmt.Errorf("builder: sorted input: %w", err)
		}
		return nil, nil
	}
	k := in.it.Key()
	if in.n > 0 && bytes.Compare(k, in.prev) <= 0 {
		return nil, fmt.Errorf("builder: sorted input: key %s after %s: not in strictly increasing order", quote(k), quote(in.prev))
	}
	in.n++
	in.prev = append(in.prev[:0], k...)
	in.rec = record{key: k, val: in.it.Value(), seq: in.seq}
	load := in.pol.load
	if in.reduced {
		load = in.pol.loadReduced
	}
	if err := load(&in.rec); err != nil {
		return nil, err
	}
	return &in.rec, nil
}
