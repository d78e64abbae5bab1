package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/delta"
	"github.com/kvdict/kvdict/internal/extsort"
	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/reader"
)

// baseMerge is what --base OLD [--delete KEYS]... adds to a build: the
// open base dictionary and the keys to delete from it, entering the merge
// as its oldest sorted input (package delta).
type baseMerge struct {
	path string
	d    *reader.Dict
	del  *delta.Deletes // nil without --delete
	in   *delta.Base
}

// openBase opens --base and reads the --delete lists. Unless given on the
// command line, the duplicate policy (and concat's separator) are the
// base's, as its manifest records them; a policy that would mix kinds of
// values (sum, count or concat on one side only) is refused. It returns
// nil without --base.
func openBase(c *cli.Context, stdin io.Reader, so *builder.SortOptions, stdinUsed bool) (*baseMerge, error) {
	path := c.String("base")
	dels := c.StringSlice("delete")
	if path == "" {
		if len(dels) > 0 {
			return nil, usageErr("--delete needs --base: it names keys to remove from the base dictionary")
		}
		return nil, nil
	}
	if so.Sorted {
		return nil, usageErr("--sorted cannot be used with --base (the merge with the base is the sort's merge)")
	}
	d, err := reader.Open(path, nil)
	if err != nil {
		return nil, &exitError{exitIO, fmt.Errorf("--base: %w", err)}
	}
	m := &baseMerge{path: path, d: d}
	if err := m.policy(c, so); err != nil {
		return nil, errors.Join(err, m.close())
	}
	if len(dels) > 0 {
		if m.del, err = delta.NewDeletes(so.TempDir, 0); err != nil {
			return nil, errors.Join(&exitError{exitIO, err}, m.close())
		}
		for _, name := range dels {
			if name == "-" && stdinUsed {
				return nil, errors.Join(usageErr("- (standard input) given more than once"), m.close())
			}
			if err := readDeleteList(name, stdin, m.del, c.Bool("unescape")); err != nil {
				return nil, errors.Join(err, m.close())
			}
		}
		if err := m.del.Finish(); err != nil {
			return nil, errors.Join(&exitError{exitIO, err}, m.close())
		}
	}
	m.in = delta.NewBase(d, m.del)
	return m, nil
}

// policy settles the merge's duplicate policy against the base's.
func (m *baseMerge) policy(c *cli.Context, so *builder.SortOptions) error {
	build := m.d.Manifest().Build
	name, ok := build["duplicates"]
	if !ok {
		return nil // built before kvbuild recorded it: the flags decide
	}
	var sep []byte
	if s, err := strconv.Unquote(build["separator"]); err == nil {
		sep = []byte(s)
	}
	basePol, err := builder.ParsePolicy(name, sep)
	if err != nil {
		return usageErr("--base %s: its MANIFEST records --duplicates %q, which this kvbuild does not know", m.path, name)
	}
	if !c.IsSet("duplicates") {
		if basePol.String() == "concat" && c.IsSet("separator") {
			basePol = builder.Concat(so.Duplicates.Separator())
		}
		so.Duplicates = basePol
		return nil
	}
	mine := so.Duplicates.String()
	valueKind := func(p string) bool { return p == "sum" || p == "count" || p == "concat" }
	if mine != name && (valueKind(mine) || valueKind(name)) {
		return usageErr("--duplicates %s, but the base %s was built with --duplicates %s: merging would mix kinds of values (omit --duplicates to use the base's)", mine, m.path, name)
	}
	return nil
}

// readDeleteList adds the keys of the list file name to del.
func readDeleteList(name string, stdin io.Reader, del *delta.Deletes, unescape bool) error {
	r, err := extsort.OpenText(extsort.FileInput(name, stdin))
	if err != nil {
		return &exitError{exitIO, fmt.Errorf("--delete: %w", err)}
	}
	defer r.Close()
	if err := delta.ReadDeletes(del, r, name, unescape); err != nil {
		if errors.Is(err, builder.ErrInvalidInput) {
			return &exitError{exitInput, fmt.Errorf("--delete: %w; nothing written", err)}
		}
		return &exitError{exitIO, fmt.Errorf("--delete: %w", err)}
	}
	return nil
}

// add enters the base into the sorter's merge, older than every delta
// record.
func (m *baseMerge) add(s *builder.Sorter) error {
	if m == nil {
		return nil
	}
	return s.AddSorted(m.in, 0)
}

// summary describes the base's part after the build.
func (m *baseMerge) summary() string {
	s := fmt.Sprintf("kvbuild: merged with base %s (%d keys)", m.path, m.d.Len())
	if m.del != nil {
		s += fmt.Sprintf("; %d keys deleted, %d keys to delete were not in the base", m.in.Deleted(), m.in.Missed())
	}
	return s
}

func (m *baseMerge) close() error {
	if m == nil {
		return nil
	}
	var errs []error
	if m.del != nil {
		errs = append(errs, m.del.Close())
	}
	return errors.Join(append(errs, m.d.Close())...)
}

// zstdDict returns the base's zstd dictionary when the update will write
// records of the base's shape (keyed, or values alone) and the base has
// one; nil otherwise (no base, an uncompressed base, a change of shape, or
// an unreadable dictionary), and the update trains its own.
func (m *baseMerge) zstdDict(keyed bool) []byte {
	if m == nil || !m.d.Manifest().Compressed() || m.d.Manifest().Has(manifest.FeatureKeyedRecords) != keyed {
		return nil
	}
	z, err := m.d.ZstdDict()
	if err != nil {
		return nil
	}
	return z
}

// compressionWanted is --compression, or, when it is not given and --base
// is, "zstd" if the base's records are compressed (the update then reuses
// the base's zstd dictionary: see zstdDict).
func compressionWanted(c *cli.Context) string {
	if c.IsSet("compression") || c.String("base") == "" {
		return c.String("compression")
	}
	d, err := reader.Open(c.String("base"), nil)
	if err != nil {
		return c.String("compression") // openBase reports the error
	}
	defer d.Close()
	if d.Manifest().Compressed() {
		return "zstd"
	}
	return c.String("compression")
}

// hashIndexWanted is --hash-index, or, when it is not given and --base is,
// whether the base has a hash index: an update keeps the base's format
// features unless told otherwise.
func hashIndexWanted(c *cli.Context) bool {
	if c.IsSet("hash-index") || c.String("base") == "" {
		return c.Bool("hash-index")
	}
	d, err := reader.Open(c.String("base"), nil)
	if err != nil {
		return c.Bool("hash-index") // openBase reports the error
	}
	defer d.Close()
	return slices.Contains(d.Manifest().OptionalFeatures, manifest.FeatureHashIndex)
}
