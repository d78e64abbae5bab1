package extsort

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/kvdict/kvdict/builder"
)

// ErrInvalidInput is wrapped by every error about the content of the input:
// bad lines, unsorted input under --sorted, duplicate keys under the error
// policy, and values that sum cannot add. It is the Sorter's sentinel, so
// callers test one value with errors.Is to tell input problems from I/O
// problems.
var ErrInvalidInput = builder.ErrInvalidInput

// ErrTruncated is wrapped when a compressed input (.gz, .zst) ends in the
// middle of its stream: the rows after the cut are missing, so the build
// fails rather than produce a dictionary without them.
var ErrTruncated = errors.New("truncated compressed input")

// ErrUnsupported is wrapped when an input is compressed in a format kvbuild
// does not read (xz, bzip2, lz4, zip), recognised by its magic number.
var ErrUnsupported = errors.New("unsupported compression")

// Place is a line of an input file.
type Place struct {
	File string // input name as given ("-" for stdin)
	Line int64  // 1-based
}

func (p Place) String() string { return p.File + ":" + strconv.FormatInt(p.Line, 10) }

// LineError is a line that cannot become a record: no TAB, a key too long
// for the format, or a bad escape under --unescape.
type LineError struct {
	Place
	Reason string
}

func (e *LineError) Error() string { return e.Place.String() + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *LineError) Unwrap() error { return ErrInvalidInput }

// DuplicateKeyError is returned under the error policy when a key occurs
// twice. First and Second are two of the places where it occurs, in input
// order.
type DuplicateKeyError struct {
	Key           []byte
	First, Second Place
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("duplicate key %s at %s and %s (--duplicates error)", quoteKey(e.Key), e.First, e.Second)
}

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *DuplicateKeyError) Unwrap() error { return ErrInvalidInput }

// OrderError is returned under --sorted when a key sorts before the key of
// the line above it.
type OrderError struct {
	Key, Prev []byte
	Place     Place
	PrevPlace Place
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("%s: input is not sorted in byte order: key %s sorts before %s at %s (run without --sorted, or sort with LC_ALL=C)",
		e.Place, quoteKey(e.Key), quoteKey(e.Prev), e.PrevPlace)
}

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *OrderError) Unwrap() error { return ErrInvalidInput }

// quoteKey prints a key for an error message, shortened if very long.
func quoteKey(k []byte) string {
	const max = 200
	if len(k) > max {
		return strconv.Quote(string(k[:max])) + "…"
	}
	return strconv.Quote(string(k))
}
