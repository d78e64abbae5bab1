package reader

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/internal/mmapfile"
	"github.com/kvdict/kvdict/valuelog"
)

// Manifest describes a dictionary: format version, counts, partitions with
// their files' sizes and checksums, and the build options. It is decoded
// from the dictionary's MANIFEST file; see docs/FORMAT.md.
type Manifest = manifest.Manifest

// Dict is an open dictionary. It is safe for concurrent use by multiple
// goroutines, except Close.
type Dict struct {
	path   string
	man    *Manifest
	parts  []part
	closed atomic.Bool

	version  string   // store version name ("" for a plain dictionary); see open.go
	dev, ino uint64   // identity of the directory the files came from
	lease    *os.File // MANIFEST under flock(LOCK_SH) when opened through a store
}

// part is one open partition: its key range, FST and value log.
type part struct {
	first, last []byte
	fst         *fst.FST
	log         *valuelog.Log
	fstFile     *mmapfile.File
	logFile     *mmapfile.File
	fstName     string
	logName     string
	// values is what the FST's outputs are offsets into, for Get to
	// prefetch (fst.FST.GetPrefetch): the value log's mapping, or nil when
	// the log is compressed (outputs are then group addresses).
	values []byte
	// hix is the partition's hash index, nil when the dictionary has none
	// (Get then walks the FST).
	hix     *hashindex.Index
	hixFile *mmapfile.File
	hixName string
	// top is the partition's FST top file (manifest feature fst-top),
	// already attached to fst (fst.FST.SetTop); nil without one.
	top     *fst.Top
	topFile *mmapfile.File
	topName string
}

// Open opens the dictionary directory at path. opts may be nil. Open reads
// the MANIFEST, maps every data file and checks each file's header, footer,
// size and checksum field against the manifest: O(1) in the dictionary's
// size unless opts.Verify is set. Errors wrap ErrCorrupt, ErrMagic or
// ErrVersion when the files are damaged, not a dictionary, or too new.
//
// Open sees exactly one version of the dictionary: it opens the directory
// once and every file relative to it, and if the directory is replaced
// (kvbuild --force) while Open runs and that makes it fail, it starts again
// on the new one. A healthy dictionary is never reported corrupt, however
// often it is replaced; real damage is reported at once.
func Open(path string, opts *Options) (*Dict, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	var err error
	for range maxOpenAttempts {
		var d *Dict
		var moved bool
		if d, moved, err = openOnce(path, &o); err == nil || !moved {
			return d, err
		}
	}
	return nil, fmt.Errorf("%w (%s was replaced %d times while opening it)", err, path, maxOpenAttempts)
}

// openIn opens the dictionary in the open directory dir.
// With lease it keeps the MANIFEST open under flock(LOCK_SH) until Close,
// so that store garbage collection leaves the version alone.
func openIn(dir *dirRef, o *Options, lease bool) (*Dict, error) {
	data, lf, err := dir.readManifest(lease)
	if err != nil {
		return nil, err
	}
	d := &Dict{path: dir.path, dev: dir.dev, ino: dir.ino, lease: lf}
	man, err := manifest.Decode(data)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("reader: %s: %w", dir.join(manifest.FileName), err), d.unmap())
	}
	d.man, d.parts = man, make([]part, 0, len(man.Partitions))
	for i := range man.Partitions {
		p, err := openPart(dir, &man.Partitions[i], man.Has(manifest.FeatureKeyedRecords), man.Compressed(), o.Advice)
		d.parts = append(d.parts, p) // even on error, so unmap sees the mappings
		if err != nil {
			return nil, errors.Join(err, d.unmap())
		}
	}
	if o.Verify {
		if err := d.Verify(); err != nil {
			return nil, errors.Join(err, d.unmap())
		}
	}
	return d, nil
}

