package tmpdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Leftover is a temporary directory found by Sweep.
type Leftover struct {
	Path  string
	Bytes int64 // apparent size of the files in it
}

// Result is what Sweep found in one directory.
type Result struct {
	// Removed lists the directories of dead owners that were removed.
	Removed []Leftover
	// Unproven lists directories that look like leftovers but whose owner
	// cannot be proved dead from here: no owner record (made by a kvdict
	// before owner records, or being created right now), or an owner on
	// another host or in another PID namespace. They are not touched.
	Unproven []Leftover
	// Errors holds failures to remove a dead owner's directory.
	Errors []error
}

// Freed is the total size of the removed directories.
func (r *Result) Freed() int64 {
	var n int64
	for _, l := range r.Removed {
		n += l.Bytes
	}
	return n
}

// Sweep looks at the hidden directories directly inside dir and removes
// those whose owner record proves the owner dead. Directories without a
// record are reported in Unproven when their name matches one of looksLike
// (filepath.Match patterns, e.g. ".*.tmp-*"), and ignored otherwise. A
// missing dir is not an error.
func Sweep(dir string, looksLike ...string) (*Result, error) {
	r := &Result{}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	me := self()
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(filepath.Join(p, OwnerFile))
		var v verdict
		if err != nil {
			if !matchAny(e.Name(), looksLike) {
				continue
			}
			v = unproven
		} else if o, err := parseOwner(data); err != nil {
			v = unproven
		} else {
			v = judge(o, me)
		}
		switch v {
		case dead:
			l := Leftover{Path: p, Bytes: du(p)}
			if err := Remove(p); err != nil {
				r.Errors = append(r.Errors, err)
				continue
			}
			r.Removed = append(r.Removed, l)
		case unproven:
			r.Unproven = append(r.Unproven, Leftover{Path: p, Bytes: du(p)})
		}
	}
	return r, nil
}

func matchAny(name string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}

// du sums the sizes of the regular files under dir.
func du(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
