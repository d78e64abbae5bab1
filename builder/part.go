package builder

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/manifest"
)

// A distributed build makes one dictionary from parts built on different
// machines (see docs/DESIGN.md, "Building across machines"):
//
//  1. split points: SplitKeys over a sample of the keys gives N-1 keys that
//     cut the key space into N ranges (SplitRange);
//  2. the engine routes every row to the range holding its key (RangeOf),
//     so all rows of one key meet on one machine;
//  3. each range is built like a dictionary of its own (Create or a
//     Sorter, at a scratch path) and turned into a part by MakePart: its
//     data files renamed NAME-NNNNN.fst/.vlog/.hix and a description,
//     NAME.part.json (PartInfo), written last;
//  4. the parts are copied into one place and Join links their files into
//     one dictionary with one MANIFEST, refusing overlaps, gaps, mixed
//     formats and bad checksums.
//
// NAME is chosen by the engine and must be unique per attempt (a task that
// is retried or run speculatively writes a second, complete part under
// another name); only the parts passed to Join count, and the others are
// garbage for the engine to delete.

// PartFormat is the version of the part description (PartInfo) this build
// writes and reads.
const PartFormat = 1

// PartSuffix ends the file name of a part description: NAME.part.json.
const PartSuffix = ".part.json"

// These errors are returned by MakePart, ReadPart and Join.
var (
	// ErrPartRange is returned by MakePart when the dictionary holds a key
	// outside the part's declared range: the engine routed a row to the
	// wrong part.
	ErrPartRange = errors.New("builder: key outside the part's range")
	// ErrJoin is returned by Join when the parts do not make one
	// dictionary: declared ranges overlap or leave a gap, the parts
	// disagree on format features or build options, or a description is
	// not a valid part.
	ErrJoin = errors.New("builder: parts cannot be joined")
)

// Range is a half-open key range [Lo, Hi). An empty Lo starts at the
// smallest key; a nil Hi means no upper bound.
type Range struct {
	Lo []byte `json:"lo"`
	Hi []byte `json:"hi"` // null in JSON when unbounded
}

// Contains reports whether key lies in r.
func (r Range) Contains(key []byte) bool {
	return bytes.Compare(key, r.Lo) >= 0 && (r.Hi == nil || bytes.Compare(key, r.Hi) < 0)
}

// valid reports whether r is a non-empty range.
func (r Range) valid() bool { return r.Hi == nil || bytes.Compare(r.Lo, r.Hi) < 0 }

// String formats r for messages, as [lo, hi).
func (r Range) String() string {
	hi := "∞"
	if r.Hi != nil {
		hi = quote(r.Hi)
	}
	return "[" + quote(r.Lo) + ", " + hi + ")"
}

// PartInfo describes one part: a key range's partitions, built on one
// machine, ready to be joined. It is what NAME.part.json holds (JSON, keys
// in base64) and what an engine passes from its workers to the join.
type PartInfo struct {
	// Format is PartFormat.
	Format int `json:"kvdict_part"`
	// Name is the part's attempt-unique name; its files are NAME-NNNNN.*.
	Name string `json:"name"`
	// Range is the declared key range; every key of the part lies in it.
	// The ranges of the parts joined must tile the whole key space.
	Range Range `json:"range"`
	// Tool names the program that built the part.
	Tool string `json:"tool,omitempty"`
	// Created is when the part was made.
	Created time.Time `json:"created"`
	// Keys, Values and MaxKeyLen are the part's totals, as in a manifest.
	Keys      uint64 `json:"keys"`
	Values    uint64 `json:"values"`
	MaxKeyLen int    `json:"max_key_len"`
	// Features and OptionalFeatures are the manifest features of the
	// part's files; Join refuses parts that differ.
	Features         []string `json:"features,omitempty"`
	OptionalFeatures []string `json:"optional_features,omitempty"`
	// Build records the options the part was built with; Join refuses
	// parts that differ in any option but the per-machine ones (memory,
	// threads, registry sizes, the hash seed ...).
	Build map[string]string `json:"build,omitempty"`
	// Partitions are the part's key ranges and files, in key order, with
	// sizes and CRC-32C checksums. A part with no keys has none.
	Partitions []manifest.Partition `json:"partitions"`

	// Dir is the directory holding the part's files: where ReadPart found
	// the description. Not stored.
	Dir string `json:"-"`
}

