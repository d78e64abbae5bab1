package builder

// Run file format (little-endian varints, one file per spilled run):
//
//	record := uvarint shared   // bytes shared with the previous key (0 at index points)
//	          uvarint suffixLen
//	          suffix           // key[shared:]
//	          uvarint seq      // input position of the chosen/first occurrence
//	          payload          // numeric policies: varint n, varint hi-(n>>63),
//	                           //   uvarint last-seq; others: uvarint vlen, value
//
// Records are in (key, seq) order, reduced per key except under concat. The
// sparse index (kept in memory, not in the file) holds the key and offset of
// a record every indexEvery bytes; those records have shared == 0, so a
// reader can start there.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/kvdict/kvdict/fst"
)

const indexEvery = 64 << 10

// indexPoint is a restart point in a run file.
type indexPoint struct {
	key  []byte
	off  int64
	recs int64 // records before this point
}

// runFile is a spilled run.
type runFile struct {
	path    string
	index   []indexPoint
	size    int64
	records int64
	f       *os.File // open during the merge
}

// spillWriter writes run files through one reused buffer.
type spillWriter struct {
	bw      *bufio.Writer
	numeric bool
	scratch [3 * binary.MaxVarintLen64]byte
}

func newSpillWriter(bufSize int, numeric bool) *spillWriter {
	return &spillWriter{bw: bufio.NewWriterSize(nil, bufSize), numeric: numeric}
}

// write drains src into a new run file at path.
func (sw *spillWriter) write(path string, src source) (rf *runFile, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, spillError(path, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = spillError(path, cerr)
		}
	}()
	sw.bw.Reset(f)
	rf = &runFile{path: path}
	var prev []byte
	var off, nextIdx int64
	for {
		rec, err := src.next()
		if err != nil {
			return nil, err
		}
		if rec == nil {
			break
		}
		shared := 0
		if off >= nextIdx {
			rf.index = append(rf.index, indexPoint{key: bytes.Clone(rec.key), off: off, recs: rf.records})
			nextIdx = off + indexEvery
		} else {
			shared = commonPrefix(prev, rec.key)
		}
		b := sw.scratch[:0]
		b = binary.AppendUvarint(b, uint64(shared))
		b = binary.AppendUvarint(b, uint64(len(rec.key)-shared))
		n1, _ := sw.bw.Write(b)
		n2, _ := sw.bw.Write(rec.key[shared:])
		b = binary.AppendUvarint(sw.scratch[:0], rec.seq)
		if sw.numeric {
			b = binary.AppendVarint(b, rec.n)
			b = binary.AppendVarint(b, rec.hi-rec.n>>63) // 0 unless beyond int64
			b = binary.AppendUvarint(b, rec.last-rec.seq)
			n3, _ := sw.bw.Write(b)
			off += int64(n1 + n2 + n3)
		} else {
			b = binary.AppendUvarint(b, uint64(len(rec.val)))
			n3, _ := sw.bw.Write(b)
			n4, err := sw.bw.Write(rec.val)
			if err != nil {
				return nil, spillError(path, err)
			}
			off += int64(n1 + n2 + n3 + n4)
		}
		prev = append(prev[:0], rec.key...)
		rf.records++
	}
	if err := sw.bw.Flush(); err != nil {
		return nil, spillError(path, err)
	}
	sw.bw.Reset(nil)
	rf.size = off
	return rf, nil
}

func spillError(path string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("builder: writing temporary run %s: %w: the run files need about as much free space as the input (choose another SortOptions.TempDir): %w", path, ErrDiskFull, err)
	}
	return fmt.Errorf("builder: writing temporary run: %w", err)
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i+8 <= n && binary.LittleEndian.Uint64(a[i:]) == binary.LittleEndian.Uint64(b[i:]) {
		i += 8
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// seekPoint returns the offset of the last index point whose key is < key
// (or the file start), and the records before it.
func (rf *runFile) seekPoint(key []byte) (int64, int64) {
	lo, hi := 0, len(rf.index)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(rf.index[m].key, key) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0, 0
	}
	p := rf.index[lo-1]
	return p.off, p.recs
}

