package builder

import "bytes"

// record is one (key, value) pair flowing from the runs into the merge. A
// "reduced" record stands for every occurrence of its key in one run:
// numeric policies carry the count or partial sum in hi:n; first/last/error
// carry the chosen value and its sequence number; concat records are never
// reduced.
type record struct {
	key []byte
	val []byte
	// n and hi are a 128-bit two's complement count or partial sum,
	// hi*2^64 + uint64(n): partial sums never overflow, so whether a sum
	// fits int64 depends on the key's total only, not on the order its
	// records are folded in (which varies with input order, memory and,
	// in a distributed build, with the engine's shuffle).
	n   int64
	hi  int64
	seq uint64
	// last is the greatest seq folded into a numeric record: an overflow
	// names it (the key's last record in input order).
	last uint64
}

// setInt sets the record's number to v.
func (r *record) setInt(v int64) { r.n, r.hi = v, v>>63 }

// source yields records in (key, seq) order. The record is valid until the
// next call.
type source interface {
	next() (*record, error) // nil, nil at the end
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

// reducer folds the raw records of one sorted run buffer into one record
// per key with the policy (for every policy but concat, where it passes
// records through). Keys and values alias the run's arena, which outlives
// it.
type reducer struct {
	src  *memSource
	f    folder
	pend *record
}

func newReducer(src *memSource, pol Policy) *reducer {
	return &reducer{src: src, f: folder{pol: pol}}
}

func (r *reducer) next() (*record, error) {
	if r.pend == nil {
		if r.pend, _ = r.src.next(); r.pend == nil {
			return nil, nil
		}
	}
	if !r.f.pol.reduces() {
		r.f.acc, r.pend = *r.pend, nil
		return &r.f.acc, nil
	}
	if err := r.f.pol.load(r.pend); err != nil {
		return nil, err
	}
	r.f.start(r.pend)
	r.pend = nil
	for {
		rec, _ := r.src.next()
		if rec == nil {
			return &r.f.acc, nil
		}
		if !bytes.Equal(rec.key, r.f.acc.key) {
			r.pend = rec
			return &r.f.acc, nil
		}
		if err := r.f.pol.load(rec); err != nil {
			return nil, err
		}
		if err := r.f.add(rec); err != nil {
			return nil, err
		}
	}
}
