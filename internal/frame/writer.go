package frame

import (
	"bufio"
	"hash"
	"hash/crc32"
	"io"
)

// Writer frames a body as it is streamed: it writes the header at creation,
// checksums and counts every body byte, and writes the footer at Finish. It
// buffers internally. It keeps the first write error (sticky) and returns it
// from every later call. It never closes the underlying io.Writer.
type Writer struct {
	bw    *bufio.Writer
	crc   hash.Hash32
	magic string
	n     uint64 // body bytes written
	err   error
}

// NewWriter writes the header h to w and returns a Writer for the body.
// bufSize is the size of the internal buffer (0 means 1 MiB).
func NewWriter(w io.Writer, h Header, bufSize int) (*Writer, error) {
	if bufSize <= 0 {
		bufSize = 1 << 20
	}
	fw := &Writer{bw: bufio.NewWriterSize(w, bufSize), crc: crc32.New(Table), magic: h.Magic}
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
