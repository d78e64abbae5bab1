package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dirBytes reads every file of a dictionary directory.
func dirBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

// Ensure SOURCE_DATE_EPOCH makes kvbuild's output reproducible: with it,
// two builds of the same input and flags (hash index included) are byte
// for byte identical and the manifest records that time; without it the
// hash index's seed is random. (builder's TestSorter_Reproducible covers
// boundaries and deduplication whatever the runs.)
func TestRun_SourceDateEpoch(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := range 20000 {
		k := (i * 7919) % 9000
		fmt.Fprintf(&in, "key%06d\tvalue %d\n", k, (k*31)%977)
	}
	p := writeFile(t, dir, "in.tsv", in.String())
	build := func(name string) map[string][]byte {
		out := filepath.Join(dir, name)
		if code, stderr := kvbuild(t, context.Background(), "", "-q", "--hash-index", "-o", out, p); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return dirBytes(t, out)
	}
	random1, random2 := build("r1"), build("r2")
	if bytes.Equal(random1["part-00000.hix"], random2["part-00000.hix"]) {
		t.Error("without SOURCE_DATE_EPOCH the hash seeds should differ")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1764633600")
	a, b := build("a"), build("b")
	assertSameFiles(t, a, b, 4)
	if !bytes.Contains(a["MANIFEST"], []byte("2025-12-02T00:00:00Z")) {
		t.Errorf("MANIFEST does not record SOURCE_DATE_EPOCH: %.300s", a["MANIFEST"])
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if code, stderr := kvbuild(t, context.Background(), "", "-o", filepath.Join(dir, "x"), p); code != exitUsage || !strings.Contains(stderr, "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: exit %d: %s", code, stderr)
	}
}

// Ensure that builds which train a zstd dictionary are reproducible too:
// the sample depends on the input's bytes only and the trainer's ties go
// by table order (zrec trainhist.go), so two builds of the pypi sample
// with --compression zstd and SOURCE_DATE_EPOCH are byte for byte
// identical, dictionary included.
func TestRun_SourceDateEpochZstd(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join("..", "..", "testdata", "pypi-sample.tsv")
	t.Setenv("SOURCE_DATE_EPOCH", "1764633600")
	build := func(name string) map[string][]byte {
		out := filepath.Join(dir, name)
		if code, stderr := kvbuild(t, context.Background(), "", "-q", "--compression", "zstd", "--threads", "2", "-o", out, in); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return dirBytes(t, out)
	}
	a, b := build("a"), build("b")
	assertSameFiles(t, a, b, 3)
	if !bytes.Contains(a["MANIFEST"], []byte(`"zstd"`)) {
		t.Errorf("MANIFEST does not record zstd: %.300s", a["MANIFEST"])
	}
	// A build that trained no dictionary (Train gives nil when the
	// builder fails, even by a recovered panic) would pass the above
	// trivially: the value logs must hold one (zstd dictionary magic).
	if !bytes.Contains(a["part-00000.vlog"], []byte{0x37, 0xa4, 0x30, 0xec}) {
		t.Error("part-00000.vlog holds no zstd dictionary: nothing trained, reproducibility not tested")
	}
}

// assertSameFiles fails unless two builds' files (dirBytes) are the same
// names with the same bytes, at least minFiles of them.
func assertSameFiles(t *testing.T, a, b map[string][]byte, minFiles int) {
	t.Helper()
	if len(a) != len(b) || len(a) < minFiles {
		t.Fatalf("%d and %d files", len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(b[name], data) {
			t.Errorf("builds differ in %s", name)
		}
	}
}
