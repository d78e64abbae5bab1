package fst

import (
	"errors"
	"fmt"

	"github.com/kvdict/kvdict/internal/frame"
)

// These errors are returned, wrapped with the reason and the place, when an
// FST file cannot be read. They are the very values of package frame, so
// errors.Is works across every kvdict package.
var (
	// ErrCorrupt is returned when an FST file is truncated, has trailing
	// bytes, fails a checksum, or holds vellum data that does not decode
	// (an address out of range, a state running off the body, a count that
	// disagrees with the footer, keys out of order). It is frame.ErrCorrupt.
	ErrCorrupt = frame.ErrCorrupt
	// ErrMagic is returned when the data does not start with [Magic]: it is
	// not a kvdict FST file. It is frame.ErrMagic.
	ErrMagic = frame.ErrMagic
	// ErrVersion is returned when the file was written by a newer format
	// version than [Version]. It is frame.ErrVersion.
	ErrVersion = frame.ErrVersion
)

// These errors are returned by [Builder.Add], wrapped in a message that
// names both keys.
var (
	// ErrOutOfOrder is returned when a key sorts before the previous key
	// (bytewise, as bytes.Compare).
	ErrOutOfOrder = errors.New("fst: keys must be added in strictly increasing order")
	// ErrDuplicate is returned when a key equals the previous key. vellum
	// itself accepts duplicates silently and keeps the first value, which
	// would make Len lie; the builder refuses them instead.
	ErrDuplicate = errors.New("fst: duplicate key")
	// ErrKeyTooLong is returned when a key is longer than [MaxKeyLen].
	ErrKeyTooLong = errors.New("fst: key too long")
	// ErrClosed is returned by Add or Close after Close.
	ErrClosed = errors.New("fst: builder already closed")
)

// maxQuoted is how many bytes of a key an error message shows.
const maxQuoted = 64

// quoteKey renders a key for an error message: quoted with %q, and cut to
// maxQuoted bytes (with its full length) so that a 64 KiB key does not
// produce a 256 KiB message.
func quoteKey(k []byte) string {
	if len(k) <= maxQuoted {
		return fmt.Sprintf("%q", k)
	}
	return fmt.Sprintf("%q... (%d bytes)", k[:maxQuoted], len(k))
}

// corruptf returns an error wrapping ErrCorrupt with an "fst: " prefix.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("fst: "+format+": %w", append(args, ErrCorrupt)...)
}

// panicError turns a value recovered from a vellum panic into an error
// wrapping ErrCorrupt. vellum slices its data without bounds checks, so on
// damaged bytes it panics (index out of range); that is corruption, not a
// bug of the caller.
func panicError(op string, p any) error {
	return corruptf("%s: vellum panicked on damaged data: %v", op, p)
}
