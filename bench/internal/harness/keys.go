package harness

import (
	"bytes"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// QueryFile is a query file (key<TAB>expected value per line, or bare keys)
// mapped read-only: processes that read the same file share its pages, so
// the keys add little to each reader's PSS. Only offsets live on the heap.
type QueryFile struct {
	data []byte
	// per entry: key start, key end, value start, value end
	idx []uint32
}

// OpenQueryFile maps name and indexes at most limit entries (0 = all).
func OpenQueryFile(name string, limit int) (*QueryFile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() >= 1<<32 {
		return nil, fmt.Errorf("harness: %s: query files are limited to 4 GB", name)
	}
	q := &QueryFile{}
	if st.Size() == 0 {
		return q, nil
	}
	q.data, err = unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("harness: mmap %s: %w", name, err)
	}
	pos := 0
	for pos < len(q.data) && (limit <= 0 || len(q.idx)/4 < limit) {
		end := bytes.IndexByte(q.data[pos:], '\n')
		if end < 0 {
			end = len(q.data)
		} else {
			end += pos
		}
		line := q.data[pos:end]
		ks, ke, vs, ve := pos, end, end, end
		if t := bytes.IndexByte(line, '\t'); t >= 0 {
			ke, vs = pos+t, pos+t+1
		}
		q.idx = append(q.idx, uint32(ks), uint32(ke), uint32(vs), uint32(ve))
		pos = end + 1
	}
	return q, nil
}

// Len is the number of entries.
func (q *QueryFile) Len() int { return len(q.idx) / 4 }

// Key returns entry i's key.
func (q *QueryFile) Key(i int) []byte { return q.data[q.idx[4*i]:q.idx[4*i+1]] }

// Value returns entry i's expected value.
func (q *QueryFile) Value(i int) []byte { return q.data[q.idx[4*i+2]:q.idx[4*i+3]] }

// Close unmaps the file.
func (q *QueryFile) Close() error {
	if q.data == nil {
		return nil
	}
	return unix.Munmap(q.data)
}