func openPart(dir *dirRef, mp *manifest.Partition, keyed, compressed bool, advice Advice) (p part, err error) {
	p = part{first: mp.FirstKey, last: mp.LastKey, fstName: mp.FST.Name, logName: mp.Log.Name}
	if p.fstFile, err = mapChecked(dir, mp.FST, advice); err != nil {
		return p, err
	}
	if p.logFile, err = mapChecked(dir, mp.Log, advice); err != nil {
		return p, err
	}
	if p.fst, err = fst.Load(p.fstFile.Data); err != nil {
		return p, fmt.Errorf("reader: %s: %w", dir.join(mp.FST.Name), err)
	}
	if err := matchManifest(dir, mp.FST, p.fst.Footer()); err != nil {
		return p, err
	}
	if p.log, err = valuelog.Load(p.logFile.Data); err != nil {
		return p, fmt.Errorf("reader: %s: %w", dir.join(mp.Log.Name), err)
	}
	if err := matchManifest(dir, mp.Log, p.log.Footer()); err != nil {
		return p, err
	}
	if p.log.Keyed() != keyed {
		return p, fmt.Errorf("reader: %s: %w: value log version %d, but the MANIFEST %s feature %q", dir.join(mp.Log.Name), ErrCorrupt, p.log.Version(), map[bool]string{true: "lists", false: "does not list"}[keyed], manifest.FeatureKeyedRecords)
	}
	if !p.log.Compressed() {
		p.values = p.logFile.Data
	}
	if p.log.Compressed() != compressed {
		return p, fmt.Errorf("reader: %s: %w: value log compressed %v, but the MANIFEST %s features %q and %q", dir.join(mp.Log.Name), ErrCorrupt, p.log.Compressed(), map[bool]string{true: "lists one of the", false: "lists neither of the"}[compressed], manifest.FeatureZstdRecords, manifest.FeatureZstdValues)
	}
	if mp.Top != nil {
		p.topName = mp.Top.Name
		if p.topFile, err = mapChecked(dir, *mp.Top, advice); err != nil {
			return p, err
		}
		if p.top, err = fst.LoadTop(p.topFile.Data); err != nil {
			return p, fmt.Errorf("reader: %s: %w", dir.join(mp.Top.Name), err)
		}
		if err := matchManifest(dir, *mp.Top, p.top.Footer()); err != nil {
			return p, err
		}
		if err := p.fst.SetTop(p.top); err != nil {
			return p, fmt.Errorf("reader: %s: %w", dir.join(mp.Top.Name), err)
		}
	}
	if mp.HashIndex == nil {
		return p, nil
	}
	p.hixName = mp.HashIndex.Name
	if p.hixFile, err = mapChecked(dir, *mp.HashIndex, advice); err != nil {
		return p, err
	}
	if p.hix, err = hashindex.Load(p.hixFile.Data); err != nil {
		return p, fmt.Errorf("reader: %s: %w", dir.join(mp.HashIndex.Name), err)
	}
	// An index over a compressed keyed log addresses its groups (shift 4);
	// one over a raw keyed log, its records (shift 0). Any other pairing
	// would compare keys at the wrong bytes.
	if groups := p.hix.Shift() == hashindex.GroupShift; !keyed || groups != compressed {
		return p, fmt.Errorf("reader: %s: %w: address shift %d over a value log that is keyed %v, compressed %v", dir.join(mp.HashIndex.Name), ErrCorrupt, p.hix.Shift(), keyed, compressed)
	}
	return p, matchManifest(dir, *mp.HashIndex, p.hix.Footer())
}

// matchManifest checks a data file's footer against its manifest entry:
// files from another build are caught here, without reading the body.
func matchManifest(dir *dirRef, fi manifest.FileInfo, f frame.Footer) error {
	if f.Count != fi.Count || f.BodyCRC != fi.CRC32C {
		return fmt.Errorf("reader: %s: %w: footer (count %d, crc %08x) does not match the MANIFEST (count %d, crc %08x): file from another build?", dir.join(fi.Name), ErrCorrupt, f.Count, f.BodyCRC, fi.Count, fi.CRC32C)
	}
	return nil
}

// mapChecked maps one data file and checks its size against its manifest
// entry.
func mapChecked(dir *dirRef, fi manifest.FileInfo, advice Advice) (*mmapfile.File, error) {
	name := dir.join(fi.Name)
	file, err := dir.open(fi.Name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reader: %s: %w: file named in the MANIFEST is missing", name, ErrCorrupt)
		}
		return nil, fmt.Errorf("reader: %w", err)
	}
	defer file.Close() // the mapping outlives the descriptor
	f, err := mmapfile.Map(file, advice)
	if err != nil {
		return nil, fmt.Errorf("reader: %w", err)
	}
	if size := uint64(len(f.Data)); size != fi.Size {
		f.Close()
		return nil, fmt.Errorf("reader: %s: %w: %d bytes, the MANIFEST says %d (truncated or replaced)", name, ErrCorrupt, size, fi.Size)
	}
	return f, nil
}

// Path returns the directory the dictionary was opened from.
func (d *Dict) Path() string { return d.path }

// Manifest returns the dictionary's decoded manifest. Do not modify it.
func (d *Dict) Manifest() *Manifest { return d.man }

// ZstdDict returns a copy of the zstd dictionary of the first partition
// whose value log has one, or nil when the dictionary is not compressed or
// was compressed without one (kvbuild trains one dictionary per build and
// gives it to every partition). An update (kvbuild --base) reuses it, so
// that the groups it rewrites compress as well as the base's.
func (d *Dict) ZstdDict() ([]byte, error) {
	if d.closed.Load() {
		return nil, ErrClosed
	}
	for i := range d.parts {
		if z := d.parts[i].log.ZstdDict(); z != nil {
			return bytes.Clone(z), nil
		}
	}
	return nil, nil
}

// Len returns the number of keys.
func (d *Dict) Len() int { return int(d.man.Keys) }

