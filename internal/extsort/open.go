package extsort

import (
	"errors"
	"fmt"
	"io"
)

// OpenText opens in and returns its text, decompressed (gzip and zstd are
// recognised by their first bytes, as for build inputs). Close releases
// the decompressor and closes the stream. kvbuild reads --delete lists
// through it.
func OpenText(in Input) (io.ReadCloser, error) {
	rc, err := in.Open()
	if err != nil {
		return nil, err
	}
	r, _, release, err := decompress(in.Name, rc)
	if err != nil {
		return nil, errors.Join(err, rc.Close())
	}
	return &textReader{Reader: r, release: release, c: rc, name: in.Name}, nil
}

type textReader struct {
	io.Reader
	release func()
	c       io.Closer
	name    string
}

func (t *textReader) Read(b []byte) (int, error) {
	n, err := t.Reader.Read(b)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", t.name, err)
	}
	return n, err
}

func (t *textReader) Close() error {
	t.release()
	return t.c.Close()
}
