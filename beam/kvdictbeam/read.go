package kvdictbeam

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"

	"github.com/kvdict/kvdict/internal/escape"
	"github.com/kvdict/kvdict/internal/extsort"
)

// A row's place in input order, its sequence number for the Sorter, is
// its file's number in the high 24 bits and the byte offset of its line in
// the (decompressed) file in the low 40: files are ordered, then lines.
const (
	offsetBits = 40
	maxFiles   = 1 << (64 - offsetBits)
)

func makeSeq(file int, off int64) uint64 { return uint64(file)<<offsetBits | uint64(off) }

// FileRef is one input file, numbered in input order.
type FileRef struct {
	Index int
	Path  string
	Size  int64
}

// listFn expands the globs, in order, into numbered files: the files of a
// glob in byte order of their names, after those of the globs before it.
type listFn struct {
	Globs []string
}

func (f *listFn) ProcessElement(ctx context.Context, _ []byte, emit func(FileRef)) error {
	n := 0
	for _, g := range f.Globs {
		fs, err := filesystem.New(ctx, g)
		if err != nil {
			return fmt.Errorf("kvdictbeam: input %s: %w", g, err)
		}
		names, err := fs.List(ctx, g)
		if err == nil && len(names) == 0 {
			err = errors.New("matches no file")
		}
		if err != nil {
			fs.Close()
			return fmt.Errorf("kvdictbeam: input %s: %w", g, err)
		}
		slices.Sort(names) // byte order, as LC_ALL=C sorts a shell glob
		for _, name := range names {
			size, err := fs.Size(ctx, name)
			if err != nil {
				fs.Close()
				return fmt.Errorf("kvdictbeam: input %s: %w", name, err)
			}
			if n >= maxFiles {
				fs.Close()
				return fmt.Errorf("kvdictbeam: more than %d input files", maxFiles)
			}
			emit(FileRef{Index: n, Path: name, Size: size})
			n++
		}
		fs.Close()
	}
	return nil
}

// Initial byte ranges of a plain file: blockSize each, the last at least
// a quarter of that (a smaller tail joins the range before it). The runner
// may split them further while they are read.
const blockSize = 64 << 20

// readFn reads key<TAB>value rows from one file, by kvbuild's rules (a
// trailing \r\n or \n ends a line, empty lines are skipped, the key is the
// bytes before the first TAB), and emits each as an encoded row (see
// encodeRow) carrying its place in input order. It is a splittable DoFn
// over byte ranges: a range reads the lines that start in it. gzip and
// zstd files (recognised by their first bytes) cannot be split: the range
// starting at byte 0 reads the whole file and the others emit nothing.
type readFn struct {
	Unescape  bool
	BareKeys  bool
	BlockSize int64 // initial byte ranges (0: blockSize)
}

// CreateInitialRestriction is the whole file.
func (f *readFn) CreateInitialRestriction(file FileRef) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: file.Size}
}

// SplitRestriction cuts the file into blockSize ranges.
func (f *readFn) SplitRestriction(_ FileRef, r offsetrange.Restriction) []offsetrange.Restriction {
	bs := cmp.Or(f.BlockSize, blockSize)
	s := r.SizedSplits(bs)
	if n := len(s); n > 1 && s[n-1].End-s[n-1].Start < bs/4 {
		s[n-2].End = s[n-1].End
		s = s[:n-1]
	}
	return s
}

// RestrictionSize is the range's size in bytes.
func (f *readFn) RestrictionSize(_ FileRef, r offsetrange.Restriction) float64 { return r.Size() }

// CreateTracker tracks the range by byte offsets.
func (f *readFn) CreateTracker(r offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(r))
}