// find returns the partition whose key range may hold key, or nil.
func (d *Dict) find(key []byte) *part {
	lo, hi := 0, len(d.parts)
	for lo < hi { // first partition whose first key is > key
		m := int(uint(lo+hi) >> 1)
		if bytes.Compare(d.parts[m].first, key) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return nil
	}
	return &d.parts[lo-1]
}

// Get returns the value stored for key, or an error satisfying
// errors.Is(err, ErrNotFound) when the key is absent. The value aliases the
// mapped file: it is valid until Close and must not be modified (see
// GetCopy). Get allocates nothing and is safe for concurrent use, except in
// a compressed dictionary (manifest feature zstd-values or zstd-records), where a found
// value is decoded into a fresh allocation (one per call; AppendGet
// decodes into the caller's buffer instead).
//
// With a hash index (manifest feature hash-index) Get hashes the key,
// reads the candidate entries of its home slot and compares the key stored
// in each candidate's record: an absent key never returns a value. Without
// one it walks the FST.
func (d *Dict) Get(key []byte) ([]byte, error) {
	if d.closed.Load() {
		return nil, ErrClosed
	}
	p := d.find(key)
	if p == nil {
		return nil, ErrNotFound
	}
	if p.hix != nil {
		return p.hashGet(key, p.hix.Hash(key))
	}
	off, ok, err := p.fst.GetPrefetch(key, p.values)
	if err != nil {
		return nil, fmt.Errorf("reader: %s: %w", p.fstName, err)
	}
	if !ok {
		return nil, ErrNotFound
	}
	v, err := p.log.Value(off)
	if err != nil {
		return nil, fmt.Errorf("reader: %s: %w", p.logName, err)
	}
	return v, nil
}

// AppendGet appends the value stored for key to dst and returns the
// extended slice, or dst and an error satisfying errors.Is(err,
// ErrNotFound). The appended bytes are the caller's: valid after Close. It
// does not allocate when dst has room for the value, in a compressed
// dictionary too (the group is decoded into pooled scratch, or copied from
// the value log's cache of decoded groups), with one exception: the lookup
// that admits a group into that cache (its second miss in a row in its
// cache slot, feature zstd-values) allocates the decoded group once,
// about its payload size plus 100 bytes. Safe for concurrent use.
func (d *Dict) AppendGet(dst, key []byte) ([]byte, error) {
	if d.closed.Load() {
		return dst, ErrClosed
	}
	p := d.find(key)
	if p == nil {
		return dst, ErrNotFound
	}
	if p.hix != nil && p.log.Compressed() {
		return p.hashAppendGroup(dst, key, p.hix.Hash(key))
	}
	if p.hix != nil || !p.log.Compressed() {
		v, err := d.Get(key)
		if err != nil {
			return dst, err
		}
		return append(dst, v...), nil
	}
	off, ok, err := p.fst.Get(key)
	if err != nil {
		return dst, fmt.Errorf("reader: %s: %w", p.fstName, err)
	}
	if !ok {
		return dst, ErrNotFound
	}
	out, err := p.log.AppendValue(dst, off)
	if err != nil {
		return dst, fmt.Errorf("reader: %s: %w", p.logName, err)
	}
	return out, nil
}

// GetCopy is Get returning a copy of the value, which stays valid after
// Close.
func (d *Dict) GetCopy(key []byte) ([]byte, error) {
	v, err := d.Get(key)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(v), nil
}

// Contains reports whether key is in the dictionary, without reading its
// value.
func (d *Dict) Contains(key []byte) (bool, error) {
	if d.closed.Load() {
		return false, ErrClosed
	}
	p := d.find(key)
	if p == nil {
		return false, nil
	}
	if p.hix != nil && p.log.Compressed() {
		_, ok, err := p.hashFindGroup(nil, key, p.hix.Hash(key), false)
		return ok, err
	}
	if p.hix != nil {
		_, err := p.hashGet(key, p.hix.Hash(key))
		if err == ErrNotFound {
			return false, nil
		}
		return err == nil, err
	}
	_, ok, err := p.fst.Get(key)
	if err != nil {
		return false, fmt.Errorf("reader: %s: %w", p.fstName, err)
	}
	return ok, nil
}

// Close unmaps the dictionary. Slices returned by Get and iterators must
// not be used afterwards. Close must not be called concurrently with other
// methods; calling it twice returns ErrClosed.
func (d *Dict) Close() error {
	if d.closed.Swap(true) {
		return ErrClosed
	}
	return d.unmap()
}

func (d *Dict) unmap() error {
	var errs []error
	for i := range d.parts {
		p := &d.parts[i]
		for _, f := range []*mmapfile.File{p.fstFile, p.logFile, p.hixFile, p.topFile} {
			if f != nil {
				errs = append(errs, f.Close())
			}
		}
		p.fstFile, p.logFile, p.hixFile, p.topFile = nil, nil, nil, nil
	}
	if d.lease != nil {
		errs = append(errs, d.lease.Close()) // drops the flock
		d.lease = nil
	}
	return errors.Join(errs...)
}
