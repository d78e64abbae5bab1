// Package storefmt defines the layout of a kvdict store: a directory of
// immutable dictionary versions and the CURRENT file that names the one
// readers open. The reader (which opens a store's current version) and the
// store package (which publishes and removes versions) share it.
//
// # Layout
//
//	STORE/
//	  CURRENT         "v000043.kvd\n": the version readers open
//	  LOCK            empty; a publisher holds flock(LOCK_EX) on it
//	  v000042.kvd/    a dictionary directory, never changed once published
//	  v000043.kvd/
//	  .v000044.kvd.tmp-*/   a version being built (the builder's temp dir)
//
// A version directory is an ordinary dictionary (docs/FORMAT.md) named
// "v" + its number in at least six decimal digits + ".kvd". Numbers
// increase with every publication and are never reused.
//
// # The CURRENT file
//
//	0:n     the current version's directory name, ASCII, matching
//	        v[0-9]{6,19}\.kvd
//	n:n+1   "\n"
//
// Nothing else: no checksum, because the name is validated in full and a
// torn write cannot happen — CURRENT is only ever replaced whole, by
// writing CURRENT.tmp, fsync, rename(2) over CURRENT, fsync of STORE. A
// reader therefore sees the old name or the new one. Worked example:
// version 43 is the 12 bytes
//
//	76 30 30 30 30 34 33 2e 6b 76 64 0a   "v000043.kvd\n"
//
// # Leases
//
// A reader that opens a version through CURRENT holds flock(LOCK_SH) on
// that version's MANIFEST for as long as the version is mapped; garbage
// collection takes LOCK_EX|LOCK_NB on it before deleting a version and
// skips the version when that fails. The kernel drops the lock when the
// process dies, so a crashed reader never pins a version. flock is local
// to one machine: on NFS, rely on the retention rule's minimum age.
package storefmt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kvdict/kvdict/internal/frame"
)

const (
	// CurrentFile names the store's current version.
	CurrentFile = "CURRENT"
	// LockFile is held (flock LOCK_EX) by the one publisher at work.
	LockFile = "LOCK"
	// MaxCurrentLen bounds a CURRENT file: "v" + 19 digits + ".kvd\n".
	MaxCurrentLen = 1 + 19 + 4 + 1

	prefix = "v"
	suffix = ".kvd"
)

// VersionName is the directory name of version n: v000043.kvd.
func VersionName(n uint64) string { return fmt.Sprintf("%s%06d%s", prefix, n, suffix) }

// ParseVersionName returns the number of a version directory name, and
// false for any other name (temporary directories, CURRENT, LOCK, ...).
func ParseVersionName(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	if digits, ok = strings.CutSuffix(digits, suffix); !ok || len(digits) < 6 || len(digits) > 19 {
		return 0, false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// EncodeCurrent returns the bytes of a CURRENT file naming version n.
func EncodeCurrent(n uint64) []byte { return []byte(VersionName(n) + "\n") }

// DecodeCurrent parses a CURRENT file and returns the version directory
// name it holds and its number. Errors wrap frame.ErrCorrupt.
func DecodeCurrent(data []byte) (name string, n uint64, err error) {
	s, ok := strings.CutSuffix(string(data), "\n")
	if !ok || len(data) > MaxCurrentLen {
		return "", 0, fmt.Errorf("%w: %s holds %q, not one version name and a newline", frame.ErrCorrupt, CurrentFile, clip(data))
	}
	if n, ok = ParseVersionName(s); !ok {
		return "", 0, fmt.Errorf("%w: %s holds %q, not a version name like %q", frame.ErrCorrupt, CurrentFile, clip(data), VersionName(1))
	}
	return s, n, nil
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
