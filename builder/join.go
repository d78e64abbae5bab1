package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/kvdict/kvdict/internal/manifest"
)

// JoinOptions configure Join. A nil *JoinOptions means the defaults.
type JoinOptions struct {
	// Force replaces an existing dictionary at the target, as
	// Options.Force does.
	Force bool
	// Move removes the parts' files and descriptions once the dictionary
	// is committed. Either way the data files are hard-linked, never
	// copied, so the parts must be on the target's file system.
	Move bool
	// SkipChecksums checks each data file's size, frame and footer only
	// (O(1) per file) instead of reading it whole to check its body's
	// CRC-32C. For parts whose transfer was already checked.
	SkipChecksums bool
	// Tool names the program writing the dictionary, for the manifest.
	Tool string
	// Now returns the creation time recorded in the manifest; nil means
	// time.Now.
	Now func() time.Time
	// Context, if set, stops the join between files when it is done (the
	// checksum pass reads every byte of every part): Join then returns its
	// error, having written nothing.
	Context context.Context
}

// mayDiffer lists the build options that parts built on different machines
// may disagree on: they tune the build, not what the dictionary holds or
// how it is read. Every other option must be equal in all parts.
var mayDiffer = map[string]bool{
	"memory": true, "threads": true, "sorted": true, "registry": true,
	"fst.registry_table_size": true, "fst.registry_mru_size": true,
	"vlog.dedup_bytes": true, "hash_index.seed": true, // each .hix file holds its own seed
	"skip_invalid":           true,
	"vlog.compression_ratio": true, // a statistic: recomputed over all parts
}

// joinMeta is what a joined dictionary's manifest takes from its parts
// instead of from the Builder's options.
type joinMeta struct {
	features, optional []string
	build              map[string]string
}

