package main

import (
	"context"
	"io"
	"sync"
)

// stdinReader makes standard input give up when ctx is cancelled. A read
// from a pipe or terminal blocks in the kernel, and neither a cancelled
// context nor closing the file wakes it: `slow-producer | kvbuild -o D -`
// ignored SIGTERM until the producer wrote again, which may be never. So a
// goroutine does the reads into buffers of its own, and Read waits for the
// next buffer or for ctx. On cancellation that goroutine is left blocked in
// its read; the process exits after cleaning up, which ends it.
//
// Nothing is read from r until the first Read (stdin is touched only when
// "-" is an input and the build reaches it).
type stdinReader struct {
	ctx  context.Context
	r    io.Reader
	once sync.Once
	full chan []byte // buffers holding data, in order
	free chan []byte // buffers to read into
	err  error       // the reader's error; written before full is closed
	buf  []byte      // the buffer being consumed (full length)
	cur  []byte      // its unread part
}

const (
	stdinBufs    = 4
	stdinBufSize = 256 << 10
)

func newStdinReader(ctx context.Context, r io.Reader) *stdinReader {
	return &stdinReader{ctx: ctx, r: r, full: make(chan []byte, stdinBufs), free: make(chan []byte, stdinBufs)}
}

func (s *stdinReader) pump() {
	defer close(s.full)
	for {
		var b []byte
		select {
		case b = <-s.free:
		case <-s.ctx.Done():
			s.err = s.ctx.Err()
			return
		}
		n, err := s.r.Read(b[:cap(b)])
		if n > 0 {
			s.full <- b[:n] // never blocks: at most stdinBufs buffers exist
		} else {
			s.free <- b
		}
		if err != nil {
			s.err = err
			return
		}
	}
}

func (s *stdinReader) Read(p []byte) (int, error) {
	s.once.Do(func() {
		for range stdinBufs {
			s.free <- make([]byte, stdinBufSize)
		}
		go s.pump()
	})
	if len(s.cur) == 0 {
		if s.buf != nil {
			s.free <- s.buf
			s.buf = nil
		}
		select {
		case b, ok := <-s.full:
			if !ok {
				return 0, s.err
			}
			s.buf, s.cur = b, b
		case <-s.ctx.Done():
			return 0, s.ctx.Err()
		}
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}
