package store

import "errors"

// These errors are returned by Begin, SetCurrent, Versions and GC; test
// for them with errors.Is.
var (
	// ErrBusy is returned when another process (or another call in this
	// one) is publishing to the store, switching its version or
	// collecting garbage: it holds the store's LOCK.
	ErrBusy = errors.New("store: busy: another publisher or gc holds the store lock")
	// ErrNotStore is returned when the directory is not a store: a
	// dictionary directory, or a non-empty directory holding other
	// files. kvdict never writes into, or deletes from, a directory it
	// did not make.
	ErrNotStore = errors.New("store: not a kvdict store")
	// ErrNoVersion is returned by Current for a store nothing has been
	// published to, and by SetCurrent for a version that does not exist.
	ErrNoVersion = errors.New("store: no such version")
)
