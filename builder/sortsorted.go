package builder

import (
	"bytes"
	"context"

	"github.com/kvdict/kvdict/internal/workgroup"
)

// segmenter is the Sorted path: no sort, no spill. Records arrive in key
// order from one goroutine; the segmenter checks the order, folds adjacent
// duplicates with the policy and fills segments (run buffers). Each full
// segment becomes the next partition and is written by one of Threads
// writer goroutines while records still arrive, so FST construction uses
// every core.
type segmenter struct {
	s      *Sorter
	g      *workgroup.Group
	budget int64 // per segment
	nseg   int   // segments in flight at most: Threads writing + 1 filling

	free      chan *runBuf // written segments, reset
	jobs      chan segJob
	allocated int
	segs      []*runBuf // every segment, released at the end
	seg       *runBuf   // being filled; nil before the first record
	parts     int       // partitions shipped

	f       folder // the current key (copied: the caller reuses its buffers)
	have    bool
	prevSeq uint64 // the last record added, for OrderError
	jobsOut bool   // jobs closed
}

type segJob struct {
	rb *runBuf
	pw partitionWriter
}

func newSegmenter(s *Sorter) *segmenter {
	o := &s.o
	sg := &segmenter{s: s, g: workgroup.New(context.Background()), nseg: o.Threads + 1}
	sg.budget = o.runBudget(sg.nseg)
	sg.free = make(chan *runBuf, sg.nseg)
	sg.jobs = make(chan segJob)
	sg.f = folder{pol: o.Duplicates, copy: true}
	for range o.Threads {
		sg.g.Go(sg.writer)
	}
	return sg
}

// writer writes shipped segments into their partitions.
func (sg *segmenter) writer(ctx context.Context) error {
	prog := sg.s.o.Progress
	for j := range sg.jobs {
		err := writeSegment(ctx, j.rb, j.pw, prog)
		if cerr := j.pw.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		sg.s.keys.Add(int64(len(j.rb.ents)))
		j.rb.reset()
		sg.free <- j.rb
	}
	return nil
}

// writeSegment adds a segment's records, already in order and folded, to pw.
func writeSegment(ctx context.Context, rb *runBuf, pw partitionWriter, prog *SortProgress) error {
	var n int64
	defer func() { prog.Merged.Add(n & 4095) }()
	for i := range rb.ents {
		e := &rb.ents[i]
		if err := pw.Add(rb.key(e), rb.val(e)); err != nil {
			return err
		}
		if n++; n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			prog.Merged.Add(4096)
		}
	}
	return nil
}

// add takes the next record in order.
func (sg *segmenter) add(seq uint64, key, val []byte) error {
	if sg.have {
		c := bytes.Compare(key, sg.f.acc.key)
		if c < 0 {
			return &OrderError{Key: bytes.Clone(key), Prev: bytes.Clone(sg.f.acc.key), Seq: seq, PrevSeq: sg.prevSeq}
		}
		sg.prevSeq = seq
		r := record{key: key, val: val, seq: seq}
		if err := sg.f.pol.load(&r); err != nil {
			return err
		}
		if c == 0 {
			return sg.f.add(&r)
		}
		if err := sg.emit(); err != nil {
			return err
		}
		sg.f.start(&r)
		return nil
	}
	r := record{key: key, val: val, seq: seq}
	if err := sg.f.pol.load(&r); err != nil {
		return err
	}
	sg.have, sg.prevSeq = true, seq
	sg.f.start(&r)
	return nil
}

// emit appends the folded current key to the segment, shipping the segment
// when it is full.
func (sg *segmenter) emit() error {
	v, err := sg.f.value()
	if err != nil {
		return err
	}
	k, seq := sg.f.acc.key, sg.f.acc.seq
	if sg.seg != nil && sg.seg.add(k, v, seq) {
		return nil
	}
	if sg.seg != nil {
		if err := sg.ship(); err != nil {
			return err
		}
	}
	if sg.seg, err = sg.getSeg(); err != nil {
		return err
	}
	sg.seg.add(k, v, seq) // never fails on an empty buffer
	return nil
}

// getSeg returns an empty segment: a new one while fewer than nseg exist,
// else one that a writer has finished with.
func (sg *segmenter) getSeg() (*runBuf, error) {
	select {
	case rb := <-sg.free:
		return rb, nil
	default:
	}
	if sg.allocated < sg.nseg {
		sg.allocated++
		rb := newRunBuf(sg.budget)
		sg.segs = append(sg.segs, rb)
		return rb, nil
	}
	select {
	case rb := <-sg.free:
		return rb, nil
	case <-sg.g.Context().Done():
		return nil, context.Cause(sg.g.Context())
	}
}

// ship hands the current segment to a writer as the next partition.
func (sg *segmenter) ship() error {
	pw, err := sg.s.newPartition()
	if err != nil {
		return err
	}
	sg.parts++
	select {
	case sg.jobs <- segJob{sg.seg, pw}:
	case <-sg.g.Context().Done():
		pw.Close()
		return context.Cause(sg.g.Context())
	}
	sg.seg = nil
	return nil
}

// finish writes the last key and segment and waits for the writers. An
// empty input still gets one (empty) partition.
func (sg *segmenter) finish(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { sg.g.Fail(context.Cause(ctx)) })
	defer stop()
	err := sg.flush()
	sg.closeJobs()
	if err != nil {
		sg.g.Fail(err)
	}
	err = sg.g.Wait()
	sg.s.stats.Partitions = sg.parts
	return err
}

func (sg *segmenter) flush() error {
	if sg.have {
		if err := sg.emit(); err != nil {
			return err
		}
	}
	sg.s.o.Progress.setPhase(PhaseMerge)
	sg.s.o.Progress.TotalRecords.Store(sg.s.records.Load())
	if sg.seg == nil && sg.parts == 0 {
		sg.seg = newRunBuf(minRunBudget)
		sg.segs = append(sg.segs, sg.seg)
	}
	if sg.seg != nil {
		return sg.ship()
	}
	return nil
}

func (sg *segmenter) closeJobs() {
	if !sg.jobsOut {
		close(sg.jobs)
		sg.jobsOut = true
	}
}

// abort stops the writers and frees the segments.
func (sg *segmenter) abort() {
	sg.g.Fail(ErrDone)
	sg.closeJobs()
	sg.g.Wait()
	sg.release()
}

func (sg *segmenter) release() {
	for _, rb := range sg.segs {
		rb.release()
	}
	sg.segs = nil
}
