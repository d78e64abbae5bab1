package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/internal/storefmt"
	"github.com/kvdict/kvdict/reader"
)

// Version describes one version of a store.
type Version struct {
	// Name is the version's directory name, e.g. "v000043.kvd".
	Name string
	// Number is the version number; numbers only grow.
	Number uint64
	// Path is the version directory: Dir joined with Name. It is a
	// dictionary that reader.Open can open directly.
	Path string
	// Current reports whether CURRENT names this version.
	Current bool
	// Created is when the version was committed, from its MANIFEST.
	Created time.Time
	// Keys is the number of keys, from its MANIFEST.
	Keys uint64
	// Err is set when the version's MANIFEST cannot be read (a
	// half-removed or damaged version); Created and Keys are then zero.
	Err error
}

// Pending is a version being written. Write keys through the embedded
// *builder.Builder (Add, or NewPartition for parallel partitions), then
// call Publish; do not call Commit directly, which writes the version
// without making it current.
type Pending struct {
	*builder.Builder
	dir  string
	num  uint64
	lock *os.File
	done bool
}

// Begin starts the next version of the store at dir. It creates dir (but
// not its parent) when absent; dir may also be an empty directory or an
// existing store. opts configure the builder as for builder.Create, except
// that Force is ignored (a version is never replaced); the manifest's
// build record gains "store.version" and "store.parent". Begin holds the
// store's lock until Publish or Abort: a second publisher gets ErrBusy.
func Begin(dir string, opts *builder.Options) (*Pending, error) {
	dir = filepath.Clean(dir)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := checkStore(dir); err != nil {
		return nil, err
	}
	lock, err := lockStore(dir)
	if err != nil {
		return nil, err
	}
	vs, err := Versions(dir)
	if err != nil {
		return nil, errors.Join(err, lock.Close())
	}
	var o builder.Options
	if opts != nil {
		o = *opts
	}
	o.Force = false
	num := uint64(1)
	o.Build = map[string]string{}
	for k, v := range optsBuild(opts) {
		o.Build[k] = v
	}
	if len(vs) > 0 {
		num = vs[len(vs)-1].Number + 1
	}
	if cur, err := currentName(dir); err == nil {
		o.Build["store.parent"] = cur
		if n, ok := storefmt.ParseVersionName(cur); ok && n >= num {
			num = n + 1 // CURRENT names a version whose directory is gone
		}
	}
	o.Build["store.version"] = strconv.FormatUint(num, 10)
	b, err := builder.Create(filepath.Join(dir, storefmt.VersionName(num)), &o)
	if err != nil {
		return nil, errors.Join(err, lock.Close())
	}
	return &Pending{Builder: b, dir: dir, num: num, lock: lock}, nil
}

func optsBuild(opts *builder.Options) map[string]string {
	if opts == nil {
		return nil
	}
	return opts.Build
}

// Name returns the directory name the pending version will have.
func (p *Pending) Name() string { return storefmt.VersionName(p.num) }

// Publish commits the version (builder Commit: synced and renamed into
// the store) and then makes it current by replacing CURRENT. It releases
// the store lock. If Publish fails after the commit, the version is
// present but not current: SetCurrent can publish it later, and GC
// removes it like any other old version.
func (p *Pending) Publish() (Version, error) {
	if p.done {
		return Version{}, builder.ErrDone
	}
	p.done = true
	defer p.lock.Close()
	m, err := p.Builder.Commit()
	if err != nil {
		return Version{}, err
	}
	if err := writeCurrent(p.dir, p.num); err != nil {
		return Version{}, fmt.Errorf("store: %s was written but is not current: %w", p.Name(), err)
	}
	return Version{Name: p.Name(), Number: p.num, Path: filepath.Join(p.dir, p.Name()), Current: true, Created: m.Created, Keys: m.Keys}, nil
}

// Abort discards the pending version and releases the store lock. It is
// safe to call more than once and after Publish (then it does nothing), so
// `defer p.Abort()` is the idiom.
func (p *Pending) Abort() error {
	if p.done {
		return nil
	}
	p.done = true
	return errors.Join(p.Builder.Abort(), p.lock.Close())
}