// ProcessElement reads the lines that start in the tracker's range.
func (f *readFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, file FileRef, emit func([]byte)) error {
	rest := rt.GetRestriction().(offsetrange.Restriction)
	fs, err := filesystem.New(ctx, file.Path)
	if err != nil {
		return fmt.Errorf("kvdictbeam: %s: %w", file.Path, err)
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, file.Path)
	if err != nil {
		return fmt.Errorf("kvdictbeam: %s: %w", file.Path, err)
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	head, err := br.Peek(6)
	if err != nil && err != io.EOF {
		return fmt.Errorf("kvdictbeam: %s: %w", file.Path, err)
	}
	r := &rowReader{fn: f, file: file, emit: emit}
	defer func() { rowsRead.Inc(ctx, r.rows) }()
	if compressed(head) {
		if rest.Start > 0 || rest.End <= 0 || !rt.TryClaim(rest.End-1) {
			rt.TryClaim(rest.End) // read by the range at byte 0: done
			return nil
		}
		// Claiming the last byte first leaves nothing to split off.
		text, err := extsort.OpenText(extsort.Input{Name: file.Path, Open: func() (io.ReadCloser, error) { return io.NopCloser(br), nil }})
		if err != nil {
			return fmt.Errorf("kvdictbeam: %w", err)
		}
		defer text.Close()
		tr := bufio.NewReaderSize(text, 1<<20)
		var pos int64
		for {
			line, n, err := readLine(tr, r.buf[:0])
			if n > 0 {
				if err := r.row(line, pos); err != nil {
					return err
				}
				pos += int64(n)
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("kvdictbeam: %s: %w", file.Path, err)
			}
		}
	}
	// Refuse xz, bzip2, lz4 and zip with kvbuild's message, not "no TAB".
	if _, err := extsort.OpenText(extsort.Input{Name: file.Path, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(head)), nil }}); err != nil {
		return fmt.Errorf("kvdictbeam: %w", err)
	}
	pos := rest.Start
	if pos > 0 {
		// The line holding byte Start-1 belongs to the range before: skip
		// to the first line that starts at or after Start.
		if _, err := br.Discard(int(pos - 1)); err != nil {
			return fmt.Errorf("kvdictbeam: %s: range at byte %d: %w (did the file shrink?)", file.Path, pos, err)
		}
		_, n, err := readLine(br, r.buf[:0])
		if err == io.EOF {
			rt.TryClaim(rest.End)
			return nil
		}
		if err != nil {
			return fmt.Errorf("kvdictbeam: %s: %w", file.Path, err)
		}
		pos += int64(n) - 1
	}
	for rt.TryClaim(pos) {
		line, n, err := readLine(br, r.buf[:0])
		if n > 0 {
			if err := r.row(line, pos); err != nil {
				return err
			}
			pos += int64(n)
		}
		if err == io.EOF {
			rt.TryClaim(rest.End) // the file ended before the range
			return nil
		}
		if err != nil {
			return fmt.Errorf("kvdictbeam: %s: %w", file.Path, err)
		}
	}
	return nil
}

// compressed reports whether a stream starting with head is gzip or zstd.
func compressed(head []byte) bool {
	return bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd})
}

// readLine returns the next line with its newline (if any) and the number
// of bytes it took. The line aliases br's buffer or buf.
func readLine(br *bufio.Reader, buf []byte) (line []byte, n int, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		n += len(frag)
		if err == bufio.ErrBufferFull {
			buf = append(buf, frag...)
			continue
		}
		if len(buf) > 0 {
			frag = append(buf, frag...)
		}
		return frag, n, err
	}
}

// rowReader turns lines into rows.
type rowReader struct {
	fn   *readFn
	file FileRef
	emit func([]byte)
	buf  []byte
	rows int64
}

// row parses the line at byte offset off and emits it.
func (r *rowReader) row(l []byte, off int64) error {
	if off >= 1<<offsetBits {
		return fmt.Errorf("kvdictbeam: %s: longer than %d bytes", r.file.Path, int64(1)<<offsetBits)
	}
	l = bytes.TrimSuffix(l, []byte{'\n'})
	l = bytes.TrimSuffix(l, []byte{'\r'})
	if len(l) == 0 {
		return nil
	}
	key, val, ok := bytes.Cut(l, []byte{'\t'})
	reason := ""
	switch {
	case !ok && r.fn.BareKeys:
		key, val = l, nil
	case !ok:
		reason = "no TAB between key and value"
	}
	if reason == "" && r.fn.Unescape {
		if key, ok = escape.Unescape(nil, key); !ok {
			reason = "bad escape in key (Unescape accepts \\t \\n \\r \\\\)"
		} else if val, ok = escape.Unescape(nil, val); !ok {
			reason = "bad escape in value (Unescape accepts \\t \\n \\r \\\\)"
		}
	}
	if reason == "" && len(key) > extsort.MaxKeyLen {
		reason = fmt.Sprintf("key is %d bytes, longer than the %d bytes the format can hold", len(key), extsort.MaxKeyLen)
	}
	if reason != "" {
		return fmt.Errorf("kvdictbeam: %s: the line at byte offset %d: %s", r.file.Path, off, reason)
	}
	r.rows++
	r.emit(encodeRow(makeSeq(r.file.Index, off), key, val))
	return nil
}

// encodeRow is a row as it crosses the shuffle: uvarint sequence number,
// uvarint key length, key, value. One []byte is the cheapest element to
// encode.
func encodeRow(seq uint64, key, val []byte) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(key)+len(val))
	b = binary.AppendUvarint(b, seq)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, val...)
}

// decodeRow splits an encoded row; key and value alias it.
func decodeRow(b []byte) (seq uint64, key, val []byte, err error) {
	seq, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, nil, errors.New("kvdictbeam: bad row encoding")
	}
	b = b[n:]
	kl, n := binary.Uvarint(b)
	if n <= 0 || kl > uint64(len(b)-n) {
		return 0, nil, nil, errors.New("kvdictbeam: bad row encoding")
	}
	b = b[n:]
	return seq, b[:kl], b[kl:], nil
}
