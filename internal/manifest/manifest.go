// Package manifest encodes and decodes a dictionary's MANIFEST file: the one
// small file that says which data files make up the dictionary, how many
// keys each holds, their sizes and checksums, and how it was built.
//
// # File format
//
// All integers are little-endian.
//
//	+-------------------+------------------------+--------------+
//	| header (16 bytes) | body (JSON, L bytes)   | CRC (4 bytes)|
//	+-------------------+------------------------+--------------+
//
//	 0:8      magic "kvdMANI\x00"
//	 8:12     manifest format version (uint32), 1
//	12:16     body length L (uint32), at most MaxBodyLen
//	16:16+L   body: a UTF-8 JSON object, the Manifest type below
//	16+L:+4   CRC-32C of bytes [0, 16+L)
//
// The body is JSON so that it stays readable with a hex dump and so that
// fields can be added without a version bump; []byte fields (first and last
// keys) are base64, as encoding/json writes them. A reader must refuse a
// manifest whose Features list names a feature it does not implement: that
// is how compressed value logs and other additions announce themselves to
// old readers (with ErrVersion, never a wrong answer). OptionalFeatures
// lists additions a reader may ignore (it then answers through the files
// it does know); readers built before the field existed skip it as an
// unknown JSON field, which is the same rule.
//
// # Features
//
// Required (Features; a reader that does not implement one refuses the
// dictionary with ErrVersion):
//
//	keyed-records   every value log is version 2: each key has its own
//	                record holding the key (see package valuelog)
//	zstd-records    with keyed-records: every value log is a compressed
//	                keyed log (version 2, codec 1: zstd groups)
//	zstd-values     without keyed-records: every value log is a compressed
//	                value-only log (version 1, codec 1: zstd groups), and
//	                FST outputs are addresses (group offset << 4 | index)
//
// Optional (OptionalFeatures; a reader may ignore one it does not know):
//
//	hash-index      every partition has a hash index file (Partition.HashIndex,
//	                package hashindex) over its keyed records; requires
//	                keyed-records. With zstd-records the index addresses
//	                the records' groups (its address shift is 4)
//	fst-top         every partition has a top file (Partition.Top, package
//	                fst, top.go): a compact copy of its FST's upper states
//	                that lookups start in; without it they walk the FST
//	                alone and answer the same
//
// Worked example: the header of a manifest with a 300-byte body is
//
//	6b 76 64 4d 41 4e 49 00  01 00 00 00  2c 01 00 00
//	"kvdMANI\0"              version 1    L = 300
//
// TestGolden pins a whole manifest byte for byte.
package manifest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"time"

	"github.com/kvdict/kvdict/internal/frame"
)

const (
	// FileName is the manifest's name inside a dictionary directory.
	FileName = "MANIFEST"
	// Magic starts every manifest.
	Magic = "kvdMANI\x00"
	// Version is the newest manifest version this build writes and reads.
	Version = 1
	// FormatVersion is the dictionary format version: the manifest, FST
	// and value-log versions taken together. It is what `kvlookup info`
	// shows and what docs/FORMAT.md describes.
	FormatVersion = 1
	// MaxBodyLen bounds the JSON body (16 MiB): enough for ~30,000
	// partitions with 64-byte boundary keys.
	MaxBodyLen = 16 << 20

	headerLen = 16
	crcLen    = 4
)

// Manifest describes one dictionary.
type Manifest struct {
	// FormatVersion is the dictionary format version (FormatVersion).
	FormatVersion int `json:"format_version"`
	// Features lists the format features the dictionary uses that a
	// reader must implement to read it (FeatureKeyedRecords); a reader
	// refuses any name it does not know with ErrVersion.
	Features []string `json:"features,omitempty"`
	// OptionalFeatures lists features a reader may ignore
	// (FeatureHashIndex): the dictionary stays correct without them.
	OptionalFeatures []string `json:"optional_features,omitempty"`
	// Tool names the program and version that wrote the dictionary.
	Tool string `json:"tool,omitempty"`
	// Created is when the build committed (UTC).
	Created time.Time `json:"created"`
	// Keys is the number of keys in all partitions.
	Keys uint64 `json:"keys"`
	// Values is the number of value records in all value logs (identical
	// values are stored once, so Values <= Keys).
	Values uint64 `json:"values"`
	// MaxKeyLen is the length of the longest key, in bytes.
	MaxKeyLen int `json:"max_key_len"`
	// Build records the options the dictionary was built with.
	Build map[string]string `json:"build,omitempty"`
	// Partitions are disjoint key ranges in increasing key order. A
	// dictionary with no keys has none.
	Partitions []Partition `json:"partitions"`
}

