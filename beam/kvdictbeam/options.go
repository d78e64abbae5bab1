package kvdictbeam

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/escape"
)

// Options configure Build. Inputs and Output are required; the zero value
// of every other field is its default.
type Options struct {
	// Inputs are globs of key<TAB>value files, read by Beam's file
	// systems: local paths, gs://, s3:// (each needs its file system
	// package imported; cmd/kvbeam imports local, gcs and s3). Files are
	// ordered by glob, then by name in byte order within a glob: that is
	// the input order the duplicate policies go by (kvbuild's, given the
	// same files in that order). A glob that matches nothing is an error.
	// gzip and zstd files are recognised by their first bytes and read
	// whole by one worker; plain files are split into byte ranges.
	Inputs []string
	// Output is the dictionary directory the join writes, on the file
	// system of the machine that runs the pipeline's last step (a shared
	// file system on a cluster). Not used when NoJoin is set.
	Output string
	// Force replaces an existing dictionary at Output (atomically).
	Force bool
	// Parts is the number of key ranges, so of parts built in parallel.
	// Default 16. Choose it so that one range's rows fit a worker: most
	// runners hold a GroupByKey's values for one key in memory
	// (docs/DESIGN.md).
	Parts int
	// PartsDir is where the workers put the parts: a directory every
	// worker and the join can reach (a shared file system; on one machine
	// any local directory), or a gs:// or s3:// URL (each part is then
	// built on the worker's local disk and uploaded, and the join
	// downloads the parts before linking them). Default Output + ".parts".
	// It must be used by this build only: other attempts' parts are
	// deleted from it at the end, and it is removed after the join.
	PartsDir string
	// NoJoin stops after the parts: PartsDir then holds exactly one part
	// per range, for `kvbuild join -o DICT PARTSDIR` wherever the parts
	// are copied (an object store has no hard links).
	NoJoin bool
	// Duplicates is the duplicate-key policy, as kvbuild's --duplicates:
	// last (default), first, error, sum, count or concat. Every row carries
	// its place in input order, so last, first and concat give kvbuild's
	// answer, not the order rows happened to reach a worker.
	Duplicates string
	// Separator is concat's separator, escaped as kvbuild's --separator
	// (\t \n \r \\); default ",".
	Separator string
	// Unescape decodes \t \n \r \\ in keys and values (kvbuild --unescape).
	Unescape bool
	// BareKeys reads a line without a TAB as a key with an empty value
	// (kvbuild --bare-keys).
	BareKeys bool
	// HashIndex builds a hash index per partition (kvbuild --hash-index).
	HashIndex bool
	// PartMemory is the Sorter's memory budget for one part, in bytes
	// (default 512 MiB). A worker building several ranges at once uses
	// that much for each.
	PartMemory int64
	// TempDir is the local directory a worker spills sorted runs to and,
	// for an object-store PartsDir, builds the part in before the upload.
	// Default os.TempDir().
	TempDir string

	blockSize int64 // tests: initial byte ranges of plain files (default blockSize)
}

// Defaults.
const (
	DefaultParts      = 16
	DefaultPartMemory = 512 << 20
	// maxParts keeps the range number of a row in the 5 digits of a part
	// name (part-RRRRR-…).
	maxParts = 100000
)

// resolved returns o with defaults filled in, or why o cannot be built.
func (o Options) resolved() (Options, error) {
	if len(o.Inputs) == 0 {
		return o, errors.New("kvdictbeam: no input globs")
	}
	for _, g := range o.Inputs {
		if g == "" {
			return o, errors.New("kvdictbeam: an empty input glob")
		}
	}
	if o.Parts == 0 {
		o.Parts = DefaultParts
	}
	if o.Parts < 1 || o.Parts > maxParts {
		return o, fmt.Errorf("kvdictbeam: %d parts (want 1 to %d)", o.Parts, maxParts)
	}
	if !o.NoJoin {
		if o.Output == "" {
			return o, errors.New("kvdictbeam: no output dictionary")
		}
		if isRemote(o.Output) {
			return o, fmt.Errorf("kvdictbeam: output %s: the join writes a local (or shared) directory; for an object store, build the parts with NoJoin and run kvbuild join where they are copied", o.Output)
		}
	}
	if o.PartsDir == "" {
		if o.Output == "" {
			return o, errors.New("kvdictbeam: no parts directory (PartsDir) and no Output to put it beside")
		}
		o.PartsDir = filepath.Clean(o.Output) + ".parts"
	}
	if o.Duplicates == "" {
		o.Duplicates = "last"
	}
	if o.Separator == "" {
		o.Separator = ","
	}
	if _, err := o.policy(); err != nil {
		return o, err
	}
	if o.PartMemory == 0 {
		o.PartMemory = DefaultPartMemory
	}
	if o.PartMemory < 0 {
		return o, errors.New("kvdictbeam: negative PartMemory")
	}
	return o, nil
}

// policy parses Duplicates and Separator.
func (o Options) policy() (builder.Policy, error) {
	sep, ok := escape.Unescape(nil, []byte(o.Separator))
	if !ok {
		return builder.Policy{}, fmt.Errorf("kvdictbeam: separator %q: bad escape (only \\t \\n \\r \\\\)", o.Separator)
	}
	p, err := builder.ParsePolicy(o.Duplicates, sep)
	if err != nil {
		return builder.Policy{}, fmt.Errorf("kvdictbeam: %w", err)
	}
	return p, nil
}

// isRemote reports whether path is a URL (gs://bucket/..., s3://...,
// memfs://...), read and written through Beam's file systems, rather than
// a path of the local (or a mounted, shared) file system.
func isRemote(path string) bool {
	return strings.Contains(path, "://")
}