// Join makes one dictionary at path from parts (each read by ReadPart, its
// files in its Dir) and commits it as Commit does: atomically, with the
// MANIFEST written last. The parts' declared ranges must tile the key
// space exactly — the first starts at the empty key, each ends where the
// next starts, the last is unbounded — and they must agree on format
// features and build options (mayDiffer lists the exceptions); every data
// file must have the size, count and checksums its part describes.
// Otherwise Join fails with ErrJoin or an error wrapping frame.ErrCorrupt,
// and nothing is written. The data files are hard-linked into the new
// dictionary, renumbered part-NNNNN.*; their bytes are never rewritten.
func Join(path string, parts []*PartInfo, opts *JoinOptions) (*manifest.Manifest, error) {
	var o JoinOptions
	if opts != nil {
		o = *opts
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no parts", ErrJoin)
	}
	// The target first, as a build checks it: a join refused for its
	// target should not have read every part first.
	b, err := Create(path, &Options{Force: o.Force, Tool: o.Tool, Now: o.Now})
	if err != nil {
		return nil, err
	}
	defer b.Abort()
	for _, p := range parts {
		if err := p.validate(); err != nil {
			return nil, err
		}
	}
	parts = slices.Clone(parts)
	slices.SortStableFunc(parts, func(a, b *PartInfo) int { return bytes.Compare(a.Range.Lo, b.Range.Lo) })
	if err := checkTiling(parts); err != nil {
		return nil, err
	}
	meta, err := checkAgree(parts)
	if err != nil {
		return nil, err
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if err := verifyParts(ctx, parts, !o.SkipChecksums); err != nil {
		return nil, err
	}
	b.joined = meta
	for _, pt := range parts {
		for j, p := range pt.Partitions {
			if p.HashIndex != nil {
				h := *p.HashIndex // renamed below: do not touch the caller's
				p.HashIndex = &h
			}
			if p.Top != nil {
				t := *p.Top
				p.Top = &t
			}
			idx := len(b.parts)
			fstName, logName := PartitionNames(idx)
			names := []string{fstName, logName}
			if p.HashIndex != nil {
				names = append(names, HashIndexName(idx))
			}
			if p.Top != nil {
				names = append(names, TopName(idx))
			}
			for k, f := range partFiles(&p) {
				if err := os.Link(filepath.Join(pt.Dir, f.Name), filepath.Join(b.tmp, names[k])); err != nil {
					if errors.Is(err, syscall.EXDEV) {
						err = fmt.Errorf("%w (join links files, never copies them: put the parts on the file system of %s)", err, path)
					}
					return nil, fmt.Errorf("builder: part %s: %w", pt.Name, err)
				}
				f.Name = names[k]
			}
			adopted := &Partition{index: idx, dir: b.tmp, closed: true, info: p, last: p.LastKey}
			if j == 0 {
				adopted.maxKeyLen = pt.MaxKeyLen
			}
			b.parts = append(b.parts, adopted)
		}
	}
	m, err := b.Commit()
	if err != nil {
		return nil, err
	}
	if o.Move {
		var errs []error
		for _, pt := range parts {
			for _, p := range pt.Partitions {
				for _, f := range partFiles(&p) {
					errs = append(errs, os.Remove(filepath.Join(pt.Dir, f.Name)))
				}
			}
			if err := os.Remove(filepath.Join(pt.Dir, pt.Name+PartSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			return m, fmt.Errorf("builder: %s joined, but removing the parts failed: %w", path, err)
		}
	}
	return m, nil
}

// checkTiling checks that parts, sorted by Lo, cover the key space once.
func checkTiling(parts []*PartInfo) error {
	if lo := parts[0].Range.Lo; len(lo) > 0 {
		return fmt.Errorf("%w: keys below %s are in no part (the first part, %s, starts there)", ErrJoin, quote(lo), parts[0].Name)
	}
	for i := 1; i < len(parts); i++ {
		a, b := parts[i-1], parts[i]
		switch {
		case a.Range.Hi == nil || bytes.Compare(a.Range.Hi, b.Range.Lo) > 0:
			return fmt.Errorf("%w: parts %s %s and %s %s overlap (pass one attempt per range)", ErrJoin, a.Name, a.Range, b.Name, b.Range)
		case bytes.Compare(a.Range.Hi, b.Range.Lo) < 0:
			return fmt.Errorf("%w: keys in [%s, %s) are in no part (a gap between parts %s and %s)", ErrJoin, quote(a.Range.Hi), quote(b.Range.Lo), a.Name, b.Name)
		}
	}
	if last := parts[len(parts)-1]; last.Range.Hi != nil {
		return fmt.Errorf("%w: keys from %s up are in no part (the last part, %s, ends there)", ErrJoin, quote(last.Range.Hi), last.Name)
	}
	return nil
}

// checkAgree checks that all parts have the same features and build
// options, and returns what the joined manifest records.
func checkAgree(parts []*PartInfo) (*joinMeta, error) {
	first := parts[0]
	norm := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	meta := &joinMeta{features: norm(first.Features), optional: norm(first.OptionalFeatures), build: map[string]string{}}
	for _, p := range parts[1:] {
		if !slices.Equal(norm(p.Features), meta.features) || !slices.Equal(norm(p.OptionalFeatures), meta.optional) {
			return nil, fmt.Errorf("%w: parts %s and %s use different format features (%v %v and %v %v)", ErrJoin, first.Name, p.Name, first.Features, first.OptionalFeatures, p.Features, p.OptionalFeatures)
		}
	}
	keys := map[string]bool{}
	for _, p := range parts {
		for k := range p.Build {
			keys[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		v, ok := first.Build[k]
		same := true
		for _, p := range parts[1:] {
			w, ok2 := p.Build[k]
			if ok2 != ok || w != v {
				if !mayDiffer[k] {
					return nil, fmt.Errorf("%w: parts %s and %s were built with different %s (%s and %s)", ErrJoin, first.Name, p.Name, k, showOpt(v, ok), showOpt(w, ok2))
				}
				same = false
			}
		}
		if same && ok {
			meta.build[k] = v
		}
	}
	if r := joinedRatio(parts); r != "" {
		meta.build["vlog.compression_ratio"] = r
	}
	meta.build["join.parts"] = strconv.Itoa(len(parts))
	return meta, nil
}

// joinedRatio is the compression ratio of all parts' value logs together,
// from each part's ratio weighted by its value-log bytes; "" unless every
// part records one.
func joinedRatio(parts []*PartInfo) string {
	var raw, stored float64
	for _, p := range parts {
		r, err := strconv.ParseFloat(p.Build["vlog.compression_ratio"], 64)
		if err != nil {
			return ""
		}
		for _, q := range p.Partitions {
			raw += r * float64(q.Log.Size)
			stored += float64(q.Log.Size)
		}
	}
	return strconv.FormatFloat(raw/max(stored, 1), 'f', 2, 64)
}

func showOpt(v string, ok bool) string {
	if !ok {
		return "unset"
	}
	return strconv.Quote(v)
}

// verifyParts checks every data file of every part, in parallel.
func verifyParts(ctx context.Context, parts []*PartInfo, full bool) error {
	type job struct {
		part string
		path string
		f    manifest.FileInfo
	}
	var jobs []job
	for _, pt := range parts {
		for _, p := range pt.Partitions {
			for _, f := range partFiles(&p) {
				jobs = append(jobs, job{pt.Name, filepath.Join(pt.Dir, f.Name), *f})
			}
		}
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			if err := verifyFile(j.path, j.f, full); err != nil {
				errs[i] = fmt.Errorf("builder: part %s: %w", j.part, err)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err // the first, in key order
		}
	}
	return nil
}
