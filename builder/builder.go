package builder

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/internal/tmpdir"
	"github.com/kvdict/kvdict/valuelog"
)

// These errors are returned by Create and Commit.
var (
	// ErrExists is returned when the target already exists and
	// Options.Force is not set.
	ErrExists = errors.New("builder: target already exists")
	// ErrNotDict is returned when Options.Force asks to replace something
	// that is not a kvdict dictionary (a plain file, or a directory
	// without a MANIFEST that is not empty). kvdict never deletes data it
	// did not write.
	ErrNotDict = errors.New("builder: target exists and is not a kvdict dictionary")
	// ErrOverlap is returned by Commit when partitions are not disjoint
	// and in increasing key order.
	ErrOverlap = errors.New("builder: partitions overlap or are out of order")
	// ErrDone is returned by calls made after Commit or Abort.
	ErrDone = errors.New("builder: already committed or aborted")
)

// Options configure a Builder. A nil *Options means the defaults.
type Options struct {
	// Force replaces an existing dictionary at the target path,
	// atomically. Without it, Create fails with ErrExists. If the target
	// is a symbolic link to a dictionary, the link is replaced instead:
	// the new dictionary goes beside the link's target, named after the
	// link plus the UTC build time (NAME.20261202T001500Z; Builder.Path
	// says where), and the link is flipped to it atomically; the previous
	// dictionary is kept (see symlink.go).
	Force bool
	// FST configures the FST builders (registry size); nil means fst's
	// defaults.
	FST *fst.BuilderOptions
	// Log configures the value-log writers (deduplication cache); nil
	// means valuelog's defaults.
	Log *valuelog.WriterOptions
	// KeyedRecords stores every key in its value-log record (value log
	// version 2, manifest feature "keyed-records"): scans then read keys
	// and values sequentially. Implied by HashIndex.
	KeyedRecords bool
	// HashIndex, when non-nil, builds a hash index per partition (manifest
	// feature "hash-index", files part-NNNNN.hix) so that Get costs about
	// two cache misses instead of an FST walk. Its Seed 0 means a random
	// seed chosen once for the dictionary; its TmpDir "" means the
	// dictionary's temporary directory; its MemoryBytes bounds each
	// partition's index build (0 = hashindex.DefaultMemoryBytes).
	HashIndex *hashindex.WriterOptions
	// FSTTop, when non-nil, writes a top file per partition (manifest
	// feature "fst-top", optional; files part-NNNNN.top): a compact copy
	// of the FST's upper states, about 1 byte per key, that FST lookups
	// start in (package fst, top.go). It is built from the finished FST
	// in the goroutine that wrote the partition, reading the FST through
	// a mapping (page cache, not heap); its memory is the top file. nil:
	// none (kvbuild's --fst-top decides its default).
	FSTTop *fst.TopOptions
	// Compression, when non-nil, compresses every value log (value log
	// codec 1) in zstd groups, with Compression.Dict (zrec.Trainer) as the
	// dictionary: the distinct values alone (manifest feature
	// "zstd-values"; FST outputs become group offset << 4 | index), or,
	// with KeyedRecords or HashIndex, the keyed records (feature
	// "zstd-records"; a hash index then addresses groups, address shift
	// 4, and Get decodes the candidate group to compare the key).
	Compression *valuelog.Compression
	// CompressionDict, when Compression is set without a Dict, is called
	// once, when the first partition is created, for the dictionary (nil:
	// none). It lets a caller train while the input is still being sorted
	// (kvbuild samples its input files) and hand the result over late.
	CompressionDict func() ([]byte, error)
	// Tool names the program writing the dictionary, recorded in the
	// manifest (for example "kvbuild v0.1.0").
	Tool string
	// Build records build options in the manifest, shown by
	// `kvlookup info`.
	Build map[string]string
	// Now returns the creation time recorded in the manifest; nil means
	// time.Now. Tests set it for reproducible bytes.
	Now func() time.Time
}

// Builder writes one dictionary. NewPartition, Commit and Abort are safe
// for concurrent use; Add (which writes the single default partition) and
// each Partition are used by one goroutine at a time.
type Builder struct {
	path string // target
	tmp  string // temporary directory beside the target
	opts Options
	link *linkPlan // the symbolic link to flip to path, if the target is one

	mu    sync.Mutex
	parts []*Partition
	def   *Partition // the partition Add writes to
	done  bool

	joined *joinMeta // set by Join: features and build info from the parts
}