// validName reports whether name can name a part: a plain base name, not
// hidden, without the characters that would make its files ambiguous.
func validName(name string) error {
	switch {
	case name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") || name == manifest.FileName:
		return fmt.Errorf("builder: invalid part name %q (want a plain file name, not hidden)", name)
	case strings.ContainsAny(name, "/\\\x00\n"):
		return fmt.Errorf("builder: invalid part name %q", name)
	}
	return nil
}

// MakePart turns the dictionary just built at dict (by Create or a Sorter)
// into the part NAME in dir, declared to cover r. It checks that every key
// lies in r (ErrPartRange otherwise, and dict is removed), links the data
// files into dir as NAME-NNNNN.fst, .vlog and .hix, writes NAME.part.json
// there last (the part exists once that file does), and removes dict. dict
// must be on dir's file system; nothing is copied. A file of that name
// already in dir is an error: names must be unique per attempt.
func MakePart(dict, dir, name string, r Range) (*PartInfo, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if !r.valid() {
		return nil, fmt.Errorf("builder: part range %s is empty", r)
	}
	data, err := os.ReadFile(filepath.Join(dict, manifest.FileName))
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	m, err := manifest.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("builder: %s: %w", dict, err)
	}
	for _, p := range m.Partitions {
		for _, k := range [][]byte{p.FirstKey, p.LastKey} {
			if !r.Contains(k) {
				err := fmt.Errorf("%w: key %s is not in %s", ErrPartRange, quote(k), r)
				return nil, errors.Join(err, os.RemoveAll(dict))
			}
		}
	}
	info := &PartInfo{
		Format: PartFormat, Name: name, Range: r, Tool: m.Tool, Created: m.Created,
		Keys: m.Keys, Values: m.Values, MaxKeyLen: m.MaxKeyLen,
		Features: m.Features, OptionalFeatures: m.OptionalFeatures, Build: m.Build,
		Partitions: make([]manifest.Partition, len(m.Partitions)), Dir: dir,
	}
	var linked []string
	fail := func(err error) (*PartInfo, error) {
		for _, l := range linked {
			err = errors.Join(err, os.Remove(l))
		}
		return nil, err
	}
	for i, p := range m.Partitions {
		for _, f := range partFiles(&p) {
			newName := fmt.Sprintf("%s-%05d%s", name, i, filepath.Ext(f.Name))
			dst := filepath.Join(dir, newName)
			if err := os.Link(filepath.Join(dict, f.Name), dst); err != nil {
				return fail(fmt.Errorf("builder: making part %s: %w", name, err))
			}
			linked = append(linked, dst)
			f.Name = newName
		}
		info.Partitions[i] = p
	}
	js, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fail(fmt.Errorf("builder: %w", err))
	}
	// Written under a hidden name, then linked to its final name (which
	// fails if it exists) so a reader of the directory never sees half a
	// description.
	tmp := filepath.Join(dir, "."+name+PartSuffix+".tmp")
	os.Remove(tmp)
	if err := writeFileSync(tmp, append(js, '\n')); err != nil {
		return fail(err)
	}
	final := filepath.Join(dir, name+PartSuffix)
	err = os.Link(tmp, final)
	os.Remove(tmp)
	if err != nil {
		return fail(fmt.Errorf("builder: making part %s: %w", name, err))
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dict); err != nil {
		return nil, fmt.Errorf("builder: part %s written, but removing %s failed: %w", name, dict, err)
	}
	return info, nil
}

// partFiles returns pointers to a partition's file records.
func partFiles(p *manifest.Partition) []*manifest.FileInfo {
	fs := []*manifest.FileInfo{&p.FST, &p.Log}
	if p.HashIndex != nil {
		fs = append(fs, p.HashIndex)
	}
	if p.Top != nil {
		fs = append(fs, p.Top)
	}
	return fs
}

