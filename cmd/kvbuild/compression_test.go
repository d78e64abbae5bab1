package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/reader"
)

// Ensure --compression zstd builds a compressed dictionary (feature
// zstd-values, a trained dictionary, the ratio recorded) that reads back
// exactly what --compression none does, from a file and from standard
// input (not sampled: no dictionary, still correct), and with
// --hash-index (keyed records in groups, an index over groups); and that
// an unknown codec is a usage error.
func TestRun_Compression(t *testing.T) {
	dir := t.TempDir()
	pypi, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pypi-sample.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	// 6,000 rows keep the test quick under the race detector (zstd is
	// about 10x slower there).
	if lines := bytes.SplitAfterN(pypi, []byte("\n"), 6_001); len(lines) > 6_000 {
		pypi = bytes.Join(lines[:6_000], nil)
	}
	input := writeFile(t, dir, "in.tsv", string(pypi))
	var dumps []string
	for _, c := range []struct {
		name, flag, stdin string
		hix               bool
	}{
		{"none", "none", "", false}, {"zstd", "zstd", "", false}, {"zstd-stdin", "zstd", string(pypi), false},
		{"zstd-hix", "zstd", "", true},
	} {
		out := filepath.Join(dir, c.name)
		in := input
		if c.stdin != "" {
			in = "-"
		}
		if code, stderr := kvbuild(t, context.Background(), c.stdin, "-q", "--compression", c.flag, "--hash-index="+strconv.FormatBool(c.hix), "--threads", "2", "-o", out, in); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
		}
		d, err := reader.Open(out, &reader.Options{Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		m := d.Manifest()
		// With the index the groups hold keyed records (zstd-records).
		if m.Has(manifest.FeatureZstdValues) != (c.flag == "zstd" && !c.hix) || m.Has(manifest.FeatureZstdRecords) != c.hix ||
			m.Has(manifest.FeatureKeyedRecords) != c.hix || m.Has(manifest.FeatureHashIndex) != c.hix {
			t.Fatalf("%s: features %q, optional %q", c.name, m.Features, m.OptionalFeatures)
		}
		if reg, want := m.Build["fst.registry_table_size"], map[bool]string{true: "3000", false: "off"}[c.flag == "zstd"]; reg != want {
			t.Fatalf("%s: registry %q, want %q (zstd builds default to the registry)", c.name, reg, want)
		}
		if c.flag == "zstd" {
			r, _ := strconv.ParseFloat(m.Build["vlog.compression_ratio"], 64)
			t.Logf("%s: ratio %v", c.name, r)
			// 6,000 PyPI rows: ~1.3x with or without a dictionary (here the
			// dictionary stored in each partition costs what it saves).
			if min := map[bool]float64{true: 1.15, false: 1.1}[c.stdin == ""]; r < min {
				t.Fatalf("%s: compression ratio %v < %v", c.name, r, min)
			}
		}
		d.Close()
		dumps = append(dumps, dump(t, out))
		assertNoTemp(t, dir)
	}
	for i := 1; i < len(dumps); i++ {
		if dumps[i] != dumps[0] {
			t.Fatalf("dictionary %d dumps differently from the raw one", i)
		}
	}
	for _, args := range [][]string{{"--compression", "lz4"}} {
		code, stderr := kvbuild(t, context.Background(), "", append(args, "-o", filepath.Join(dir, "bad"), input)...)
		if code != exitUsage || !strings.Contains(stderr, "--compression") {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
}
