package manifest

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/kvdict/kvdict/internal/frame"
)

func sample() *Manifest {
	return &Manifest{
		FormatVersion: FormatVersion,
		Created:       time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
		Keys:          5,
		Values:        4,
		Partitions: []Partition{
			{FirstKey: []byte("a"), LastKey: []byte("c"), Keys: 3,
				FST: FileInfo{Name: "part-00000.fst", Count: 3}, Log: FileInfo{Name: "part-00000.vlog", Count: 2}},
			{FirstKey: []byte("d"), LastKey: []byte("e"), Keys: 2,
				FST: FileInfo{Name: "part-00001.fst", Count: 2}, Log: FileInfo{Name: "part-00001.vlog", Count: 2}},
		},
	}
}

// Ensure a manifest round-trips and its header is laid out as documented.
func TestRoundTrip(t *testing.T) {
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:8]) != Magic || binary.LittleEndian.Uint32(b[8:12]) != Version ||
		int(binary.LittleEndian.Uint32(b[12:16])) != len(b)-20 {
		t.Fatalf("header % x", b[:16])
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Keys != 5 || len(m.Partitions) != 2 || string(m.Partitions[1].FirstKey) != "d" {
		t.Fatalf("decoded %+v", m)
	}
}

// Ensure each inconsistency a damaged or hostile manifest can hold is
// refused with the right sentinel.
func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mut  func(m *Manifest)
		want error
	}{
		{"future format", func(m *Manifest) { m.FormatVersion = 2 }, frame.ErrVersion},
		{"unknown feature", func(m *Manifest) { m.Features = []string{"lz4-values"} }, frame.ErrVersion},
		{"zstd-values with keyed-records", func(m *Manifest) {
			m.Features = []string{FeatureKeyedRecords, FeatureZstdValues}
			m.Partitions[0].Log.Count, m.Partitions[1].Log.Count = m.Partitions[0].Keys, m.Partitions[1].Keys
		}, frame.ErrCorrupt},
		{"path traversal", func(m *Manifest) { m.Partitions[0].FST.Name = "../../etc/passwd" }, frame.ErrCorrupt},
		{"hidden file", func(m *Manifest) { m.Partitions[0].Log.Name = ".x" }, frame.ErrCorrupt},
		{"manifest as data", func(m *Manifest) { m.Partitions[0].Log.Name = FileName }, frame.ErrCorrupt},
		{"empty partition", func(m *Manifest) { m.Partitions[1].Keys = 0 }, frame.ErrCorrupt},
		{"fst count", func(m *Manifest) { m.Partitions[0].FST.Count = 9 }, frame.ErrCorrupt},
		{"more records than keys", func(m *Manifest) { m.Partitions[0].Log.Count = 4 }, frame.ErrCorrupt},
		{"overlap", func(m *Manifest) { m.Partitions[1].FirstKey = []byte("b") }, frame.ErrCorrupt},
		{"inverted range", func(m *Manifest) { m.Partitions[0].FirstKey = []byte("z") }, frame.ErrCorrupt},
		{"totals", func(m *Manifest) { m.Keys = 6 }, frame.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sample()
			tt.mut(m)
			b, err := Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(b); !errors.Is(err, tt.want) {
				t.Fatalf("Decode: %v, want %v", err, tt.want)
			}
		})
	}
}

// Ensure damage to the envelope maps to its sentinel and never panics.
func TestDecode_Envelope(t *testing.T) {
	good, _ := Encode(sample())
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, frame.ErrCorrupt},
		{"bad magic", mut(func(b []byte) []byte { b[0] = 'K'; return b }), frame.ErrMagic},
		{"future version", mut(func(b []byte) []byte { b[8] = 9; return b }), frame.ErrVersion},
		{"truncated", good[:len(good)-1], frame.ErrCorrupt},
		{"huge length", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 1<<31); return b }), frame.ErrCorrupt},
		{"flipped body", mut(func(b []byte) []byte { b[30] ^= 1; return b }), frame.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.data); !errors.Is(err, tt.want) {
				t.Fatalf("Decode: %v, want %v", err, tt.want)
			}
		})
	}
}
