package reader

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/internal/storefmt"
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

// readManifest reads the directory's MANIFEST. With lease it takes
// flock(LOCK_SH) on it first and returns the file, which the Dict keeps
// open: store garbage collection skips a version whose MANIFEST it cannot
// lock exclusively. Failing to get the lease means the version is being
// deleted; Open then starts again from CURRENT.
func (d *dirRef) readManifest(lease bool) (data []byte, lf *os.File, err error) {
	f, err := d.open(manifest.FileName)
	if err != nil {
		return nil, nil, fmt.Errorf("reader: %w", err)
	}
	defer func() {
		if lf == nil {
			f.Close()
		}
	}()
	if lease {
		if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
			return nil, nil, fmt.Errorf("reader: %s: taking the store lease: %w", f.Name(), err)
		}
	}
	data, err = io.ReadAll(io.LimitReader(f, manifest.MaxBodyLen+64))
	if err != nil {
		return nil, nil, fmt.Errorf("reader: %w", err)
	}
	if lease {
		lf = f
	}
	return data, lf, nil
}

// resolve returns the directory holding the dictionary's files: d itself,
// or, when d is a store (it has CURRENT and no MANIFEST), the version
// directory CURRENT names, and that version's name.
func (d *dirRef) resolve() (dir *dirRef, version string, err error) {
	if err := unix.Faccessat(int(d.f.Fd()), manifest.FileName, unix.F_OK, 0); err == nil {
		return d, "", nil
	}
	version, err = d.current()
	if errors.Is(err, os.ErrNotExist) {
		return d, "", nil // neither: openIn reports the missing MANIFEST
	}
	if err != nil {
		return nil, "", err
	}
	if dir, err = d.openSubdir(version); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("reader: store %s: %w: %s names %s, which does not exist", d.path, ErrCorrupt, storefmt.CurrentFile, version)
		}
		return nil, version, err
	}
	return dir, version, nil
}

// current reads and decodes the store's CURRENT file.
func (d *dirRef) current() (string, error) {
	data, err := d.readFile(storefmt.CurrentFile, storefmt.MaxCurrentLen+1)
	if err != nil {
		return "", err
	}
	name, _, err := storefmt.DecodeCurrent(data)
	if err != nil {
		return "", fmt.Errorf("reader: store %s: %w", d.path, err)
	}
	return name, nil
}

// openOnce opens the dictionary path names now: a dictionary directory, or
// a store's current version. On error, moved reports whether path, or the
// store's CURRENT, changed meanwhile, so that the error may come from that
// and not from damage.
func openOnce(path string, o *Options) (d *Dict, moved bool, err error) {
	root, err := openDir(path)
	if err != nil {
		return nil, false, err
	}
	defer root.close()
	dir, version, err := root.resolve()
	if err == nil {
		if dir != root {
			defer dir.close()
		}
		if d, err = openIn(dir, o, version != ""); err == nil {
			d.version = version
			return d, false, nil
		}
	}
	if root.moved() {
		return nil, true, err
	}
	if version != "" {
		now, cerr := root.current()
		return nil, cerr != nil || now != version, err
	}
	return nil, false, err
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

// Version returns the name of the store version the Dict was opened from
// (for example "v000043.kvd") when Open was given a store, and "" when it
// was given a dictionary directory.
func (d *Dict) Version() string { return d.version }

// probe returns the identity of the directory Open would read at path
// now (for a store, its current version's), without opening any file in
// it: Handle.Reload compares it with the open version's.
func probe(path string) (dev, ino uint64, err error) {
	root, err := openDir(path)
	if err != nil {
		return 0, 0, err
	}
	defer root.close()
	dir, _, err := root.resolve()
	if err != nil {
		return 0, 0, err
	}
	if dir != root {
		dir.close()
	}
	return dir.dev, dir.ino, nil
}
