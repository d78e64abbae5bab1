//go:build !linux && !darwin

package builder

import "golang.org/x/sys/unix"

// renameExchange reports that atomic exchange is unsupported here; install
// falls back to two renames.
func renameExchange(from, to string) error { return unix.ENOSYS }

// renameNoReplace reports that no-replace renames are unsupported here;
// install falls back to a check and rename(2).
func renameNoReplace(from, to string) error { return unix.ENOSYS }
