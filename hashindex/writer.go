package hashindex

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/kvdict/kvdict/internal/frame"
)

// DefaultMemoryBytes is the memory used when WriterOptions.MemoryBytes is
// 0: 16 MiB, half a million keys before the first spill.
const DefaultMemoryBytes = 16 << 20

// minMemoryBytes keeps runs long enough that merging them stays cheap.
const minMemoryBytes = 64 << 10

// WriterOptions configure a Writer. A nil *WriterOptions means defaults.
type WriterOptions struct {
	// Seed is the hash seed written into the file. Builders choose one at
	// random per dictionary; tests fix it for reproducible bytes.
	Seed uint64
	// MemoryBytes bounds the Writer's memory: the buffer of 16-byte
	// (hash, address) pairs and its sort's scratch space, each half of it,
	// and at Close the merge's read buffers. 0 means DefaultMemoryBytes; at
	// least 64 KiB is used.
	MemoryBytes int
	// TmpDir is where full buffers spill as sorted runs (one temporary
	// file, removed by Close and Abort). "" means os.TempDir().
	TmpDir string
	// AddrShift is the trailer's address shift: 0 (the default) when Add
	// is given the offsets of keyed records, GroupShift when it is given
	// the addresses of a compressed keyed log (group offset << 4 | index):
	// the entries then hold the group offsets. Other values are refused.
	AddrShift uint8
}

// pair is one key's hash and record address.
type pair struct{ h, addr uint64 }

const pairLen = 16

func cmpPair(a, b pair) int {
	if c := cmp.Compare(a.h, b.h); c != 0 {
		return c
	}
	return cmp.Compare(a.addr, b.addr)
}

// Writer builds one index file. Call Add for every key of the partition,
// in any order, then Close. It is not safe for concurrent use. Memory use
// is bounded by WriterOptions.MemoryBytes whatever the number of keys.
type Writer struct {
	w      io.Writer
	o      WriterOptions
	buf    []pair
	tmp    []pair // sortPairs' scratch, allocated at the first sort
	spill  *os.File
	sw     *bufio.Writer
	runs   []spilled // the spilled runs, in file order
	n      uint64
	err    error
	closed bool
}

// NewWriter returns a Writer that will write the index file to w at Close.
// The Writer never closes w.
func NewWriter(w io.Writer, opts *WriterOptions) *Writer {
	var o WriterOptions
	if opts != nil {
		o = *opts
	}
	if o.MemoryBytes == 0 {
		o.MemoryBytes = DefaultMemoryBytes
	}
	o.MemoryBytes = max(o.MemoryBytes, minMemoryBytes)
	return &Writer{w: w, o: o}
}

// Add records key's record address. Addresses, shifted right by
// WriterOptions.AddrShift, must be in [1, MaxAddress).
func (w *Writer) Add(key []byte, addr uint64) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errClosed
	}
	if w.o.AddrShift != 0 && w.o.AddrShift != GroupShift {
		w.err = fmt.Errorf("hashindex: address shift %d is not 0 or %d", w.o.AddrShift, GroupShift)
		return w.err
	}
	if a := addr >> w.o.AddrShift; a == 0 || a >= MaxAddress {
		// 0 is an empty slot; 2^40 and up do not fit an entry (a value log over 1 TiB).
		w.err = fmt.Errorf("hashindex: record address %d (entry address %d, shift %d) is outside [1, 2^40)", addr, a, w.o.AddrShift)
		return w.err
	}
	addr >>= w.o.AddrShift
	limit := w.o.MemoryBytes / pairLen / 2 // the other half is the sort's scratch
	if len(w.buf) == limit {
		if err := w.spillRun(); err != nil {
			w.err = err
			return err
		}
	}
	if len(w.buf) == cap(w.buf) { // grow, never past the budget
		nb := make([]pair, len(w.buf), min(max(2*cap(w.buf), 1024), limit))
		copy(nb, w.buf)
		w.buf = nb
	}
	w.buf = append(w.buf, pair{Hash(key, w.o.Seed), addr})
	w.n++
	return nil
}

var errClosed = errors.New("hashindex: writer already closed")