// ReadPart reads and validates a part description written by MakePart.
// Its Dir is set to the description's directory, where Join looks for the
// part's files. Errors wrap ErrJoin.
func ReadPart(path string) (*PartInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	info, err := DecodePart(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	info.Dir = filepath.Dir(path)
	return info, nil
}

// DecodePart parses and validates a part description (the JSON that
// MakePart writes and `kvbuild part` prints). Errors wrap ErrJoin.
func DecodePart(data []byte) (*PartInfo, error) {
	info := new(PartInfo)
	if err := json.Unmarshal(data, info); err != nil {
		return nil, fmt.Errorf("%w: not a part description: %v", ErrJoin, err)
	}
	if err := info.validate(); err != nil {
		return nil, err
	}
	return info, nil
}

// validate checks a part description on its own: format, name, range,
// and its partitions as a manifest would hold them. Errors wrap ErrJoin.
func (p *PartInfo) validate() error {
	if p.Format != PartFormat {
		return fmt.Errorf("%w: part description format %d, this build reads %d", ErrJoin, p.Format, PartFormat)
	}
	if err := validName(p.Name); err != nil {
		return fmt.Errorf("%w: %v", ErrJoin, err)
	}
	if !p.Range.valid() {
		return fmt.Errorf("%w: part %s: empty range %s", ErrJoin, p.Name, p.Range)
	}
	// A part is a dictionary's worth of partitions: the manifest's own
	// validation checks names, counts, order and features.
	m := manifest.Manifest{
		FormatVersion: manifest.FormatVersion, Features: p.Features, OptionalFeatures: p.OptionalFeatures,
		Keys: p.Keys, Values: p.Values, MaxKeyLen: p.MaxKeyLen, Partitions: p.Partitions,
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: part %s: %v", ErrJoin, p.Name, err)
	}
	maxLen := 0
	for i, q := range p.Partitions {
		if !p.Range.Contains(q.FirstKey) || !p.Range.Contains(q.LastKey) {
			return fmt.Errorf("%w: part %s: partition %d holds keys outside its range %s", ErrJoin, p.Name, i, p.Range)
		}
		maxLen = max(maxLen, len(q.FirstKey), len(q.LastKey))
	}
	if maxLen > p.MaxKeyLen {
		return fmt.Errorf("%w: part %s: max_key_len %d is shorter than a key (%d bytes)", ErrJoin, p.Name, p.MaxKeyLen, maxLen)
	}
	return nil
}

// fileMagics maps a data file's extension to its frame magic.
var fileMagics = map[string]string{
	".fst":  "kvdFST\x00\x00",
	".vlog": "kvdVLOG\x00",
	".hix":  "kvdHIX\x00\x00",
	".top":  "kvdTOP\x00\x00",
}

// verifyFile checks a part's data file against its record: size, magics,
// footer checksum, count and body checksum and, with full, the CRC-32C of
// the header and body, read as a stream. Errors wrap frame.ErrCorrupt.
func verifyFile(path string, f manifest.FileInfo, full bool) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if uint64(size) != f.Size {
		return fmt.Errorf("%w: %s is %d bytes, its part says %d", frame.ErrCorrupt, path, size, f.Size)
	}
	magic := fileMagics[filepath.Ext(f.Name)]
	if magic == "" {
		return fmt.Errorf("%w: %s: unknown data file type", frame.ErrCorrupt, path)
	}
	if size < frame.HeaderLen+frame.FooterLen {
		return fmt.Errorf("%w: %s is too short (%d bytes)", frame.ErrCorrupt, path, size)
	}
	head := make([]byte, frame.HeaderLen)
	tail := make([]byte, frame.FooterLen)
	if _, err := fh.ReadAt(head, 0); err != nil {
		return err
	}
	if _, err := fh.ReadAt(tail, size-frame.FooterLen); err != nil {
		return err
	}
	if string(head[:frame.MagicLen]) != magic || string(tail[24:]) != magic {
		return fmt.Errorf("%w: %s is not a %q file", frame.ErrCorrupt, path, strings.TrimRight(magic, "\x00"))
	}
	if crc32.Checksum(tail[:20], frame.Table) != binary.LittleEndian.Uint32(tail[20:24]) {
		return fmt.Errorf("%w: %s: footer checksum mismatch", frame.ErrCorrupt, path)
	}
	count, bodyLen, bodyCRC := binary.LittleEndian.Uint64(tail[0:8]), binary.LittleEndian.Uint64(tail[8:16]), binary.LittleEndian.Uint32(tail[16:20])
	if bodyLen != uint64(size)-frame.HeaderLen-frame.FooterLen || count != f.Count || bodyCRC != f.CRC32C {
		return fmt.Errorf("%w: %s does not match its part description (count %d, crc %08x; described %d, %08x)", frame.ErrCorrupt, path, count, bodyCRC, f.Count, f.CRC32C)
	}
	if !full {
		return nil
	}
	h := crc32.New(frame.Table)
	if _, err := io.Copy(h, io.NewSectionReader(fh, 0, size-frame.FooterLen)); err != nil {
		return err
	}
	if got := h.Sum32(); got != bodyCRC {
		return fmt.Errorf("%w: %s: body checksum mismatch (got %08x, want %08x)", frame.ErrCorrupt, path, got, bodyCRC)
	}
	return nil
}