// SetCurrent makes version number n of the store current, for example to
// roll back to an older version. The version is opened and checked
// (reader.Open, O(1)) first, so CURRENT never names a broken version.
func SetCurrent(dir string, n uint64) error {
	if err := checkStore(dir); err != nil {
		return err
	}
	lock, err := lockStore(dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	path := filepath.Join(dir, storefmt.VersionName(n))
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrNoVersion, path)
	}
	d, err := reader.Open(path, nil)
	if err != nil {
		return fmt.Errorf("store: not switching to %s: %w", path, err)
	}
	if err := d.Close(); err != nil {
		return err
	}
	return writeCurrent(dir, n)
}

// Current returns the store's current version.
func Current(dir string) (Version, error) {
	vs, err := Versions(dir)
	if err != nil {
		return Version{}, err
	}
	for _, v := range vs {
		if v.Current {
			return v, nil
		}
	}
	if _, err := currentName(dir); err == nil {
		return Version{}, fmt.Errorf("store: %s: %w: %s names a version that does not exist", dir, reader.ErrCorrupt, storefmt.CurrentFile)
	}
	return Version{}, fmt.Errorf("%w: nothing has been published to %s", ErrNoVersion, dir)
}

// Versions lists the store's versions in increasing number order. It
// reads each version's MANIFEST (a few KB each).
func Versions(dir string) ([]Version, error) {
	if err := checkStore(dir); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	cur, err := currentName(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var vs []Version
	for _, e := range ents {
		n, ok := storefmt.ParseVersionName(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		v := Version{Name: e.Name(), Number: n, Path: filepath.Join(dir, e.Name()), Current: e.Name() == cur}
		if m, err := readManifest(v.Path); err != nil {
			v.Err = err
		} else {
			v.Created, v.Keys = m.Created, m.Keys
		}
		vs = append(vs, v)
	}
	slices.SortFunc(vs, func(a, b Version) int { return cmpUint(a.Number, b.Number) })
	return vs, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func readManifest(dir string) (*manifest.Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	m, err := manifest.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", filepath.Join(dir, manifest.FileName), err)
	}
	return m, nil
}

// currentName reads CURRENT; a missing CURRENT is fs.ErrNotExist.
func currentName(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, storefmt.CurrentFile))
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	name, _, err := storefmt.DecodeCurrent(data)
	if err != nil {
		return "", fmt.Errorf("store: %s: %w", dir, err)
	}
	return name, nil
}

// checkStore fails with ErrNotStore unless dir holds only what a store
// holds (an empty directory is an empty store).
func checkStore(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if name == manifest.FileName {
			return fmt.Errorf("%w: %s is a dictionary directory; publish into a new, empty store directory", ErrNotStore, dir)
		}
		if _, ok := storefmt.ParseVersionName(name); ok || isStoreFile(name) {
			continue
		}
		return fmt.Errorf("%w: %s holds %q, which a store does not", ErrNotStore, dir, name)
	}
	return nil
}

// isStoreFile reports whether name is one of a store's own files besides
// its version directories: CURRENT, LOCK, CURRENT's temporary file, a
// builder's temporary version directory, or a version being removed.
func isStoreFile(name string) bool {
	switch name {
	case storefmt.CurrentFile, storefmt.LockFile, storefmt.CurrentFile + ".tmp":
		return true
	}
	return strings.HasPrefix(name, ".v") || strings.HasPrefix(name, gcPrefix)
}

// lockStore takes the store's exclusive lock, or fails with ErrBusy.
func lockStore(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, storefmt.LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrBusy, f.Name())
		}
		return nil, fmt.Errorf("store: locking %s: %w", f.Name(), err)
	}
	return f, nil
}

// writeCurrent makes version n current: CURRENT.tmp, fsync, rename over
// CURRENT, fsync the store directory.
func writeCurrent(dir string, n uint64) error {
	tmp := filepath.Join(dir, storefmt.CurrentFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	_, err = f.Write(storefmt.EncodeCurrent(n))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, storefmt.CurrentFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("store: switching %s to %s: %w", dir, storefmt.VersionName(n), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