// Create starts a dictionary that Commit will place at path. The parent
// directory must exist. Nothing appears at path before Commit.
func Create(path string, opts *Options) (*Builder, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HashIndex != nil {
		h := *o.HashIndex
		for h.Seed == 0 {
			h.Seed = rand.Uint64()
		}
		// Over compressed keyed records an entry names the record's
		// group (its address >> 4), and Get looks in the decoded group.
		h.AddrShift = 0
		if o.Compression != nil {
			h.AddrShift = hashindex.GroupShift
		}
		o.HashIndex = &h
		o.KeyedRecords = true
	}
	path = filepath.Clean(path)
	var link *linkPlan
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSymlink != 0 && o.Force {
		if link, err = planLink(path, o.Now()); err != nil {
			return nil, err
		}
		path = link.newPath
	}
	if err := checkTarget(path, o.Force); err != nil {
		return nil, err
	}
	// The owner record inside lets a later build remove this directory if
	// this process is killed (RemoveLeftovers).
	tmp, err := tmpdir.Create(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	// MkdirTemp makes the directory 0700; a dictionary is read by worker
	// processes that may run as other users. The files inside are created
	// 0644 less the umask, so a private umask still keeps them private.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, errors.Join(fmt.Errorf("builder: %w", err), tmpdir.Remove(tmp))
	}
	if o.HashIndex != nil && o.HashIndex.TmpDir == "" {
		o.HashIndex.TmpDir = tmp
	}
	return &Builder{path: path, tmp: tmp, opts: o, link: link}, nil
}

// Path reports the directory Commit writes the dictionary to: the target
// given to Create, or, when that is a symbolic link replaced under Force,
// the new directory the link will point at.
func (b *Builder) Path() string { return b.path }

// checkTarget fails unless path is absent, or force is set and path holds
// something we may replace: a dictionary or an empty directory.
func checkTarget(path string, force bool) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	if !force {
		return fmt.Errorf("%w: %s (Options.Force replaces it)", ErrExists, path)
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrNotDict, path)
	}
	if _, err := os.Stat(filepath.Join(path, manifest.FileName)); err == nil {
		return nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("%w: %s has no %s and is not empty", ErrNotDict, path, manifest.FileName)
	}
	return nil
}

// NewPartition starts the next partition. Its keys must all be greater
// than those of every partition created before it.
func (b *Builder) NewPartition() (*Partition, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil, ErrDone
	}
	if c := b.opts.Compression; c != nil && c.Dict == nil && b.opts.CompressionDict != nil {
		d, err := b.opts.CompressionDict()
		if err != nil {
			return nil, fmt.Errorf("builder: compression dictionary: %w", err)
		}
		cc := *c
		cc.Dict = d
		b.opts.Compression = &cc
		b.opts.CompressionDict = nil // asked once
	}
	p, err := newPartition(b.tmp, len(b.parts), &b.opts)
	if err != nil {
		return nil, err
	}
	b.parts = append(b.parts, p)
	return p, nil
}

// Add writes a key and its value to the builder's single default
// partition. Keys must be strictly increasing. Do not mix Add with
// NewPartition.
func (b *Builder) Add(key, value []byte) error {
	if b.def == nil {
		p, err := b.NewPartition()
		if err != nil {
			return err
		}
		b.def = p
	}
	return b.def.Add(key, value)
}

// Commit closes every partition, checks that partitions are disjoint and
// ordered, writes the manifest, syncs everything to disk and renames the
// dictionary into place. After Commit the Builder can only be Aborted (a
// no-op). On error the temporary directory is removed and the target is
// untouched.
func (b *Builder) Commit() (m *manifest.Manifest, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil, ErrDone
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.abortLocked())
		}
	}()
	var closeErrs []error
	for _, p := range b.parts {
		closeErrs = append(closeErrs, p.Close())
	}
	if err := errors.Join(closeErrs...); err != nil {
		return nil, err
	}
	m = &manifest.Manifest{
		FormatVersion: manifest.FormatVersion,
		Tool:          b.opts.Tool,
		Created:       b.opts.Now().UTC().Truncate(time.Second),
		Build:         b.buildInfo(),
		Partitions:    []manifest.Partition{},
	}
	if b.opts.KeyedRecords {
		m.Features = append(m.Features, manifest.FeatureKeyedRecords)
	}
	if b.opts.Compression != nil {
		if b.opts.KeyedRecords {
			m.Features = append(m.Features, manifest.FeatureZstdRecords)
		} else {
			m.Features = append(m.Features, manifest.FeatureZstdValues)
		}
	}
	if b.opts.HashIndex != nil {
		m.OptionalFeatures = append(m.OptionalFeatures, manifest.FeatureHashIndex)
	}
	if b.opts.FSTTop != nil {
		m.OptionalFeatures = append(m.OptionalFeatures, manifest.FeatureFSTTop)
	}
	if j := b.joined; j != nil {
		m.Features, m.OptionalFeatures, m.Build = j.features, j.optional, j.build
	}
	for _, p := range b.parts {
		if p.info.Keys == 0 {
			if err := p.remove(); err != nil {
				return nil, err
			}
			continue
		}
		if n := len(m.Partitions); n > 0 && bytes.Compare(m.Partitions[n-1].LastKey, p.info.FirstKey) >= 0 {
			return nil, fmt.Errorf("%w: partition %d ends with %s, partition %d starts with %s", ErrOverlap, n-1, quote(m.Partitions[n-1].LastKey), p.index, quote(p.info.FirstKey))
		}
		m.Partitions = append(m.Partitions, p.info)
		m.Keys += p.info.Keys
		m.Values += p.info.Log.Count
		m.MaxKeyLen = max(m.MaxKeyLen, p.maxKeyLen)
	}
	data, err := manifest.Encode(m)
	if err != nil {
		return nil, err
	}
	if err := tmpdir.Disown(b.tmp); err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	if err := writeFileSync(filepath.Join(b.tmp, manifest.FileName), data); err != nil {
		return nil, err
	}
	if err := syncDir(b.tmp); err != nil {
		return nil, err
	}
	if err := install(b.tmp, b.path, b.opts.Force && b.link == nil); err != nil {
		return nil, err
	}
	if b.link != nil {
		b.done = true // the dictionary is installed: nothing to abort
		if err := b.link.relink(); err != nil {
			return nil, err
		}
	}
	b.done = true
	return m, nil
}

