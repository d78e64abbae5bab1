package kvdictbeam

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/hashindex"
)

// partFn builds one range's rows into a part and outputs its description
// (builder.PartInfo as JSON).
type partFn struct {
	O Options // resolved
}

func (f *partFn) ProcessElement(ctx context.Context, id int, rows func(*[]byte) bool, sp Splits, files func(*FileRef) bool) (string, error) {
	info, err := f.O.buildPart(ctx, sp, id, func(w *builder.SortWriter) error {
		var row []byte
		for rows(&row) {
			seq, k, v, err := decodeRow(row)
			if err != nil {
				return err
			}
			if err := w.Add(seq, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", placeError(err, files)
	}
	partsBuilt.Inc(ctx, 1)
	js, err := json.Marshal(info)
	return string(js), err
}

// partName is an attempt-unique part name for range id: a retried or
// speculative attempt writes a second part beside the first, never over
// it; only the parts that reach the final step count.
func partName(id int) string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("part-%05d-%s", id, hex.EncodeToString(b[:]))
}

// buildPart builds range id of sp from the rows fill adds, as a part in
// PartsDir: built there when PartsDir is a local (or shared) directory,
// built in TempDir and uploaded when it is a URL.
func (o Options) buildPart(ctx context.Context, sp Splits, id int, fill func(*builder.SortWriter) error) (*builder.PartInfo, error) {
	pol, err := o.policy()
	if err != nil {
		return nil, err
	}
	name := partName(id)
	dir := o.PartsDir
	if isRemote(dir) {
		if dir, err = os.MkdirTemp(o.TempDir, "kvbeam-part-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	scratch := filepath.Join(dir, "."+name+".build")
	s, err := builder.NewSorter(scratch, o.sortOptions(pol))
	if err != nil {
		return nil, err
	}
	defer s.Abort() // no-op after a successful commit
	w, err := s.NewWriter()
	if err != nil {
		return nil, err
	}
	if err := fill(w); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := s.CommitContext(ctx); err != nil {
		return nil, err
	}
	info, err := builder.MakePart(scratch, dir, name, builder.SplitRange(sp.Keys, id))
	if err != nil {
		return nil, err
	}
	if isRemote(o.PartsDir) {
		if err := upload(ctx, info, o.PartsDir); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// sortOptions are the Sorter's options for one part: one partition, one
// thread (a worker's parallelism is its concurrent ranges), kvbuild's
// defaults otherwise. Every part gets the same build options, which Join
// checks.
func (o Options) sortOptions(pol builder.Policy) *builder.SortOptions {
	bo := &builder.Options{
		Tool: "kvbeam",
		Build: map[string]string{
			"unescape":   strconv.FormatBool(o.Unescape),
			"hash_index": strconv.FormatBool(o.HashIndex),
		},
	}
	var reserve int64
	if o.HashIndex {
		hixMem := min(max(o.PartMemory/16, 1<<20), 64<<20)
		bo.HashIndex = &hashindex.WriterOptions{MemoryBytes: int(hixMem)}
		reserve = builder.DefaultPartitionReserve + hixMem + 1<<20
	}
	return &builder.SortOptions{
		Duplicates:       pol,
		Memory:           o.PartMemory,
		Threads:          1,
		Partitions:       1,
		TempDir:          o.TempDir,
		PartitionReserve: reserve,
		Builder:          bo,
	}
}

// partFileNames lists a part's data files, then its description (the
// order to copy them in: a part exists once its description does).
func partFileNames(info *builder.PartInfo) []string {
	var names []string
	for _, p := range info.Partitions {
		names = append(names, p.FST.Name, p.Log.Name)
		if p.HashIndex != nil {
			names = append(names, p.HashIndex.Name)
		}
	}
	return append(names, info.Name+builder.PartSuffix)
}

// upload copies a part from its local directory to the URL dir, through
// Beam's file systems.
func upload(ctx context.Context, info *builder.PartInfo, dir string) error {
	fs, err := filesystem.New(ctx, dir)
	if err != nil {
		return err
	}
	defer fs.Close()
	for _, n := range partFileNames(info) {
		if err := copyTo(ctx, fs, filepath.Join(info.Dir, n), urlJoin(dir, n)); err != nil {
			return fmt.Errorf("kvdictbeam: uploading part %s: %w", info.Name, err)
		}
	}
	return nil
}

func copyTo(ctx context.Context, fs filesystem.Interface, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := fs.OpenWrite(ctx, dst)
	if err != nil {
		return err
	}
	return copyClose(out, in)
}

// download copies a part from the URL dir into the local directory local,
// data files first.
func download(ctx context.Context, fs filesystem.Interface, info *builder.PartInfo, dir, local string) error {
	for _, n := range partFileNames(info) {
		if err := copyFrom(ctx, fs, urlJoin(dir, n), filepath.Join(local, n)); err != nil {
			return fmt.Errorf("kvdictbeam: downloading part %s: %w", info.Name, err)
		}
	}
	return nil
}

func copyFrom(ctx context.Context, fs filesystem.Interface, src, dst string) error {
	in, err := fs.OpenRead(ctx, src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	return copyClose(out, in)
}

// copyClose copies in to out and closes out, whose Close error counts: a
// remote file system may only fail the write there.
func copyClose(out io.WriteCloser, in io.Reader) error {
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func urlJoin(dir, name string) string { return strings.TrimSuffix(dir, "/") + "/" + name }

// placeError names the input places of a record error (file and byte
// offset) instead of the Sorter's sequence numbers.
func placeError(err error, files func(*FileRef) bool) error {
	var dk *builder.DuplicateKeyError
	var re *builder.RecordError
	switch {
	case errors.As(err, &dk):
		return fmt.Errorf("kvdictbeam: duplicate key %q at %s and at %s (Duplicates %q): %w", dk.Key, place(dk.First, files), place(dk.Second, files), "error", builder.ErrInvalidInput)
	case errors.As(err, &re):
		return fmt.Errorf("kvdictbeam: %s: key %q: %s: %w", place(re.Seq, files), re.Key, re.Reason, builder.ErrInvalidInput)
	}
	return err
}

// place formats a sequence number as "FILE, the line at byte offset N".
func place(seq uint64, files func(*FileRef) bool) string {
	idx, off := int(seq>>offsetBits), int64(seq&(1<<offsetBits-1))
	var f FileRef
	for files(&f) {
		if f.Index == idx {
			return fmt.Sprintf("%s, the line at byte offset %d", f.Path, off)
		}
	}
	return fmt.Sprintf("input file %d, the line at byte offset %d", idx, off)
}
