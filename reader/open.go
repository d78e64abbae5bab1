package reader

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// maxOpenAttempts bounds how often Open starts again when the dictionary
// was replaced while it was opening. A replacement takes one rename, and
// an Open well under a millisecond, so more than two attempts only happen
// under a loop that replaces the dictionary back to back.
const maxOpenAttempts = 10

// dirRef is a dictionary directory held open by descriptor. Open reads
// the MANIFEST and maps every data file relative to it (openat), so all
// the files of one Open come from one directory — one version of the
// dictionary — even if kvbuild --force swaps a new one into place
// meanwhile. Before this, Open joined path and file names, and about 0.3%
// of Opens racing a --force swap mixed two versions and failed with a
// false ErrCorrupt (docs/research, scaleout.md B.3).
type dirRef struct {
	path     string   // as the caller named it, for messages and re-checks
	f        *os.File // opened with O_DIRECTORY
	dev, ino uint64   // identity of the directory f refers to
}

// openDir opens path, which must be a directory.
func openDir(path string) (*dirRef, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOTDIR) {
		return nil, fmt.Errorf("reader: %s: %w: a dictionary is a directory (made by kvbuild), this is a file", path, ErrMagic)
	}
	if err != nil {
		return nil, fmt.Errorf("reader: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	return newDirRef(path, fd)
}

// openSubdir opens the directory name inside d.
func (d *dirRef) openSubdir(name string) (*dirRef, error) {
	fd, err := unix.Openat(int(d.f.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reader: %w", &os.PathError{Op: "open", Path: d.join(name), Err: err})
	}
	return newDirRef(d.join(name), fd)
}

func newDirRef(path string, fd int) (*dirRef, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reader: %w", &os.PathError{Op: "stat", Path: path, Err: err})
	}
	return &dirRef{path: path, f: os.NewFile(uintptr(fd), path), dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

// join names a file in the directory, for messages.
func (d *dirRef) join(name string) string { return filepath.Join(d.path, name) }

// open opens the file name inside the directory, read-only. Errors are
// *os.PathError naming the joined path, so errors.Is(err,
// fs.ErrNotExist) works as with os.Open.
func (d *dirRef) open(name string) (*os.File, error) {
	fd, err := unix.Openat(int(d.f.Fd()), name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.join(name), Err: err}
	}
	return os.NewFile(uintptr(fd), d.join(name)), nil
}

// readFile reads the whole file name inside the directory, at most limit
// bytes (a longer file is read only that far: the caller's decoder then
// reports it as the wrong size).
func (d *dirRef) readFile(name string, limit int64) ([]byte, error) {
	f, err := d.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// moved reports whether d.path no longer names the directory d holds
// open: it was replaced (or removed) after openDir.
func (d *dirRef) moved() bool {
	var st unix.Stat_t
	if err := unix.Stat(d.path, &st); err != nil {
		return true
	}
	return uint64(st.Dev) != d.dev || uint64(st.Ino) != d.ino
}

func (d *dirRef) close() error { return d.f.Close() }
