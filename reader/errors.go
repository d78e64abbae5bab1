package reader

import (
	"errors"

	"github.com/kvdict/kvdict/internal/frame"
)

// These errors are returned by Get and by Open; test for them with
// errors.Is.
var (
	// ErrNotFound is returned by Get when the key is not in the
	// dictionary. It is returned bare (no allocation), so misses are as
	// cheap as hits.
	ErrNotFound = errors.New("reader: key not found")
	// ErrClosed is returned by every call on a Dict after Close.
	ErrClosed = errors.New("reader: dictionary is closed")
	// ErrCorrupt is wrapped by every error caused by damaged files: a
	// truncated file, a checksum mismatch, an offset outside its file, or
	// data files that do not match the MANIFEST. It is the same value as
	// fst.ErrCorrupt and valuelog.ErrCorrupt.
	ErrCorrupt = frame.ErrCorrupt
	// ErrMagic is wrapped when a file is not a kvdict file of the expected
	// type (for example, the path is not a dictionary).
	ErrMagic = frame.ErrMagic
	// ErrVersion is wrapped when the dictionary was written by a newer
	// format version, or uses a feature, that this build cannot read.
	ErrVersion = frame.ErrVersion
)