// Partition is one key range: an FST file and the value log it points into.
type Partition struct {
	FirstKey []byte   `json:"first_key"`
	LastKey  []byte   `json:"last_key"`
	Keys     uint64   `json:"keys"`
	FST      FileInfo `json:"fst"`
	Log      FileInfo `json:"vlog"`
	// HashIndex is the partition's hash index file, present exactly when
	// the dictionary has the hash-index feature.
	HashIndex *FileInfo `json:"hix,omitempty"`
	// Top is the partition's FST top file, present exactly when the
	// dictionary has the fst-top feature. Its Count is its number of nodes.
	Top *FileInfo `json:"top,omitempty"`
}

// Feature names; see the package documentation.
const (
	FeatureKeyedRecords = "keyed-records"
	FeatureHashIndex    = "hash-index"
	// FeatureFSTTop (optional): every partition has an FST top file.
	FeatureFSTTop = "fst-top"
	// FeatureZstdRecords (required, with keyed-records): every value log
	// is a compressed keyed log (value log codec 1, zstd groups).
	FeatureZstdRecords = "zstd-records"
	// FeatureZstdValues (required, without keyed-records): every value
	// log is a compressed value-only log (version 1, codec 1, zstd
	// groups of distinct values). A new name rather than zstd-records
	// alone, so that readers from before it refuse such a dictionary at
	// the manifest with ErrVersion (they took zstd-records without
	// keyed-records for corruption).
	FeatureZstdValues = "zstd-values"
)

// knownFeatures are the required features this build implements.
var knownFeatures = map[string]bool{FeatureKeyedRecords: true, FeatureZstdRecords: true, FeatureZstdValues: true}

// Compressed reports whether the dictionary's value logs are compressed
// (feature zstd-records or zstd-values).
func (m *Manifest) Compressed() bool {
	return m.Has(FeatureZstdRecords) || m.Has(FeatureZstdValues)
}

// Has reports whether the manifest lists feature, required or optional.
func (m *Manifest) Has(feature string) bool {
	for _, f := range m.Features {
		if f == feature {
			return true
		}
	}
	for _, f := range m.OptionalFeatures {
		if f == feature {
			return true
		}
	}
	return false
}

// FileInfo names a data file in the dictionary directory and records its
// size and the body CRC-32C written in its footer.
type FileInfo struct {
	Name   string `json:"name"`
	Size   uint64 `json:"size"`
	CRC32C uint32 `json:"crc32c"`
	Count  uint64 `json:"count"` // footer count: keys (FST) or records (value log)
}

// Encode returns the manifest file's bytes.
func Encode(m *Manifest) ([]byte, error) {
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if len(body) > MaxBodyLen {
		return nil, fmt.Errorf("manifest: body of %d bytes exceeds %d (too many partitions)", len(body), MaxBodyLen)
	}
	b := make([]byte, 0, headerLen+len(body)+crcLen)
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint32(b, Version)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, frame.Table)), nil
}

