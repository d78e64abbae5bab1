package builder

import (
	"bytes"
	"fmt"

	"github.com/kvdict/kvdict/fst"
)

// SortWriter adds records to a Sorter from one goroutine. It has its own
// run buffer, which it sorts and spills itself when full, so writers on
// different goroutines do not contend. A SortWriter is not safe for
// concurrent use. Its first error is sticky.
type SortWriter struct {
	s      *Sorter
	rb     *runBuf
	sw     *spillWriter
	hint   int64 // records expected (Grow)
	recs   int64 // added since the last flush to s.records
	err    error
	closed bool
}

// Add adds a record with sequence number seq: its place in input order,
// which decides "first" and "last" under the policy and names the record
// in errors. Sequence numbers need not arrive in order, but records with
// equal keys should have distinct ones (their order is undefined
// otherwise); 0 is older than every record of Sorter.Add (see
// Sorter.AddSorted). The key may be at most fst.MaxKeyLen bytes. Add
// copies key and value.
func (w *SortWriter) Add(seq uint64, key, value []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrDone
	}
	if len(key) > fst.MaxKeyLen {
		w.err = &RecordError{Seq: seq, Key: bytes.Clone(key[:64]), Reason: fmt.Sprintf("key is %d bytes, longer than the %d bytes the format can hold", len(key), fst.MaxKeyLen)}
		return w.err
	}
	s := w.s
	if w.recs++; w.recs&1023 == 0 {
		w.flushCount()
	}
	if s.seg != nil {
		if err := s.seg.add(seq, key, value); err != nil {
			w.err = err
		}
		return w.err
	}
	if w.rb == nil {
		budget := s.o.runBudget(s.o.Threads)
		w.rb = newRunBuf(budget)
		if w.hint > 0 {
			// No more than a full run of records the size of this one.
			fit := budget / int64(len(key)+len(value)+entrySize) * 11 / 10
			w.rb.reserve(min(w.hint, fit))
		}
	}
	if w.rb.add(key, value, seq) {
		return nil
	}
	if err := w.spill(); err != nil {
		w.err = err
		return err
	}
	w.rb.add(key, value, seq) // never fails on an empty buffer
	return nil
}

// Grow hints that about n records will be added through this writer, so
// that its run buffer's index can be sized once (within the budget) instead
// of growing by copying. Call it before the first Add.
func (w *SortWriter) Grow(n int64) { w.hint = n }

func (w *SortWriter) flushCount() {
	w.s.records.Add(w.recs)
	w.s.o.Progress.Records.Add(w.recs)
	w.recs = 0
}

// spill sorts the run buffer, folds its duplicates and writes it to a new
// run file.
func (w *SortWriter) spill() error {
	s := w.s
	w.rb.sort()
	s.sketch.offerRun(len(w.rb.ents), func(i int) []byte { return w.rb.key(&w.rb.ents[i]) })
	if w.sw == nil {
		w.sw = newSpillWriter(spillBufSize, s.o.Duplicates.numeric())
	}
	path, err := s.nextRunPath()
	if err != nil {
		return err
	}
	red := newReducer(&memSource{r: w.rb, end: len(w.rb.ents)}, s.o.Duplicates)
	rf, err := w.sw.write(path, red)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.spills = append(s.spills, rf)
	s.stats.SpillBytes += rf.size
	s.mu.Unlock()
	w.rb.reset()
	return nil
}

// Close hands the writer's last run to the Sorter, sorted and kept in
// memory for the merge. Commit closes every writer still open; closing
// twice is harmless. It returns the writer's sticky error.
func (w *SortWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	w.flushCount()
	if w.err != nil {
		return w.err
	}
	if rb := w.rb; rb != nil && len(rb.ents) > 0 {
		rb.sort()
		w.s.sketch.offerRun(len(rb.ents), func(i int) []byte { return rb.key(&rb.ents[i]) })
		w.s.mu.Lock()
		w.s.mems = append(w.s.mems, rb)
		w.s.mu.Unlock()
		w.rb = nil
	}
	return nil
}

// release frees a run buffer the Sorter did not take.
func (w *SortWriter) release() {
	w.rb.release()
	w.rb = nil
}
