package builder

import (
	"errors"
	"fmt"
)

// These errors are returned by a Sorter.
var (
	// ErrInvalidInput is wrapped by every error about the records
	// themselves: *RecordError, *DuplicateKeyError and *OrderError.
	// Callers use errors.Is to tell bad data from I/O problems.
	ErrInvalidInput = errors.New("builder: invalid input")
	// ErrDiskFull is wrapped when a run file cannot be written because
	// the file system is full (ENOSPC).
	ErrDiskFull = errors.New("builder: disk full")
)

// A record's sequence number (Seq) is its place in input order, the order
// the duplicate policy goes by: for Sorter.Add the count of records added
// before it plus one, for SortWriter.Add the number the caller gave. A
// front end maps it back to its own notion of place (kvbuild: FILE:LINE).

// RecordError is a record the policy cannot take: a key longer than
// fst.MaxKeyLen, a value that Sum cannot parse, or a sum that overflows.
type RecordError struct {
	Seq    uint64 // the offending record
	Key    []byte
	Reason string // what is wrong, without the record's place
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("builder: record %d: %s: %v", e.Seq, e.Reason, ErrInvalidInput)
}

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *RecordError) Unwrap() error { return ErrInvalidInput }

// DuplicateKeyError is returned under the Reject policy when a key occurs
// twice. First and Second are the sequence numbers of two of its records,
// First < Second.
type DuplicateKeyError struct {
	Key           []byte
	First, Second uint64
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("builder: duplicate key %s in records %d and %d: %v", quote(e.Key), e.First, e.Second, ErrInvalidInput)
}

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *DuplicateKeyError) Unwrap() error { return ErrInvalidInput }

// OrderError is returned under SortOptions.Sorted when a record's key
// sorts before the key of the record added before it.
type OrderError struct {
	Key, Prev    []byte
	Seq, PrevSeq uint64
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("builder: record %d: key %s sorts before %s of record %d (SortOptions.Sorted): %v", e.Seq, quote(e.Key), quote(e.Prev), e.PrevSeq, ErrInvalidInput)
}

// Unwrap makes errors.Is(err, ErrInvalidInput) true.
func (e *OrderError) Unwrap() error { return ErrInvalidInput }
