package builder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/kvdict/kvdict/internal/tmpdir"
)

// install moves the finished temporary directory tmp to path.
//
// Without force it uses renameat2(RENAME_NOREPLACE) (renamex_np(RENAME_EXCL)
// on macOS), so a dictionary (or
// anything else) that appeared at path while we were building is never
// overwritten. With force it swaps tmp and path atomically
// (RENAME_EXCHANGE, RENAME_SWAP on macOS) and then deletes the old dictionary, now at tmp: a
// reader opening path sees the old dictionary or the new one, never
// neither. On file systems and systems without these flags it falls back to
// rename(2), which for force means a short window where path is absent.
func install(tmp, path string, force bool) error {
	if _, err := os.Lstat(path); err == nil && force {
		if err := checkTarget(path, true); err != nil {
			return err
		}
		err := renameExchange(tmp, path)
		if isUnsupported(err) {
			err = swapFallback(tmp, path)
		}
		if err != nil {
			return fmt.Errorf("builder: replacing %s: %w", path, err)
		}
		if err := syncDir(filepath.Dir(path)); err != nil {
			return err
		}
		// tmp now holds the old dictionary. Readers that have it open
		// keep their mappings; the files go when they close. Claim it
		// first, so that if we are killed while deleting it a later
		// build removes the rest.
		if err := errors.Join(tmpdir.Claim(tmp), tmpdir.Remove(tmp)); err != nil {
			return fmt.Errorf("builder: new dictionary installed, but removing the old one at %s failed: %w", tmp, err)
		}
		return nil
	}
	err := renameNoReplace(tmp, path)
	if isUnsupported(err) {
		if _, serr := os.Lstat(path); serr == nil {
			err = unix.EEXIST
		} else {
			err = os.Rename(tmp, path)
		}
	}
	if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
		return fmt.Errorf("%w: %s appeared during the build", ErrExists, path)
	}
	if err != nil {
		return fmt.Errorf("builder: installing %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func isUnsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.ENOTSUP)
}

// swapFallback replaces path by tmp with two renames, leaving the old
// dictionary at tmp as RENAME_EXCHANGE would.
func swapFallback(tmp, path string) error {
	old := tmp + ".old"
	if err := os.Rename(path, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(err, os.Rename(old, path))
	}
	return os.Rename(old, tmp)
}

func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("builder: %w", err)
	}
	if err := syncClose(f); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	return nil
}

func syncClose(f *os.File) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	if err := syncClose(d); err != nil {
		return fmt.Errorf("builder: syncing directory %s: %w", dir, err)
	}
	return nil
}
