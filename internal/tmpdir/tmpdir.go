package tmpdir

import (
	"errors"
	"os"
	"path/filepath"
)

// Create makes a new directory in parent, named pattern with a random
// string replacing its last "*" (as os.MkdirTemp), mode 0700, holding an
// owner record for this process. The record is written under a temporary
// name and renamed, so a sweeper never sees half of it.
func Create(parent, pattern string) (string, error) {
	dir, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return "", err
	}
	if err := writeOwner(dir, false); err != nil {
		return "", errors.Join(err, os.RemoveAll(dir))
	}
	return dir, nil
}

// writeOwner records this process as dir's owner (replacing any record).
func writeOwner(dir string, keep bool) error {
	me := self()
	if me == nil {
		me = &owner{pid: os.Getpid(), boot: "unknown", host: "unknown"}
	}
	o := *me
	o.kept = keep
	tmp := filepath.Join(dir, OwnerFile+".new")
	if err := os.WriteFile(tmp, o.encode(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, OwnerFile))
}

// Claim records this process as the owner of dir, an existing directory
// it is about to delete (for example the previous dictionary, swapped out
// by a --force build), so that if it is killed midway the rest is swept.
func Claim(dir string) error { return writeOwner(dir, false) }

// Keep marks dir as kept on purpose (--keep-tmp): Sweep never removes it.
func Keep(dir string) error { return writeOwner(dir, true) }

// Disown removes dir's owner record: dir is about to become a dictionary.
func Disown(dir string) error {
	err := os.Remove(filepath.Join(dir, OwnerFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Remove deletes dir and everything in it, the owner record last: if the
// process dies midway, what is left is still claimed and will be swept.
func Remove(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var errs []error
	for _, e := range ents {
		if e.Name() != OwnerFile {
			errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}