// spilled describes one run of the spill file: its number of pairs and
// the CRC-32C of its bytes, which the merge checks.
type spilled struct {
	pairs int64
	crc   uint32
}

// spillRun sorts the buffer and appends it to the spill file as a run,
// recording the run's CRC-32C: a spill file cut short or overwritten
// before the merge reads it (a hole left by the final flush past a
// truncation reads as zeros) must fail Close, not misplace keys.
func (w *Writer) spillRun() error {
	if w.spill == nil {
		f, err := os.CreateTemp(w.o.TmpDir, ".kvdict-hix-*.run")
		if err != nil {
			return fmt.Errorf("hashindex: creating the spill file: %w", err)
		}
		w.spill = f
		w.sw = bufio.NewWriterSize(f, 256<<10)
	}
	w.sort()
	var b [256 * pairLen]byte
	var crc uint32
	for ps := w.buf; len(ps) > 0; {
		k := min(len(ps), len(b)/pairLen)
		for i, p := range ps[:k] {
			binary.LittleEndian.PutUint64(b[i*pairLen:], p.h)
			binary.LittleEndian.PutUint64(b[i*pairLen+8:], p.addr)
		}
		crc = crc32.Update(crc, frame.Table, b[:k*pairLen])
		if _, err := w.sw.Write(b[:k*pairLen]); err != nil {
			return fmt.Errorf("hashindex: writing the spill file: %w", err)
		}
		ps = ps[k:]
	}
	w.runs = append(w.runs, spilled{int64(len(w.buf)), crc})
	w.buf = w.buf[:0]
	return nil
}

// sort sorts the buffer into the index's order.
func (w *Writer) sort() {
	if cap(w.tmp) < len(w.buf) {
		w.tmp = make([]pair, len(w.buf), cap(w.buf))
	}
	sortPairs(w.buf, w.tmp)
}

// Len reports how many keys were added.
func (w *Writer) Len() uint64 { return w.n }

// Close sorts or merges the pairs, writes the index file to w and removes
// the spill file. It returns the frame footer, whose fields the manifest
// records.
func (w *Writer) Close() (ft Footer, err error) {
	if w.closed {
		return frame.Footer{}, errClosed
	}
	defer w.Abort()
	if w.err != nil {
		return frame.Footer{}, w.err
	}
	var next func() (pair, bool, error)
	if w.spill == nil {
		w.sort()
		i := 0
		next = func() (pair, bool, error) {
			if i == len(w.buf) {
				return pair{}, false, nil
			}
			i++
			return w.buf[i-1], true, nil
		}
	} else {
		if len(w.buf) > 0 {
			if err := w.spillRun(); err != nil {
				return frame.Footer{}, err
			}
		}
		if err := w.sw.Flush(); err != nil {
			return frame.Footer{}, fmt.Errorf("hashindex: writing the spill file: %w", err)
		}
		w.buf, w.tmp = nil, nil // the merge's read buffers reuse the budget
		m, err := newMerger(w.spill, w.runs, w.o.MemoryBytes)
		if err != nil {
			return frame.Footer{}, err
		}
		next = m.next
	}
	return w.place(next)
}

// place writes the file: entries in sorted hash order, each at
// max(home, previous slot + 1), then the trailer and the footer.
func (w *Writer) place(next func() (pair, bool, error)) (frame.Footer, error) {
	fw, err := frame.NewWriter(w.w, frame.Header{Magic: Magic, Version: Version}, 0)
	if err != nil {
		return frame.Footer{}, fmt.Errorf("hashindex: %w", err)
	}
	t := trailer{hash: HashXXH3, layout: LayoutEntry8, shift: w.o.AddrShift, seed: w.o.Seed, m: homeSlots(w.n), keys: w.n}
	// Entries and empty slots go through out, 64 KiB at a time: one
	// frame.Writer call (and CRC update) per entry cost ~0.3 s on 10M keys.
	out := make([]byte, 0, 64<<10)
	put := func(e uint64) {
		if len(out) == cap(out) {
			fw.Write(out)
			out = out[:0]
		}
		out = binary.LittleEndian.AppendUint64(out, e)
	}
	var slot uint64 // next slot to write
	var seen uint64
	for {
		p, ok, err := next()
		if err != nil {
			return frame.Footer{}, err
		}
		if !ok {
			break
		}
		seen++
		hm := home(p.h, t.m)
		pos := max(hm, slot)
		for ; slot < pos; slot++ {
			put(0)
		}
		d := pos - hm
		t.maxDisp = max(t.maxDisp, uint8(min(d, maxDisp)))
		put(entry(p.addr, d, p.h))
		slot = pos + 1
	}
	if seen != w.n {
		return frame.Footer{}, fmt.Errorf("hashindex: merged %d pairs, %d were added (spill file damaged?)", seen, w.n)
	}
	for ; slot < t.m; slot++ {
		put(0)
	}
	fw.Write(out)
	t.l = slot
	fw.Write(t.append(nil))
	ft, err := fw.Finish(w.n)
	if err != nil {
		return frame.Footer{}, fmt.Errorf("hashindex: writing the index: %w", err)
	}
	return ft, nil
}

