package extsort

import (
	"bytes"
	"math"
	"strconv"
)

// record is one (key, value) pair flowing from the runs into the merge. A
// "reduced" record stands for every occurrence of its key in one run:
// numeric policies carry the count or partial sum in n; first/last/error
// carry the chosen value and its sequence number; concat records are never
// reduced.
type record struct {
	key []byte
	val []byte
	n   int64
	seq uint64
}

// source yields records in (key, seq) order. The record is valid until the
// next call.
type source interface {
	next() (*record, error) // nil, nil at the end
	close() error
}

// memSource yields the raw records of a sorted run buffer, [lo, hi).
type memSource struct {
	r      *runBuf
	i, end int
	rec    record
	touch  byte // sink for the prefetching loads
}

// prefetchAhead is how many records memSource touches at once.
const prefetchAhead = 16

func (m *memSource) next() (*record, error) {
	if m.i >= m.end {
		return nil, nil
	}
	if m.i%prefetchAhead == 0 {
		// The sorted entries point all over the arena: load the first and
		// last byte of the next records together, so that their cache (and
		// TLB) misses overlap instead of stalling one by one.
		var t byte
		for j := m.i + prefetchAhead; j < min(m.i+2*prefetchAhead, m.end); j++ {
			e := &m.r.ents[j]
			if n := e.klen + e.vlen; n > 0 {
				b := m.r.block(e)
				t += b[e.off] + b[e.off+n-1]
			}
		}
		m.touch += t
	}
	e := &m.r.ents[m.i]
	m.i++
	m.rec.key = m.r.key(e)
	m.rec.val = m.r.val(e)
	m.rec.seq = e.seq
	return &m.rec, nil
}

func (m *memSource) close() error { return nil }

// reducer folds the raw records of one sorted run buffer into one reduced
// record per key (for every policy but concat, where it passes records
// through). Keys and values alias the run's arena, which outlives it.
type reducer struct {
	src   *memSource
	pol   Policy
	names []string
	pend  *record
	out   record
	dups  int64 // records folded away
}

func newReducer(src *memSource, pol Policy, names []string) *reducer {
	return &reducer{src: src, pol: pol, names: names}
}

func (r *reducer) place(seq uint64) Place {
	return Place{File: r.names[seqFile(seq)], Line: seqLine(seq)}
}

func (r *reducer) close() error { return nil }

func (r *reducer) next() (*record, error) {
	if r.pend == nil {
		rec, _ := r.src.next()
		if rec == nil {
			return nil, nil
		}
		r.pend = rec
	}
	if r.pol == Concat {
		r.out = *r.pend
		r.pend = nil
		return &r.out, nil
	}
	r.out = *r.pend
	r.pend = nil
	switch r.pol {
	case Sum:
		n, ok := parseInt(r.out.val)
		if !ok {
			return nil, r.badInt(r.out.val, r.out.seq)
		}
		r.out.n = n
	case Count:
		r.out.n = 1
	}
	for {
		rec, _ := r.src.next()
		if rec == nil {
			return &r.out, nil
		}
		if !bytes.Equal(rec.key, r.out.key) {
			r.pend = rec
			return &r.out, nil
		}
		r.dups++
		switch r.pol {
		case First:
		case Last:
			r.out.val, r.out.seq = rec.val, rec.seq
		case Error:
			return nil, &DuplicateKeyError{Key: bytes.Clone(rec.key), First: r.place(r.out.seq), Second: r.place(rec.seq)}
		case Sum:
			n, ok := parseInt(rec.val)
			if !ok {
				return nil, r.badInt(rec.val, rec.seq)
			}
			s, ok := addInt(r.out.n, n)
			if !ok {
				return nil, overflowError(rec.key, r.place(rec.seq))
			}
			r.out.n = s
		case Count:
			r.out.n++
		}
	}
}

func (r *reducer) badInt(val []byte, seq uint64) error {
	return &LineError{Place: r.place(seq), Reason: "value " + quoteKey(val) + " is not a decimal int64 (--duplicates sum)"}
}

func overflowError(key []byte, at Place) error {
	return &LineError{Place: at, Reason: "sum for key " + quoteKey(key) + " overflows int64 (--duplicates sum)"}
}

// parseInt parses [+-]?[0-9]+ as an int64 without allocating.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		if len(b) > 20 { // leading zeros; rare, let strconv decide
			n, err := strconv.ParseInt(string(b), 10, 64)
			return n, err == nil
		}
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// addInt adds with overflow detection.
func addInt(a, b int64) (int64, bool) {
	s := a + b
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, false
	}
	return s, true
}
