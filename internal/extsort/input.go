package extsort

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Input is one input stream.
type Input struct {
	// Name appears in error messages ("-" for stdin).
	Name string
	// Open returns the raw (possibly compressed) stream. It is called once.
	Open func() (io.ReadCloser, error)
	// Size is the raw size in bytes if known (for progress), else 0.
	Size int64
}

// FileInput returns the Input for a path; "-" is stdin.
func FileInput(name string, stdin io.Reader) Input {
	if name == "-" {
		return Input{Name: "-", Open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }}
	}
	in := Input{Name: name, Open: func() (io.ReadCloser, error) { return os.Open(name) }}
	if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
		in.Size = fi.Size()
	}
	return in
}

// Magic numbers of the compressed formats read transparently.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
	utf8BOM   = []byte{0xef, 0xbb, 0xbf}
)

// unsupported are compressed formats recognised by their magic numbers
// only to say so clearly, instead of parsing their bytes as lines.
var unsupported = []struct {
	magic      []byte
	name, tool string
}{
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, "xz", "xz -dc"},
	{[]byte("BZh"), "bzip2", "bzip2 -dc"},
	{[]byte{0x04, 0x22, 0x4d, 0x18}, "lz4", "lz4 -dc"},
	{[]byte{'P', 'K', 3, 4}, "zip", "unzip -p"},
}

// decompress wraps r in a decompressor chosen by the first bytes of the
// stream (not by the file name, so a .tsv that is really gzip works too).
// The returned close function releases the decompressor.
// kind names the compression ("gzip", "zstd"), or is "" for plain text.
func decompress(name string, r io.Reader) (_ io.Reader, kind string, release func(), _ error) {
	br := bufio.NewReaderSize(r, 256<<10)
	head, err := br.Peek(6)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", nil, fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", nil, inputError(name, "gzip", int64(br.Buffered()), err)
		}
		return zr, "gzip", func() { zr.Close() }, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, "", nil, fmt.Errorf("%s: zstd: %w", name, err)
		}
		return zr, "zstd", zr.Close, nil
	}
	for _, u := range unsupported {
		if bytes.HasPrefix(head, u.magic) {
			return nil, "", nil, fmt.Errorf("%s: %w: %s-compressed input (only gzip and zstd are read): decompress it first, e.g. %s %s | kvbuild -o DICT -", name, ErrUnsupported, u.name, u.tool, name)
		}
	}
	return br, "", func() {}, nil
}

// chunk is a run of whole lines of one input.
type chunk struct {
	buf  []byte // backing buffer, reused
	data []byte // whole lines (the last line of a file may lack its newline)
	file int    // input index
	line int64  // number of the first line of data, 1-based
}

// countingReader counts raw bytes for progress.
type countingReader struct {
	r io.Reader
	p *Progress
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.p.Bytes.Add(int64(n))
	return n, err
}

// chunkReader reads the inputs in order and sends chunks of whole lines to
// out, taking empty chunks from free. It closes out when done.
type chunkReader struct {
	inputs []Input
	free   chan *chunk
	out    chan *chunk
	prog   *Progress
	nread  int64
	text   int64    // bytes of text (decompressed)
	boms   []string // inputs starting with a UTF-8 byte order mark
}

func (cr *chunkReader) run(ctx context.Context) error {
	defer close(cr.out)
	for i, in := range cr.inputs {
		if err := cr.readOne(ctx, i, in); err != nil {
			return err
		}
	}
	return nil
}

func (cr *chunkReader) get(ctx context.Context) (*chunk, error) {
	select {
	case c := <-cr.free:
		return c, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (cr *chunkReader) send(ctx context.Context, c *chunk) error {
	select {
	case cr.out <- c:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (cr *chunkReader) readOne(ctx context.Context, idx int, in Input) (err error) {
	raw, err := in.Open()
	if err != nil {
		return err // os errors already name the file
	}
	defer raw.Close()
	cnt := &countingReader{r: raw, p: cr.prog}
	defer func() { cr.nread += cnt.n }()
	r, kind, release, err := decompress(in.Name, cnt)
	if err != nil {
		return err
	}
	defer release()

	line := int64(1)
	var carryBuf []byte
	var carry []byte // partial line left over from the previous chunk (a copy)
	for {
		c, err := cr.get(ctx)
		if err != nil {
			return err
		}
		n := copy(c.buf[:cap(c.buf)], carry)
		c.buf = c.buf[:cap(c.buf)]
		if n < len(carry) { // a line longer than this buffer
			c.buf = append(c.buf[:0], carry...)
			c.buf = c.buf[:cap(c.buf)]
			n = len(carry)
		}
		eof := false
		for {
			m, rerr := fill(r, c.buf[n:])
			n += m
			if rerr == io.EOF {
				eof = true
				break
			}
			if rerr != nil {
				return inputError(in.Name, kind, cnt.n, rerr)
			}
			// Buffer full: need at least one newline in it.
			if bytes.IndexByte(c.buf[:n], '\n') >= 0 {
				break
			}
			// A line longer than the chunk: grow.
			nb := make([]byte, 2*len(c.buf))
			copy(nb, c.buf[:n])
			c.buf = nb
		}
		end := n
		if !eof {
			end = bytes.LastIndexByte(c.buf[:n], '\n') + 1
		}
		c.data = c.buf[:end]
		c.file = idx
		if line == 1 && bytes.HasPrefix(c.data, utf8BOM) {
			cr.boms = append(cr.boms, in.Name)
		}
		cr.text += int64(len(c.data))
		c.line = line
		line += int64(bytes.Count(c.data, nl))
		carry = c.buf[end:n]
		if eof && len(c.data) == 0 {
			cr.free <- c
			return nil
		}
		// c goes to a worker and back to the pool: copy the partial line out.
		carryBuf = append(carryBuf[:0], carry...)
		carry = carryBuf
		if err := cr.send(ctx, c); err != nil {
			return err
		}
		if eof {
			return nil
		}
	}
}

var nl = []byte{'\n'}

// fill reads from r until b is full or the stream ends. Unlike io.ReadFull
// it returns io.EOF only for a clean end of stream: every other error,
// io.ErrUnexpectedEOF from a decompressor that hit the end of a truncated
// stream among them, comes back as it is, so a cut .gz or .zst file fails
// the build instead of silently losing the rows after the cut.
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// inputError describes a failure to read an input. A truncated compressed
// stream is named as such: it is the usual result of an interrupted copy.
func inputError(name, kind string, rawBytes int64, err error) error {
	if kind != "" && errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w: the %s stream ends unexpectedly after %d bytes of the file (an interrupted copy?)",
			name, ErrTruncated, kind, rawBytes)
	}
	if kind != "" {
		return fmt.Errorf("%s: damaged %s stream: %w", name, kind, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}
