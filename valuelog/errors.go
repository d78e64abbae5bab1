package valuelog

import (
	"errors"

	"github.com/kvdict/kvdict/internal/frame"
)

// These errors are returned (wrapped, with the offset and the reason) when a
// value log cannot be used. They are the very values of [frame], re-exported
// so that errors.Is works across every kvdict package.
var (
	// ErrCorrupt is returned when the file is truncated, has trailing
	// bytes, fails a checksum, or a record offset or length points outside
	// the body. It is the same value as frame.ErrCorrupt.
	ErrCorrupt = frame.ErrCorrupt
	// ErrMagic is returned by Load when the data is not a value log.
	ErrMagic = frame.ErrMagic
	// ErrVersion is returned by Load when the file was written by a newer
	// format version, or with a codec this build cannot decode.
	ErrVersion = frame.ErrVersion
)

// ErrClosed is returned by Append and Close after the Writer was closed.
var ErrClosed = errors.New("valuelog: writer is closed")