// spillSource reads the records of a run file with keys in [lo, hi)
// (nil = unbounded).
type spillSource struct {
	br      *bufio.Reader
	path    string
	numeric bool
	hi      []byte
	rec     record
	lo      []byte
	done    bool
}

// openSpill reads rf's records in [lo, hi). rf.f must be open: all the
// partitions read a run through one shared descriptor (pread), so the merge
// holds one file descriptor per run, not one per run per partition.
func openSpill(rf *runFile, lo, hi []byte, bufSize int, numeric bool) *spillSource {
	var start int64
	if lo != nil {
		start, _ = rf.seekPoint(lo)
	}
	sr := io.NewSectionReader(rf.f, start, rf.size-start)
	return &spillSource{br: bufio.NewReaderSize(sr, bufSize), path: rf.path, numeric: numeric, lo: lo, hi: hi}
}

// open opens the run file for the merge.
func (rf *runFile) open() error {
	f, err := os.Open(rf.path)
	if err != nil {
		return fmt.Errorf("builder: reading temporary run: %w", err)
	}
	rf.f = f
	return nil
}

// close closes the run file.
func (rf *runFile) close() {
	if rf.f != nil {
		rf.f.Close()
		rf.f = nil
	}
}

func (s *spillSource) corrupt(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("builder: reading temporary run %s: %w", s.path, err)
}

func (s *spillSource) next() (*record, error) {
	for {
		if s.done {
			return nil, nil
		}
		shared, err := binary.ReadUvarint(s.br)
		if err == io.EOF {
			s.done = true
			return nil, nil
		}
		if err != nil {
			return nil, s.corrupt(err)
		}
		suffix, err := binary.ReadUvarint(s.br)
		if err != nil {
			return nil, s.corrupt(err)
		}
		if shared > uint64(len(s.rec.key)) || suffix > fst.MaxKeyLen {
			return nil, s.corrupt(errors.New("bad record header"))
		}
		k := int(shared) + int(suffix)
		if cap(s.rec.key) < k {
			nk := make([]byte, shared, k+k/2)
			copy(nk, s.rec.key[:shared])
			s.rec.key = nk
		}
		s.rec.key = s.rec.key[:k]
		if _, err := io.ReadFull(s.br, s.rec.key[shared:]); err != nil {
			return nil, s.corrupt(err)
		}
		if s.rec.seq, err = binary.ReadUvarint(s.br); err != nil {
			return nil, s.corrupt(err)
		}
		if s.numeric {
			if s.rec.n, err = binary.ReadVarint(s.br); err != nil {
				return nil, s.corrupt(err)
			}
			hi, err := binary.ReadVarint(s.br)
			if err != nil {
				return nil, s.corrupt(err)
			}
			s.rec.hi = hi + s.rec.n>>63
			last, err := binary.ReadUvarint(s.br)
			if err != nil {
				return nil, s.corrupt(err)
			}
			s.rec.last = s.rec.seq + last
		} else {
			vl, err := binary.ReadUvarint(s.br)
			if err != nil {
				return nil, s.corrupt(err)
			}
			if uint64(cap(s.rec.val)) < vl {
				s.rec.val = make([]byte, vl, vl+vl/2)
			}
			s.rec.val = s.rec.val[:vl]
			if _, err := io.ReadFull(s.br, s.rec.val); err != nil {
				return nil, s.corrupt(err)
			}
		}
		if s.lo != nil {
			if bytes.Compare(s.rec.key, s.lo) < 0 {
				continue
			}
			s.lo = nil
		}
		if s.hi != nil && bytes.Compare(s.rec.key, s.hi) >= 0 {
			s.done = true
			return nil, nil
		}
		return &s.rec, nil
	}
}
