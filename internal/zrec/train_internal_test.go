package zrec

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/zstd"
)

// valueGroups returns the pypi sample's values (each line after its first
// TAB) in groups of DefaultGroupRecords records, as kvbuild's value-only
// logs hold them.
func valueGroups(t testing.TB) [][]byte {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "pypi-sample.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	var p []byte
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, v, _ := bytes.Cut(sc.Bytes(), []byte("\t"))
		p = AppendRecord(p, v)
		if n++; n == DefaultGroupRecords {
			out, p, n = append(out, p), nil, 0
		}
	}
	return out
}

// storedSize is the bytes of every group stored with dictionary d.
func storedSize(t testing.TB, d []byte, groups [][]byte) int {
	e, err := NewEncoder(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	total := 0
	var out []byte
	for _, g := range groups {
		out = e.AppendGroup(out[:0], g)
		total += len(out)
	}
	return total
}

// Ensure that the flat-table port of the history builder (trainhist.go)
// compresses as well as klauspost's dict package it was ported from (the
// kvbuild budget: within 1%), and that training is reproducible: the same
// sample gives the same dictionary bytes, run after run (the original
// broke ties by Go map order).
func TestBuildHistory_AsGoodAsDictPackage(t *testing.T) {
	groups := valueGroups(t)
	train := func() []byte {
		tr := NewTrainer(nil)
		for _, g := range groups {
			tr.Add(g)
		}
		d, err := tr.Train()
		if err != nil || d == nil {
			t.Fatalf("Train: %d bytes, %v", len(d), err)
		}
		return d
	}
	d := train()
	for range 3 {
		if again := train(); !bytes.Equal(again, d) {
			t.Fatalf("Train gave %d bytes, then %d different bytes on the same sample", len(d), len(again))
		}
	}
	ours := storedSize(t, d, groups)

	// The dict package's dictionary for the same sample, through the same
	// literal-tree completion Train applies.
	tr := NewTrainer(nil)
	for _, g := range groups {
		tr.Add(g)
	}
	in := make([][]byte, len(tr.kept))
	for i, s := range tr.kept {
		in[i] = s.data
	}
	size := min(tr.o.MaxDictSize, tr.bytes/8)
	best := 0
	for range 2 { // its ties go by map order: take its better of two
		od, err := dict.BuildZstdDict(in, dict.Options{MaxDictSize: size, HashBytes: 6, ZstdDictID: DictID, ZstdLevel: zstd.SpeedFastest})
		if err != nil {
			t.Fatal(err)
		}
		if c := completeLitTree(od, in); c != nil && usable(c, in[0]) {
			od = c
		}
		if s := storedSize(t, od, groups); best == 0 || s < best {
			best = s
		}
	}
	t.Logf("stored: %d bytes with the port's dictionary, %d with the dict package's (%.4fx)", ours, best, float64(ours)/float64(best))
	if float64(ours) > 1.01*float64(best) {
		t.Fatalf("port's dictionary stores %d bytes, the dict package's %d: more than 1%% worse", ours, best)
	}
}

// Ensure that the history builder refuses samples it cannot use rather
// than failing in some other way, and stays within its length.
func TestBuildHistory_Edges(t *testing.T) {
	if _, _, err := buildHistory(nil, 1024); err == nil {
		t.Fatal("no samples: no error")
	}
	if _, _, err := buildHistory([][]byte{[]byte("short")}, 1024); err == nil {
		t.Fatal("samples under 8 bytes: no error")
	}
	groups := valueGroups(t)
	for _, want := range []int{64, 1000, 4096} {
		h, offs, err := buildHistory(groups[:500], want)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) == 0 || len(h) > want {
			t.Fatalf("history of %d bytes for %d wanted", len(h), want)
		}
		for _, o := range offs {
			if o <= 0 || o > len(h) && o > 8 {
				t.Fatalf("offsets %v for a history of %d bytes", offs, len(h))
			}
		}
	}
}

// BenchmarkTrainValues trains kvbuild's default dictionary on the pypi
// sample's value groups.
func BenchmarkTrainValues(b *testing.B) {
	groups := valueGroups(b)
	b.ReportAllocs()
	for range b.N {
		tr := NewTrainer(nil)
		for _, g := range groups {
			tr.Add(g)
		}
		if _, err := tr.Train(); err != nil {
			b.Fatal(err)
		}
	}
}
