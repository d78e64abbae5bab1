package extsort

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/workgroup"
)

// Build reads inputs, adds their records to s and merges them
// (Sorter.Merge); installing the dictionary is the caller's (Sorter.Commit,
// or the commit of the Builder given to builder.NewSorterInto). Each
// record's sequence number is its place, file<<40 | line, so the Sorter's
// policy goes by file order, then line order, and its errors are reported
// here with FILE:LINE. On error s is aborted and every temporary file
// removed.
func Build(ctx context.Context, inputs []Input, s *builder.Sorter, opts *Options) (*Stats, error) {
	so := s.Options()
	o := opts.withDefaults(so)
	if len(inputs) >= 1<<24 {
		s.Abort()
		return nil, fmt.Errorf("too many inputs (%d)", len(inputs))
	}
	b := &build{o: o, so: so, inputs: inputs, s: s, start: time.Now()}
	b.names = make([]string, len(inputs))
	var total int64
	known := true // every size known (not stdin): progress can show an ETA
	for i, in := range inputs {
		b.names[i] = in.Name
		total += in.Size
		known = known && in.Size > 0
	}
	if !known {
		total = 0
	}
	o.Progress.TotalBytes.Store(total)
	b.parser = &lineParser{names: b.names, unescape: o.Unescape, skip: o.SkipInvalid, skips: &b.skips, keyOnly: o.KeyOnly, header: int64(max(o.SkipHeader, 0))}

	err := b.read(ctx)
	st := &Stats{ReadTime: time.Since(b.start)}
	if err == nil {
		err = s.Merge(ctx)
	} else {
		s.Abort()
	}
	st.SortStats = s.Stats()
	st.Skipped = b.skips.n
	st.FirstSkips = b.skips.first
	st.Lines = b.lines.Load()
	st.InputBytes = b.reader.nread
	st.TextBytes = b.reader.text
	st.BOMInputs = b.reader.boms
	return st, b.describe(err)
}

type build struct {
	o      Options
	so     builder.SortOptions
	inputs []Input
	names  []string
	s      *builder.Sorter
	parser *lineParser
	skips  skipLog
	reader chunkReader
	lines  atomic.Int64
	start  time.Time
}

// read runs the chunk reader and the parse workers, one SortWriter each
// (a single one under Sorted, which needs the records in order).
func (b *build) read(ctx context.Context) error {
	g := workgroup.New(ctx)
	n := 2*b.so.Threads + 2
	free := make(chan *chunk, n)
	for range n {
		free <- &chunk{buf: make([]byte, b.o.ChunkSize)}
	}
	chunks := make(chan *chunk, n)
	b.reader = chunkReader{inputs: b.inputs, free: free, out: chunks, prog: b.o.Progress}
	g.Go(b.reader.run)
	workers := b.so.Threads
	if b.so.Sorted {
		workers = 1
	}
	for range workers {
		g.Go(func(ctx context.Context) error { return b.worker(ctx, chunks, workers) })
	}
	err := g.Wait()
	b.reader.free = nil // let the chunk pool go
	return err
}

// worker parses chunks into its SortWriter.
func (b *build) worker(ctx context.Context, chunks chan *chunk, workers int) (err error) {
	w, err := b.s.NewWriter()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}()
	add := func(key, val []byte, seq uint64) error { return w.Add(seq, key, val) }
	first := true
	for {
		var c *chunk
		select {
		case c = <-chunks:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if c == nil {
			return nil
		}
		if first {
			first = false
			if total := b.o.Progress.TotalBytes.Load(); total > 0 && len(c.data) > 0 {
				// Known input size: size the run's index for the
				// records this worker will probably get.
				perLine := max(1, len(c.data)/(bytes.Count(c.data, nl)+1))
				w.Grow(total / int64(perLine) / int64(workers) * 11 / 10)
			}
		}
		n, err := b.parser.each(c, add)
		b.lines.Add(n)
		b.o.Progress.Lines.Add(n)
		b.reader.free <- c
		if err != nil {
			return err
		}
	}
}

// place maps a sequence number back to FILE:LINE.
func (b *build) place(seq uint64) Place {
	f := seqFile(seq)
	if f >= len(b.names) {
		return Place{File: "?", Line: seqLine(seq)}
	}
	return Place{File: b.names[f], Line: seqLine(seq)}
}

// describe turns the Sorter's errors, which name records by sequence
// number, into errors naming FILE:LINE and the kvbuild option involved.
func (b *build) describe(err error) error {
	var re *builder.RecordError
	var de *builder.DuplicateKeyError
	var oe *builder.OrderError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		reason := re.Reason
		if b.so.Duplicates.String() == builder.Sum.String() {
			reason += " (--duplicates sum)"
		}
		return &LineError{Place: b.place(re.Seq), Reason: reason}
	case errors.As(err, &de):
		return &DuplicateKeyError{Key: de.Key, First: b.place(de.First), Second: b.place(de.Second)}
	case errors.As(err, &oe):
		return &OrderError{Key: oe.Key, Prev: oe.Prev, Place: b.place(oe.Seq), PrevPlace: b.place(oe.PrevSeq)}
	}
	return err
}
