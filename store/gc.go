package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kvdict/kvdict/internal/manifest"
)

// gcPrefix starts the name a version is renamed to while GC deletes it, so
// that a half-deleted version never carries a version name.
const gcPrefix = ".gc-"

// GCOptions is the retention rule of GC. A nil *GCOptions means the
// defaults.
type GCOptions struct {
	// Keep is how many of the newest versions (by number) to keep,
	// besides the current version, which is always kept. Default 1: the
	// current version and the newest other one (the rollback target, or
	// a version being published). Negative means 0.
	Keep int
	// MinAge keeps every version superseded less than MinAge ago: a
	// version counts as superseded when the next newer version was
	// created (its MANIFEST's time). Default 0. Set it longer than any
	// reader keeps an old version open when readers run on other
	// machines or on NFS, where leases do not reach.
	MinAge time.Duration
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// GCResult says what GC did.
type GCResult struct {
	// Removed lists the versions removed (with DryRun: that would be).
	Removed []Version
	// InUse lists versions the rule allowed to remove but that a reader
	// on this machine still has open (it holds a lease); a later GC
	// removes them once they are closed.
	InUse []Version
}

// GC removes old versions of the store at dir under the retention rule in
// opts: it never removes the current version, the opts.Keep newest
// others, a version superseded less than opts.MinAge ago, or a version a
// process on this machine has open through the store (leases). Each
// version is renamed out of the version namespace and then deleted, so an
// interrupted GC leaves no half version under a version name (the next GC
// finishes the job). GC holds the store lock: it fails with ErrBusy while
// a publisher is at work.
func GC(dir string, opts *GCOptions) (GCResult, error) {
	o := GCOptions{Keep: 1}
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var res GCResult
	if err := checkStore(dir); err != nil {
		return res, err
	}
	lock, err := lockStore(dir)
	if err != nil {
		return res, err
	}
	defer lock.Close()
	vs, err := Versions(dir)
	if err != nil {
		return res, err
	}
	if _, err := currentName(dir); err != nil {
		return res, fmt.Errorf("store: not collecting %s without a readable CURRENT: %w", dir, err)
	}
	if err := removeLeftovers(dir, o.DryRun); err != nil {
		return res, err
	}
	now := o.Now()
	others := 0
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		if v.Current {
			continue
		}
		if others++; others <= max(o.Keep, 0) {
			continue
		}
		if o.MinAge > 0 && !supersededBefore(vs[i+1:], now.Add(-o.MinAge)) {
			continue
		}
		removed, err := removeVersion(dir, v, o.DryRun)
		if err != nil {
			return res, err
		}
		if removed {
			res.Removed = append(res.Removed, v)
		} else {
			res.InUse = append(res.InUse, v)
		}
	}
	return res, nil
}

// supersededBefore reports whether the version after the one collected
// (newer[0]) was created before t. A newer version whose MANIFEST cannot
// be read gives no time: the older one is kept.
func supersededBefore(newer []Version, t time.Time) bool {
	if len(newer) == 0 || newer[0].Err != nil {
		return false
	}
	return newer[0].Created.Before(t)
}

// removeVersion deletes one version unless a reader holds its lease. It
// takes flock(LOCK_EX|LOCK_NB) on the MANIFEST; readers that opened the
// version through the store hold LOCK_SH on it.
func removeVersion(dir string, v Version, dryRun bool) (removed bool, err error) {
	mf, err := os.Open(filepath.Join(v.Path, manifest.FileName))
	if err == nil {
		defer mf.Close() // drops the lock, after the files are gone
		if err := unix.Flock(int(mf.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			if errors.Is(err, unix.EWOULDBLOCK) {
				return false, nil
			}
			return false, fmt.Errorf("store: locking %s: %w", mf.Name(), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("store: %w", err)
	}
	if dryRun {
		return true, nil
	}
	// The version leaves the version namespace in one rename, then is
	// deleted at leisure. The name is free: removeLeftovers ran first.
	gone := filepath.Join(dir, gcPrefix+v.Name)
	if err := os.Rename(v.Path, gone); err != nil {
		return false, fmt.Errorf("store: removing %s: %w", v.Path, err)
	}
	if err := syncDir(dir); err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	if err := os.RemoveAll(gone); err != nil {
		return false, fmt.Errorf("store: %s is no longer a version, but deleting its files at %s failed: %w", v.Name, gone, err)
	}
	return true, nil
}

// removeLeftovers finishes deletions an interrupted GC left behind.
func removeLeftovers(dir string, dryRun bool) error {
	ms, err := filepath.Glob(filepath.Join(dir, gcPrefix+"*"))
	if err != nil || dryRun {
		return err
	}
	for _, m := range ms {
		if err := os.RemoveAll(m); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}
