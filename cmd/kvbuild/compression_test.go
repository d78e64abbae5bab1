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
// input (not sampled: no dictionary, still correct);
// and that bad or unsupported combinations are usage errors.
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
	for _, c := range []struct{ name, flag, stdin string }{
		{"none", "none", ""}, {"zstd", "zstd", ""}, {"zstd-stdin", "zstd", string(pypi)},
	} {
		out := filepath.Join(dir, c.name)
		in := input
		if c.stdin != "" {
			in = "-"
		}
		if code, stderr := kvbuild(t, context.Background(), c.stdin, "-q", "--compression", c.flag, "--threads", "2", "-o", out, in); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
		}
		d, err := reader.Open(out, &reader.Options{Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		m := d.Manifest()
		if m.Has(manifest.FeatureZstdValues) != (c.flag == "zstd") || m.Has(manifest.FeatureKeyedRecords) {
			t.Fatalf("%s: features %q", c.name, m.Features)
		}
		if reg, want := m.Build["fst.registry_table_size"], map[bool]string{true: "10000", false: "off"}[c.flag == "zstd"]; reg != want {
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
	if dumps[0] != dumps[1] || dumps[0] != dumps[2] {
		t.Fatal("compressed and raw dictionaries dump differently")
	}
	for _, args := range [][]string{{"--compression", "lz4"}, {"--compression", "zstd", "--hash-index"}} {
		code, stderr := kvbuild(t, context.Background(), "", append(args, "-o", filepath.Join(dir, "bad"), input)...)
		if code != exitUsage || !strings.Contains(stderr, "--compression") {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
}
