package extsort

import (
	"bytes"
	"context"
	"strconv"
	"time"
)

// sorted is the --sorted path: no sort, no spill. One goroutine parses the
// chunks in input order, checks the order, folds duplicates (adjacent in
// sorted input) and fills segments; each full segment becomes the next
// partition and is written by one of T writer goroutines, so FST
// construction still uses every core.
func (b *build) sorted(ctx context.Context) error {
	g := newGroup(ctx)
	chunks := b.startReader(g)
	o := &b.o
	nseg := o.Threads + 1
	budget := b.runBudget(nseg)
	if total := o.Progress.TotalBytes.Load(); total > 0 {
		// Known input size: about 4 segments per writer, so that writing
		// overlaps parsing, but none under 64 MiB (each is a partition).
		budget = min(budget, max(64<<20, total*3/2/int64(4*o.Threads)))
	}
	free := make(chan *runBuf, nseg)
	type job struct {
		rb *runBuf
		pw PartitionWriter
	}
	jobs := make(chan job)
	allocated := 0
	var segs []*runBuf // every segment, released at the end
	defer func() {
		for _, rb := range segs {
			rb.release()
		}
	}()
	for range o.Threads {
		g.go_(func(ctx context.Context) error {
			for j := range jobs {
				var n int64
				for i := range j.rb.ents {
					e := &j.rb.ents[i]
					if err := j.pw.Add(j.rb.key(e), j.rb.val(e)); err != nil {
						j.pw.Close()
						return err
					}
					if n++; n&4095 == 0 {
						if err := ctx.Err(); err != nil {
							j.pw.Close()
							return context.Cause(ctx)
						}
						o.Progress.Merged.Add(4096)
					}
				}
				o.Progress.Merged.Add(n & 4095)
				b.keys.Add(int64(len(j.rb.ents)))
				if err := j.pw.Close(); err != nil {
					return err
				}
				j.rb.reset()
				free <- j.rb
			}
			return nil
		})
	}
	o.Progress.setPhase(PhaseRead)

	var (
		seg      *runBuf
		cur      []byte // current key (owned)
		val      []byte // its folded value (owned)
		n        int64
		seq      uint64
		have     bool
		numBuf   []byte
		recs     int64
		lines    int64
		parts    int
		placeOf  = func(s uint64) Place { return Place{File: b.names[seqFile(s)], Line: seqLine(s)} }
		pol      = o.Duplicates
		firstSeq uint64
	)
	getSeg := func() (*runBuf, error) {
		if allocated < nseg {
			select {
			case rb := <-free:
				return rb, nil
			default:
			}
			allocated++
			rb := newRunBuf(budget)
			segs = append(segs, rb)
			return rb, nil
		}
		select {
		case rb := <-free:
			return rb, nil
		case <-g.ctx.Done():
			return nil, context.Cause(g.ctx)
		}
	}
	ship := func() error {
		pw, err := b.sink.NewPartition()
		if err != nil {
			return err
		}
		parts++
		select {
		case jobs <- job{seg, pw}:
		case <-g.ctx.Done():
			pw.Close()
			return context.Cause(g.ctx)
		}
		seg = nil
		return nil
	}
	emit := func() error {
		v := val
		if pol.numeric() {
			numBuf = strconv.AppendInt(numBuf[:0], n, 10)
			v = numBuf
		}
		if seg == nil {
			var err error
			if seg, err = getSeg(); err != nil {
				return err
			}
		}
		if seg.add(cur, v, seq) {
			return nil
		}
		if err := ship(); err != nil {
			return err
		}
		var err error
		if seg, err = getSeg(); err != nil {
			return err
		}
		seg.add(cur, v, seq)
		return nil
	}
	add := func(key, v []byte, s uint64) error {
		recs++
		if have {
			c := bytes.Compare(key, cur)
			if c < 0 {
				return &OrderError{Key: bytes.Clone(key), Prev: bytes.Clone(cur), Place: placeOf(s), PrevPlace: placeOf(seq)}
			}
			if c == 0 {
				switch pol {
				case First:
				case Last:
					val = append(val[:0], v...)
				case Error:
					return &DuplicateKeyError{Key: bytes.Clone(key), First: placeOf(firstSeq), Second: placeOf(s)}
				case Sum:
					x, ok := parseInt(v)
					if !ok {
						return &LineError{Place: placeOf(s), Reason: "value " + quoteKey(v) + " is not a decimal int64 (--duplicates sum)"}
					}
					if n, ok = addInt(n, x); !ok {
						return overflowError(key, placeOf(s))
					}
				case Count:
					n++
				case Concat:
					val = append(val, o.Separator...)
					val = append(val, v...)
				}
				seq = s
				return nil
			}
			if err := emit(); err != nil {
				return err
			}
		}
		have = true
		cur = append(cur[:0], key...)
		val = append(val[:0], v...)
		seq, firstSeq = s, s
		switch pol {
		case Sum:
			x, ok := parseInt(v)
			if !ok {
				return &LineError{Place: placeOf(s), Reason: "value " + quoteKey(v) + " is not a decimal int64 (--duplicates sum)"}
			}
			n = x
		case Count:
			n = 1
		}
		return nil
	}
	err := func() error {
		for {
			var c *chunk
			select {
			case c = <-chunks:
			case <-g.ctx.Done():
				return context.Cause(g.ctx)
			}
			if c == nil {
				break
			}
			nl, err := b.parser.each(c, add)
			lines += nl
			o.Progress.Lines.Add(nl)
			b.reader.free <- c
			if err != nil {
				return err
			}
		}
		if have {
			if err := emit(); err != nil {
				return err
			}
		}
		o.Progress.setPhase(PhaseMerge)
		o.Progress.TotalRecords.Store(recs)
		if seg != nil || parts == 0 {
			if seg == nil {
				seg = newRunBuf(minRunBudget)
				segs = append(segs, seg)
			}
			return ship()
		}
		return nil
	}()
	close(jobs)
	if err != nil {
		g.fail(err)
	}
	b.records.Add(recs)
	b.lines.Add(lines)
	err = g.wait()
	b.stats.ReadTime = time.Since(b.start)
	b.stats.Partitions = parts
	b.stats.Runs = parts
	return err
}
