package extsort

import (
	"bytes"
	"context"
	"strconv"
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
	pol   Policy
	sep   []byte
	names []string
	prog  *Progress

	keys, dups int64

	key, val []byte // current group, owned
	n        int64
	seq      uint64
	numBuf   []byte
}

func (m *merger) place(seq uint64) Place {
	return Place{File: m.names[seqFile(seq)], Line: seqLine(seq)}
}

// run merges srcs into pw. It does not close pw.
func (m *merger) run(ctx context.Context, srcs []source, pw PartitionWriter) error {
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
		// Fast path: a key with a single record under a value policy.
		if m.pol.reduces() && !m.pol.numeric() && !m.nextEqual(h, top.key) {
			m.keys++
			if err := pw.Add(top.key, top.val); err != nil {
				return err
			}
			if err := h.advance(); err != nil {
				return err
			}
			continue
		}
		// A group: copy the first record, fold in the rest.
		m.key = append(m.key[:0], top.key...)
		m.val = append(m.val[:0], top.val...)
		m.n, m.seq = top.n, top.seq
		if err := h.advance(); err != nil {
			return err
		}
		for len(h.recs) > 0 && bytes.Equal(h.recs[0].key, m.key) {
			r := h.recs[0]
			merged++
			m.dups++
			if err := m.fold(r); err != nil {
				return err
			}
			if err := h.advance(); err != nil {
				return err
			}
		}
		m.keys++
		v := m.val
		if m.pol.numeric() {
			m.numBuf = strconv.AppendInt(m.numBuf[:0], m.n, 10)
			v = m.numBuf
		}
		if err := pw.Add(m.key, v); err != nil {
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

// fold combines a later record (in input order) of the current key.
func (m *merger) fold(r *record) error {
	switch m.pol {
	case First:
	case Last:
		m.val = append(m.val[:0], r.val...)
		m.seq = r.seq
	case Error:
		return &DuplicateKeyError{Key: bytes.Clone(m.key), First: m.place(m.seq), Second: m.place(r.seq)}
	case Sum, Count:
		s, ok := addInt(m.n, r.n)
		if !ok {
			return overflowError(m.key, m.place(r.seq))
		}
		m.n = s
	case Concat:
		m.val = append(m.val, m.sep...)
		m.val = append(m.val, r.val...)
	}
	return nil
}