// buildInfo is the manifest's record of how the dictionary was built: the
// caller's entries plus the effective FST and value-log options.
func (b *Builder) buildInfo() map[string]string {
	info := make(map[string]string, len(b.opts.Build)+3)
	for k, v := range b.opts.Build {
		info[k] = v
	}
	reg, mru := fst.DefaultRegistryTableSize, fst.DefaultRegistryMRUSize
	if o := b.opts.FST; o != nil {
		reg = cmp.Or(o.RegistryTableSize, reg)
		mru = cmp.Or(o.RegistryMRUSize, mru)
	}
	info["fst.registry_table_size"] = strconv.Itoa(reg)
	if reg < 0 {
		info["fst.registry_table_size"] = "off"
	}
	info["fst.registry_mru_size"] = strconv.Itoa(mru)
	dedup := valuelog.DefaultDedupBytes
	if o := b.opts.Log; o != nil {
		dedup = cmp.Or(o.DedupBytes, dedup)
	}
	info["vlog.dedup_bytes"] = strconv.Itoa(max(dedup, 0))
	// Recorded only when on, so that a version 1 build's manifest keeps its
	// exact bytes (reader TestGolden).
	if b.opts.KeyedRecords {
		info["vlog.keyed_records"] = "true"
	}
	if b.opts.Compression != nil {
		// What kvlookup info shows as the codec and the ratio achieved:
		// record bytes before compression over value log bytes.
		var raw, stored uint64
		for _, p := range b.parts {
			raw += p.payloadBytes
			stored += p.info.Log.Size
		}
		info["vlog.compression"] = "zstd"
		info["vlog.compression_ratio"] = strconv.FormatFloat(float64(raw)/float64(max(stored, 1)), 'f', 2, 64)
	}
	if t := b.opts.FSTTop; t != nil {
		info["fst_top"] = "true"
		info["fst_top.limit"] = strconv.Itoa(topLimit(t))
	}
	if h := b.opts.HashIndex; h != nil {
		info["hash_index"] = "true"
		info["hash_index.seed"] = fmt.Sprintf("%#016x", h.Seed)
		info["hash_index.load_factor"] = strconv.FormatFloat(hashindex.LoadFactor, 'f', -1, 64)
	}
	return info
}

// Abort discards everything written and removes the temporary directory.
// It is safe to call more than once and after Commit (then it does
// nothing), so `defer b.Abort()` is the idiom.
func (b *Builder) Abort() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return nil
	}
	return b.abortLocked()
}

func (b *Builder) abortLocked() error {
	b.done = true
	var errs []error
	for _, p := range b.parts {
		errs = append(errs, p.abort())
	}
	if err := tmpdir.Remove(b.tmp); err != nil {
		errs = append(errs, fmt.Errorf("builder: removing %s: %w", b.tmp, err))
	}
	return errors.Join(errs...)
}

// PartitionNames lists the data file names a partition index uses, so
// tools can recognise them.
func PartitionNames(index int) (fstName, logName string) {
	return fmt.Sprintf("part-%05d.fst", index), fmt.Sprintf("part-%05d.vlog", index)
}

// TopName is the name of partition index's FST top file.
func TopName(index int) string { return fmt.Sprintf("part-%05d.top", index) }

// topLimit is the subtree span t copies states above.
func topLimit(t *fst.TopOptions) int {
	if t.Limit == 0 {
		return fst.DefaultTopLimit
	}
	return max(t.Limit, -1)
}

// HashIndexName is the name of partition index's hash index file.
func HashIndexName(index int) string { return fmt.Sprintf("part-%05d.hix", index) }

// quote formats a key for an error message, shortening long keys.
func quote(k []byte) string {
	const max = 64
	if len(k) > max {
		return fmt.Sprintf("%q... (%d bytes)", k[:max], len(k))
	}
	return fmt.Sprintf("%q", k)
}
