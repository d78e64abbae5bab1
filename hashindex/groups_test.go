package hashindex_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/hashindex"
)

// groupStore stands in for a compressed keyed log: keys in groups of up
// to 16 records, addressed group offset << 4 | index.
type groupStore struct {
	keys   [][]byte
	addrs  []uint64
	groups map[uint64][][]byte // group offset -> its keys, in order
}

func newGroupStore(keys [][]byte, perGroup int) *groupStore {
	s := &groupStore{keys: keys, groups: map[uint64][][]byte{}}
	for i, k := range keys {
		g := uint64(100 + 37*(i/perGroup))
		s.addrs = append(s.addrs, g<<hashindex.GroupShift|uint64(i%perGroup))
		s.groups[g] = append(s.groups[g], k)
	}
	return s
}

func (s *groupStore) keysAt(a uint64) ([][]byte, error) {
	if a&(1<<hashindex.GroupShift-1) != 0 {
		return nil, fmt.Errorf("address %d has index bits", a)
	}
	ks, ok := s.groups[a>>hashindex.GroupShift]
	if !ok {
		return nil, fmt.Errorf("no group at %d: %w", a, hashindex.ErrCorrupt)
	}
	return ks, nil
}

// get looks key up the way the reader does over groups: candidate groups,
// then a comparison with each key of the group.
func (s *groupStore) get(x *hashindex.Index, key []byte) (uint64, bool) {
	p := x.Probe(x.Hash(key))
	for {
		a, ok := p.Next()
		if !ok {
			return 0, false
		}
		ks, err := s.keysAt(a)
		if err != nil {
			continue
		}
		for i, k := range ks {
			if bytes.Equal(k, key) {
				return a | uint64(i), true
			}
		}
	}
}

func buildGroups(t testing.TB, s *groupStore, opts hashindex.WriterOptions) []byte {
	t.Helper()
	opts.AddrShift = hashindex.GroupShift
	var buf bytes.Buffer
	w := hashindex.NewWriter(&buf, &opts)
	for _, i := range rand.New(rand.NewPCG(3, 3)).Perm(len(s.keys)) {
		if err := w.Add(s.keys[i], s.addrs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Ensure that an index over groups finds every key's group, spilled or
// not, rejects absent keys, and verifies.
func TestIndexGroups_HitsAndMisses(t *testing.T) {
	ks := keys(50_000, "https://example.com/g")
	ks = append(ks, []byte{}, []byte{0}, bytes.Repeat([]byte{0xfe}, 700))
	for _, per := range []int{1, 8, 16} {
		s := newGroupStore(ks, per)
		inMem := buildGroups(t, s, hashindex.WriterOptions{Seed: 5})
		spilled := buildGroups(t, s, hashindex.WriterOptions{Seed: 5, MemoryBytes: 64 << 10, TmpDir: t.TempDir()})
		if !bytes.Equal(inMem, spilled) {
			t.Fatalf("%d per group: spilled build differs", per)
		}
		x, err := hashindex.Load(spilled)
		if err != nil {
			t.Fatal(err)
		}
		if x.Shift() != hashindex.GroupShift {
			t.Fatalf("Shift() = %d", x.Shift())
		}
		if err := x.VerifyGroups(s.keysAt); err != nil {
			t.Fatalf("%d per group: %v", per, err)
		}
		if err := x.Verify(nil); !errors.Is(err, hashindex.ErrGroups) || errors.Is(err, hashindex.ErrCorrupt) {
			t.Fatalf("Verify of a group index: %v, want a usage error", err)
		}
		for i, k := range ks {
			if a, ok := s.get(x, k); !ok || a != s.addrs[i] {
				t.Fatalf("%d per group: key %q: got %x, %v; want %x", per, k, a, ok, s.addrs[i])
			}
		}
		for _, k := range keys(50_000, "https://example.com/absent") {
			if a, ok := s.get(x, k); ok {
				t.Fatalf("absent key %q found at %x", k, a)
			}
		}
	}
}

// Ensure that an entry whose group lacks a key that fits it is corrupt:
// VerifyGroups must not accept a group just because it exists.
func TestIndexGroups_VerifyWrongGroup(t *testing.T) {
	s := newGroupStore(keys(200, "k"), 8)
	x, err := hashindex.Load(buildGroups(t, s, hashindex.WriterOptions{Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	// Swap the key sets of two groups: every entry of both now points at
	// a group whose keys do not hash to it.
	a, b := uint64(100), uint64(137)
	s.groups[a], s.groups[b] = s.groups[b], s.groups[a]
	if err := x.VerifyGroups(s.keysAt); !errors.Is(err, hashindex.ErrCorrupt) {
		t.Fatalf("VerifyGroups with swapped groups: %v, want ErrCorrupt", err)
	}
}

// Ensure that bit flips in a group index give an error from Load or
// VerifyGroups, and that lookups on it never panic.
func TestIndexGroups_Corruption(t *testing.T) {
	s := newGroupStore(keys(300, "key"), 8)
	data := buildGroups(t, s, hashindex.WriterOptions{Seed: 7})
	flipEach(t, data, 2, func(x *hashindex.Index) error { return x.VerifyGroups(s.keysAt) }, func(x *hashindex.Index) {
		for _, k := range s.keys {
			s.get(x, k)
		}
	})
}

// Ensure that shifts other than 0 and GroupShift are refused when writing.
func TestWriter_BadShift(t *testing.T) {
	w := hashindex.NewWriter(&bytes.Buffer{}, &hashindex.WriterOptions{AddrShift: 3})
	if err := w.Add([]byte("k"), 1<<10); err == nil {
		t.Fatal("Add accepted address shift 3")
	}
	// An address whose group offset is 0 is refused (0 is an empty slot).
	w = hashindex.NewWriter(&bytes.Buffer{}, &hashindex.WriterOptions{AddrShift: hashindex.GroupShift})
	if err := w.Add([]byte("k"), 15); err == nil {
		t.Fatal("Add accepted group offset 0")
	} else if !strings.Contains(err.Error(), "record address 15 (entry address 0, shift 4)") {
		t.Fatalf("Add(15) at shift 4: %v, want the address before and after the shift", err)
	}
}

// Ensure that the bytes of a small group index never change: keys "a",
// "b" in the group at offset 18 (addresses 0x120, 0x121) and "c" in the
// group at 37 (0x250), seed 1. Regenerate with -update.
func TestGoldenGroups(t *testing.T) {
	s := &groupStore{
		keys:   [][]byte{[]byte("a"), []byte("b"), []byte("c")},
		addrs:  []uint64{0x120, 0x121, 0x250},
		groups: map[uint64][][]byte{18: {[]byte("a"), []byte("b")}, 37: {[]byte("c")}},
	}
	data := buildGroups(t, s, hashindex.WriterOptions{Seed: 1})
	path := filepath.Join("testdata", "golden-groups.hix")
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("writer output changed:\n got % x\nwant % x", data, want)
	}
	x, err := hashindex.Load(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.VerifyGroups(s.keysAt); err != nil {
		t.Fatal(err)
	}
	for i, k := range s.keys {
		if a, ok := s.get(x, k); !ok || a != s.addrs[i] {
			t.Fatalf("key %q: %x %v", k, a, ok)
		}
	}
}
