package builder

import "golang.org/x/sys/unix"

// renameExchange swaps from and to atomically (both must exist).
func renameExchange(from, to string) error {
	return unix.RenamexNp(from, to, unix.RENAME_SWAP)
}

// renameNoReplace renames from to to, failing with EEXIST if to exists.
func renameNoReplace(from, to string) error {
	return unix.RenamexNp(from, to, unix.RENAME_EXCL)
}
