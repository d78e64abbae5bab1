package delta

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/escape"
	"github.com/kvdict/kvdict/internal/tmpdir"
	"github.com/kvdict/kvdict/reader"
)

// Deletes is a set of keys to delete from a Base, in any number: the keys
// are sorted by a builder.Sorter into a keys-only dictionary in a private
// temporary directory (removed by Close), which the merge reads in key
// order beside the base. Add keys, then Finish, then use it in NewBase.
type Deletes struct {
	tmp string
	s   *builder.Sorter
	d   *reader.Dict
}

// DefaultDeletesMemory is the memory budget of a Deletes set's Sorter when
// none is given: the set is sorted before the merge starts, so it does not
// compete with the merge for memory.
const DefaultDeletesMemory = 256 << 20

// NewDeletes starts an empty delete set sorted under tmpDir ("" means
// os.TempDir()) in at most memory bytes (0 means DefaultDeletesMemory).
// Its directory is named like kvbuild's run directories (.kvbuild-tmp-*),
// with an owner record, so that if the process is killed the next kvbuild
// removes it (builder.RemoveLeftovers).
func NewDeletes(tmpDir string, memory int64) (*Deletes, error) {
	if tmpDir == "" {
		tmpDir = os.TempDir()
	}
	if memory <= 0 {
		memory = DefaultDeletesMemory
	}
	tmp, err := tmpdir.Create(tmpDir, ".kvbuild-tmp-deletes-*")
	if err != nil {
		return nil, fmt.Errorf("delta: %w", err)
	}
	s, err := builder.NewSorter(filepath.Join(tmp, "deletes.kvd"), &builder.SortOptions{
		Duplicates: builder.KeepFirst,
		Memory:     memory,
		Threads:    1,
		TempDir:    tmp,
		Builder:    &builder.Options{Tool: "kvdict delta (keys to delete)"},
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("delta: %w", err), tmpdir.Remove(tmp))
	}
	return &Deletes{tmp: tmp, s: s}, nil
}

// Add adds a key to delete. Adding a key twice is harmless.
func (ds *Deletes) Add(key []byte) error {
	if ds.d != nil {
		return builder.ErrDone
	}
	return ds.s.Add(key, nil)
}

// Finish sorts the keys and opens the set for NewBase.
func (ds *Deletes) Finish() error {
	if ds.d != nil {
		return builder.ErrDone
	}
	if err := ds.s.Commit(); err != nil {
		return fmt.Errorf("delta: sorting the keys to delete: %w", err)
	}
	d, err := reader.Open(filepath.Join(ds.tmp, "deletes.kvd"), nil)
	if err != nil {
		return fmt.Errorf("delta: %w", err)
	}
	ds.d = d
	return nil
}

// Len returns the number of distinct keys in the set, after Finish.
func (ds *Deletes) Len() int {
	if ds.d == nil {
		return 0
	}
	return ds.d.Len()
}

// Close removes the set and its temporary directory.
func (ds *Deletes) Close() error {
	var errs []error
	if ds.d != nil {
		errs = append(errs, ds.d.Close())
	}
	errs = append(errs, ds.s.Abort(), tmpdir.Remove(ds.tmp))
	return errors.Join(errs...)
}

// ReadDeletes adds to ds the keys listed in r, one per line: the key is
// the whole line without its "\n" (or "\r\n"), or, when the line holds a
// TAB, the bytes before the first TAB (so the TSV of the rows to remove
// works as a delete list, and "\t" alone deletes the empty key). Empty
// lines are skipped. With unescape, \t \n \r \\ are decoded in keys as
// kvbuild --unescape does. name appears in errors, which name the line:
// "FILE:LINE: reason".
func ReadDeletes(ds *Deletes, r io.Reader, name string, unescape bool) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var buf, key []byte
	for line := int64(1); ; line++ {
		l, err := readLine(br, &buf)
		if err == io.EOF && len(l) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: %w", name, err)
		}
		l = bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r"))
		if len(l) == 0 {
			continue
		}
		if i := bytes.IndexByte(l, '\t'); i >= 0 {
			l = l[:i]
		}
		if unescape {
			var ok bool
			if key, ok = escape.Unescape(key[:0], l); !ok {
				return fmt.Errorf("%s:%d: bad escape in key to delete (only \\t \\n \\r \\\\): %w", name, line, builder.ErrInvalidInput)
			}
			l = key
		}
		if len(l) > fst.MaxKeyLen {
			return fmt.Errorf("%s:%d: key to delete is %d bytes, longer than the %d bytes a key can be: %w", name, line, len(l), fst.MaxKeyLen, builder.ErrInvalidInput)
		}
		if err := ds.Add(l); err != nil {
			return err
		}
	}
}

// maxLine bounds a line of a delete list: a key is at most fst.MaxKeyLen
// bytes, but a TSV row may carry a big value after it.
const maxLine = 256 << 20

// readLine returns the next line with its newline (without one at the end
// of the stream), in buf when longer than the reader's buffer.
func readLine(br *bufio.Reader, buf *[]byte) ([]byte, error) {
	l, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return l, err
	}
	*buf = append((*buf)[:0], l...)
	for err == bufio.ErrBufferFull {
		if len(*buf) > maxLine {
			return nil, fmt.Errorf("a line longer than %d bytes: not a list of keys", maxLine)
		}
		l, err = br.ReadSlice('\n')
		*buf = append(*buf, l...)
	}
	return *buf, err
}