// Decode parses and validates a manifest file. Errors wrap frame.ErrMagic,
// frame.ErrVersion or frame.ErrCorrupt.
func Decode(data []byte) (*Manifest, error) {
	if len(data) < headerLen+crcLen {
		if len(data) >= len(Magic) && string(data[:len(Magic)]) != Magic {
			return nil, fmt.Errorf("%w: want %q", frame.ErrMagic, "kvdMANI")
		}
		return nil, fmt.Errorf("%w: manifest of %d bytes is truncated", frame.ErrCorrupt, len(data))
	}
	if string(data[:8]) != Magic {
		return nil, fmt.Errorf("%w: want %q, found %q", frame.ErrMagic, "kvdMANI", data[:8])
	}
	if v := binary.LittleEndian.Uint32(data[8:12]); v == 0 || v > Version {
		return nil, fmt.Errorf("%w: manifest version %d, this build reads 1 to %d", frame.ErrVersion, v, Version)
	}
	n := uint64(binary.LittleEndian.Uint32(data[12:16]))
	if n > MaxBodyLen || headerLen+n+crcLen != uint64(len(data)) {
		return nil, fmt.Errorf("%w: manifest body length %d does not match file size %d", frame.ErrCorrupt, n, len(data))
	}
	end := headerLen + int(n)
	if got, want := crc32.Checksum(data[:end], frame.Table), binary.LittleEndian.Uint32(data[end:]); got != want {
		return nil, fmt.Errorf("%w: manifest checksum mismatch (got %08x, want %08x)", frame.ErrCorrupt, got, want)
	}
	m := new(Manifest)
	dec := json.NewDecoder(bytes.NewReader(data[headerLen:end]))
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("%w: manifest body: %v", frame.ErrCorrupt, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate checks the manifest's internal consistency: a known format
// version and features, safe file names, partitions in strictly increasing,
// disjoint key order, and counts that add up.
func (m *Manifest) Validate() error {
	if m.FormatVersion < 1 || m.FormatVersion > FormatVersion {
		return fmt.Errorf("%w: dictionary format version %d, this build reads 1 to %d", frame.ErrVersion, m.FormatVersion, FormatVersion)
	}
	for _, f := range m.Features {
		if !knownFeatures[f] {
			return fmt.Errorf("%w: dictionary uses feature %q that this build does not implement", frame.ErrVersion, f)
		}
	}
	if m.Has(FeatureZstdRecords) && !m.Has(FeatureKeyedRecords) {
		return fmt.Errorf("%w: manifest lists %q without %q", frame.ErrCorrupt, FeatureZstdRecords, FeatureKeyedRecords)
	}
	if m.Has(FeatureZstdValues) && m.Has(FeatureKeyedRecords) {
		return fmt.Errorf("%w: manifest lists %q with %q", frame.ErrCorrupt, FeatureZstdValues, FeatureKeyedRecords)
	}
	hix := m.Has(FeatureHashIndex)
	if hix && !m.Has(FeatureKeyedRecords) {
		return fmt.Errorf("%w: manifest lists %q without %q", frame.ErrCorrupt, FeatureHashIndex, FeatureKeyedRecords)
	}
	top := m.Has(FeatureFSTTop)
	var keys, values uint64
	for i, p := range m.Partitions {
		files := []FileInfo{p.FST, p.Log}
		if (p.HashIndex != nil) != hix {
			return fmt.Errorf("%w: manifest partition %d: hash index file present %v, feature %q listed %v", frame.ErrCorrupt, i, p.HashIndex != nil, FeatureHashIndex, hix)
		}
		if (p.Top != nil) != top {
			return fmt.Errorf("%w: manifest partition %d: top file present %v, feature %q listed %v", frame.ErrCorrupt, i, p.Top != nil, FeatureFSTTop, top)
		}
		if p.Top != nil {
			files = append(files, *p.Top)
		}
		if m.Has(FeatureKeyedRecords) && p.Log.Count != p.Keys {
			return fmt.Errorf("%w: manifest partition %d: %d keyed records for %d keys", frame.ErrCorrupt, i, p.Log.Count, p.Keys)
		}
		if p.HashIndex != nil {
			if p.HashIndex.Count != p.Keys {
				return fmt.Errorf("%w: manifest partition %d: hash index counts %d keys, partition %d", frame.ErrCorrupt, i, p.HashIndex.Count, p.Keys)
			}
			files = append(files, *p.HashIndex)
		}
		for _, f := range files {
			if f.Name == "" || f.Name != filepath.Base(f.Name) || strings.HasPrefix(f.Name, ".") || f.Name == FileName {
				return fmt.Errorf("%w: manifest partition %d names an invalid file %q", frame.ErrCorrupt, i, f.Name)
			}
		}
		if p.Keys == 0 || p.FST.Count != p.Keys || p.Log.Count > p.Keys {
			return fmt.Errorf("%w: manifest partition %d: inconsistent counts (keys %d, fst %d, records %d)", frame.ErrCorrupt, i, p.Keys, p.FST.Count, p.Log.Count)
		}
		if bytes.Compare(p.FirstKey, p.LastKey) > 0 || (p.Keys == 1) != bytes.Equal(p.FirstKey, p.LastKey) {
			return fmt.Errorf("%w: manifest partition %d: bad key range", frame.ErrCorrupt, i)
		}
		if i > 0 && bytes.Compare(m.Partitions[i-1].LastKey, p.FirstKey) >= 0 {
			return fmt.Errorf("%w: manifest partitions %d and %d overlap or are out of order", frame.ErrCorrupt, i-1, i)
		}
		keys += p.Keys
		values += p.Log.Count
	}
	if keys != m.Keys || values != m.Values {
		return fmt.Errorf("%w: manifest totals (keys %d, values %d) do not match its partitions (keys %d, values %d)", frame.ErrCorrupt, m.Keys, m.Values, keys, values)
	}
	return nil
}
