package kvdictbeam

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/kvdict/kvdict/builder"
)

// finishFn is the pipeline's last step, run once: it takes the winning
// part of every range (the descriptions that reached it), builds an empty
// part for a range that received no row, deletes the parts of other
// attempts from PartsDir, and joins the parts into Output (downloading
// them first when PartsDir is a URL).
type finishFn struct {
	O Options // resolved
}

func (f *finishFn) ProcessElement(ctx context.Context, _ []byte, infos func(*string) bool, splits func(*Splits) bool) error {
	o := f.O
	var sp Splits
	splits(&sp) // no element: no rows, so no split keys and one range
	parts := make([]*builder.PartInfo, len(sp.Keys)+1)
	var js string
	for infos(&js) {
		p, err := builder.DecodePart([]byte(js))
		if err != nil {
			return err
		}
		id := builder.RangeOf(sp.Keys, p.Range.Lo)
		if parts[id] != nil {
			return fmt.Errorf("kvdictbeam: two parts for range %d: %s and %s", id, parts[id].Name, p.Name)
		}
		parts[id] = p
	}
	for id := range parts {
		if parts[id] == nil {
			p, err := o.buildPart(ctx, sp, id, func(*builder.SortWriter) error { return nil })
			if err != nil {
				return err
			}
			parts[id] = p
		}
	}
	if err := removeOtherAttempts(ctx, o.PartsDir, parts); err != nil {
		return err
	}
	if o.NoJoin {
		return nil
	}
	local := o.PartsDir
	if isRemote(o.PartsDir) {
		var err error
		if local, err = os.MkdirTemp(filepath.Dir(filepath.Clean(o.Output)), "."+filepath.Base(o.Output)+".kvbeam-"); err != nil {
			return err
		}
		defer os.RemoveAll(local)
		fs, err := filesystem.New(ctx, o.PartsDir)
		if err != nil {
			return err
		}
		defer fs.Close()
		for _, p := range parts {
			if err := download(ctx, fs, p, o.PartsDir, local); err != nil {
				return err
			}
		}
	}
	for _, p := range parts {
		p.Dir = local
	}
	if _, err := builder.Join(o.Output, parts, &builder.JoinOptions{Force: o.Force, Move: true, Tool: "kvbeam", Context: ctx}); err != nil {
		return err
	}
	if isRemote(o.PartsDir) {
		// Joined: the uploaded parts are no longer needed.
		return removeOtherAttempts(ctx, o.PartsDir, nil)
	}
	if err := os.Remove(o.PartsDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("kvdictbeam: %s joined, but its parts directory %s is not empty: %w", o.Output, o.PartsDir, err)
	}
	return nil
}

// attemptFile matches the files of a part (part-RRRRR-<16 hex>-NNNNN.fst,
// .vlog, .hix and part-RRRRR-<16 hex>.part.json) and the scratch
// directory of one being built (.part-RRRRR-<16 hex>.build), capturing
// the part's name.
var attemptFile = regexp.MustCompile(`^\.?(part-[0-9]{5}-[0-9a-f]{16})(-[0-9]{5}\.(fst|vlog|hix)|\.part\.json|\.build)$`)

// removeOtherAttempts deletes from dir the files of every part not in
// keep (retried, speculative or failed attempts), and nothing else.
func removeOtherAttempts(ctx context.Context, dir string, keep []*builder.PartInfo) error {
	kept := map[string]bool{}
	for _, p := range keep {
		kept[p.Name] = true
	}
	if !isRemote(dir) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		var errs []error
		for _, e := range ents {
			if m := attemptFile.FindStringSubmatch(e.Name()); m != nil && !kept[m[1]] {
				errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
			}
		}
		return errors.Join(errs...)
	}
	fs, err := filesystem.New(ctx, dir)
	if err != nil {
		return err
	}
	defer fs.Close()
	names, err := fs.List(ctx, urlJoin(dir, "part-*"))
	if err != nil {
		return err
	}
	rm, ok := fs.(filesystem.Remover)
	var errs []error
	for _, n := range names {
		m := attemptFile.FindStringSubmatch(n[len(n)-len(filepath.Base(n)):])
		if m == nil || kept[m[1]] {
			continue
		}
		if !ok {
			return fmt.Errorf("kvdictbeam: %s: cannot delete %s (the file system has no delete): remove the parts not joined by hand", dir, n)
		}
		errs = append(errs, rm.Remove(ctx, n))
	}
	return errors.Join(errs...)
}