// Abort removes the spill file and releases memory. Close calls it; call
// it directly to give up a Writer without Close. It is safe to call twice.
func (w *Writer) Abort() error {
	w.closed = true
	w.buf, w.tmp = nil, nil
	if w.spill == nil {
		return nil
	}
	name := w.spill.Name()
	err := errors.Join(w.spill.Close(), os.Remove(name))
	w.spill = nil
	return err
}

// merger merges the sorted runs of the spill file: a binary heap of runs
// ordered by their current pair, each run read in blocks with ReadAt. (It
// was container/heap over bufio readers, 16 bytes a call: ~1 s of a 10M-key
// build in interface calls.)
type merger struct {
	h []*run
}

type run struct {
	f        *os.File
	block    []byte // read buffer, a multiple of pairLen
	buf      []byte // the unread pairs of block
	off, end int64  // next read offset and end of the run in the spill file
	left     int64  // pairs not yet taken into cur
	cur      pair
	crc      uint32 // of the blocks read so far
	want     uint32 // of the whole run, as spillRun wrote it
}

func newMerger(f *os.File, runs []spilled, budget int) (*merger, error) {
	blockLen := max(4<<10, min(1<<20, budget/max(1, len(runs)))) / pairLen * pairLen
	m := &merger{}
	var off int64
	for _, sr := range runs {
		r := &run{f: f, block: make([]byte, blockLen), off: off, end: off + sr.pairs*pairLen, left: sr.pairs, want: sr.crc}
		off = r.end
		if err := r.advance(); err != nil {
			return nil, err
		}
		m.h = append(m.h, r)
	}
	for i := len(m.h)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m, nil
}

// advance takes the run's next pair into cur (the caller checks left).
func (r *run) advance() error {
	if len(r.buf) == 0 {
		b := r.block[:min(int64(len(r.block)), r.end-r.off)]
		if n, err := r.f.ReadAt(b, r.off); n < len(b) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("hashindex: reading the spill file: %w", err)
		}
		r.off += int64(len(b))
		r.buf = b
		r.crc = crc32.Update(r.crc, frame.Table, b)
		if r.off == r.end && r.crc != r.want {
			// The run's last block: its pairs, and those already merged
			// from it, are not what spillRun wrote.
			return corruptf("spill file %s: run ending at byte %d: CRC-32C %#08x, written %#08x", r.f.Name(), r.end, r.crc, r.want)
		}
	}
	r.cur = pair{binary.LittleEndian.Uint64(r.buf[0:8]), binary.LittleEndian.Uint64(r.buf[8:16])}
	r.buf = r.buf[pairLen:]
	r.left--
	return nil
}

func (m *merger) next() (pair, bool, error) {
	if len(m.h) == 0 {
		return pair{}, false, nil
	}
	r := m.h[0]
	p := r.cur
	if r.left == 0 {
		last := len(m.h) - 1
		m.h[0] = m.h[last]
		m.h = m.h[:last]
	} else if err := r.advance(); err != nil {
		return pair{}, false, err
	}
	m.down(0)
	return p, true, nil
}

// down restores the heap order below slot i.
func (m *merger) down(i int) {
	h := m.h
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if r := c + 1; r < len(h) && less(h[r].cur, h[c].cur) {
			c = r
		}
		if !less(h[c].cur, h[i].cur) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
