package frame

import (
	"hash"
	"hash/crc32"
	"io"
)

// DefaultBufSize is the Writer's default buffer: 2 MiB, the x86-64 huge
// page size. The Writer only ever writes whole buffers (but the last), so
// a file written from its start receives writes of 2 MiB at offsets that
// are multiples of 2 MiB. Linux (6.x, ext4 and xfs) then caches each such
// write as one 2 MiB page-cache folio, and every process that maps the
// file afterwards gets it mapped with 2 MiB pages: one TLB entry where
// 4 KiB pages need 512. On a dictionary of a GiB or more that halved the
// time of a warm hash-index lookup (a TLB miss costs a page-table walk of
// its own, worse in a virtual machine); see docs/BENCHMARKS.md section 11.
// Smaller writes (bufio's, or 1 MiB) leave folios too small to be mapped so.
const DefaultBufSize = 2 << 20

// Writer frames a body as it is streamed: it writes the header at creation,
// checksums and counts every body byte, and writes the footer at Finish. It
// buffers internally. It keeps the first write error (sticky) and returns it
// from every later call. It never closes the underlying io.Writer.
type Writer struct {
	bw    chunkWriter
	crc   hash.Hash32
	magic string
	n     uint64 // body bytes written
	err   error
}

// NewWriter writes the header h to w and returns a Writer for the body.
// bufSize is the size of the internal buffer (0 means DefaultBufSize); w
// receives writes of exactly bufSize bytes, except the last.
func NewWriter(w io.Writer, h Header, bufSize int) (*Writer, error) {
	if bufSize <= 0 {
		bufSize = DefaultBufSize
	}
	fw := &Writer{bw: chunkWriter{w: w, buf: make([]byte, 0, bufSize)}, crc: crc32.New(Table), magic: h.Magic}
	hdr := AppendHeader(nil, h)
	fw.crc.Write(hdr)
	if _, err := fw.bw.Write(hdr); err != nil {
		fw.err = err
		return nil, err
	}
	return fw, nil
}

// Write appends p to the body. It implements io.Writer.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.bw.Write(p)
	w.crc.Write(p[:n])
	w.n += uint64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Len reports the number of body bytes written so far; the next body byte
// lands at file offset HeaderLen+Len().
func (w *Writer) Len() uint64 { return w.n }

// Err returns the first error met, if any.
func (w *Writer) Err() error { return w.err }

// Finish writes the footer with the given count and flushes. It returns the
// footer written, whose BodyCRC is what a manifest records.
func (w *Writer) Finish(count uint64) (Footer, error) {
	if w.err != nil {
		return Footer{}, w.err
	}
	f := Footer{Count: count, BodyLen: w.n, BodyCRC: w.crc.Sum32()}
	if _, err := w.bw.Write(AppendFooter(nil, w.magic, f)); err != nil {
		w.err = err
		return Footer{}, err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return Footer{}, err
	}
	return f, nil
}

// chunkWriter buffers writes and passes them on in chunks of exactly
// cap(buf) bytes (the last may be shorter). Unlike bufio.Writer it never
// writes a large p straight through, which would shift every later
// chunk off the alignment that DefaultBufSize is for. The Writer above
// keeps the first error.
type chunkWriter struct {
	w   io.Writer
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := copy(c.buf[len(c.buf):cap(c.buf)], p)
		c.buf, p, n = c.buf[:len(c.buf)+k], p[k:], n+k
		if len(c.buf) == cap(c.buf) {
			if err := c.Flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Flush writes what is buffered.
func (c *chunkWriter) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	m, err := c.w.Write(c.buf)
	if err == nil && m < len(c.buf) {
		err = io.ErrShortWrite
	}
	c.buf = c.buf[:0]
	return err
}
