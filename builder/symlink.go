package builder

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kvdict/kvdict/internal/manifest"
)

// A symbolic link at the target is the "build a new version, flip the
// link" deployment: DICT -> urls.kvd.20261101T120000Z. With Force, the new
// dictionary is written as a new directory beside the link's current
// target, named after the link plus the UTC build time
// (urls.kvd.20261202T001500Z), and the link is then replaced atomically
// (a new link renamed over it) to point at it, in the same style (relative
// or absolute) as before. The previous target is kept: readers that
// opened it keep working, it is the rollback, and deleting it is the
// deployer's call.

// linkPlan is the replacement of a symbolic link at the target.
type linkPlan struct {
	link    string // the symbolic link to replace
	newPath string // where the new dictionary goes
	newText string // what the replaced link will contain
}

// planLink returns the plan for replacing the symbolic link path, or an
// ErrNotDict error when it does not point at a dictionary.
func planLink(path string, now time.Time) (*linkPlan, error) {
	raw, err := os.Readlink(path)
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	resolved := raw
	if !filepath.IsAbs(raw) {
		resolved = filepath.Join(filepath.Dir(path), raw)
	}
	st, err := os.Stat(resolved)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is a symbolic link to %s, which is not a directory; remove the link or point it at a dictionary", ErrNotDict, path, raw)
	}
	if _, err := os.Stat(filepath.Join(resolved, manifest.FileName)); err != nil {
		return nil, fmt.Errorf("%w: %s is a symbolic link to %s, which has no %s; kvdict replaces a link only when it points at a dictionary", ErrNotDict, path, raw, manifest.FileName)
	}
	base := filepath.Base(path) + "." + now.UTC().Format("20060102T150405Z")
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(filepath.Join(filepath.Dir(resolved), name)); errors.Is(err, os.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return &linkPlan{
		link:    path,
		newPath: filepath.Join(filepath.Dir(resolved), name),
		newText: filepath.Join(filepath.Dir(raw), name),
	}, nil
}

// relink points the link at the new dictionary: a new symbolic link under
// a temporary name, renamed over the old one (rename replaces a link
// atomically, never following it).
func (p *linkPlan) relink() error {
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(p.link), "."+filepath.Base(p.link)+".link-"+hex.EncodeToString(rnd[:]))
	if err := os.Symlink(p.newText, tmp); err != nil {
		return fmt.Errorf("builder: new dictionary written to %s, but making the link failed: %w", p.newPath, err)
	}
	if err := os.Rename(tmp, p.link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("builder: new dictionary written to %s, but replacing the link %s failed: %w", p.newPath, p.link, err)
	}
	return syncDir(filepath.Dir(p.link))
}
