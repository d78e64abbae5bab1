package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/reader"
)

// Ensure --fst-top is on by default without --hash-index and --compression
// zstd and off with either, that --fst-top=false and --hash-index
// --fst-top (or --compression zstd --fst-top) override the defaults,
// and that every variant reads back the same.
func TestRun_FSTTop(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := range 50_000 {
		k := (i * 7919) % 50_000
		fmt.Fprintf(&in, "https://site%d.example/p/%07d\tvalue %d\n", k%97, k, k%1000)
	}
	input := writeFile(t, dir, "in.tsv", in.String())
	var dumps []string
	for i, tc := range []struct {
		flags []string
		want  bool
	}{
		{nil, true},
		{[]string{"--fst-top=false"}, false},
		{[]string{"--hash-index"}, false},
		{[]string{"--hash-index", "--fst-top"}, true},
		{[]string{"--compression", "zstd"}, false},
		{[]string{"--compression", "zstd", "--fst-top"}, true},
	} {
		out := filepath.Join(dir, fmt.Sprintf("d%d", i))
		args := append([]string{"-q", "--threads", "2", "-o", out}, tc.flags...)
		if code, stderr := kvbuild(t, context.Background(), "", append(args, input)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.flags, code, stderr)
		}
		d, err := reader.Open(out, &reader.Options{Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		m := d.Manifest()
		if m.Has(manifest.FeatureFSTTop) != tc.want || (m.Build["fst_top"] == "true") != tc.want {
			t.Fatalf("%v: optional features %q, build.fst_top %q; want top files %v", tc.flags, m.OptionalFeatures, m.Build["fst_top"], tc.want)
		}
		for _, p := range m.Partitions {
			if (p.Top != nil) != tc.want {
				t.Fatalf("%v: partition top file %v", tc.flags, p.Top)
			}
		}
		v, err := d.Get([]byte("https://site7.example/p/0000007"))
		if err != nil || !bytes.Equal(v, []byte("value 7")) {
			t.Fatalf("%v: Get = %q, %v", tc.flags, v, err)
		}
		if _, err := d.Get([]byte("https://site7.example/p/0000008")); !errors.Is(err, reader.ErrNotFound) {
			t.Fatalf("%v: absent key: %v", tc.flags, err)
		}
		d.Close()
		dumps = append(dumps, dump(t, out))
		assertNoTemp(t, dir)
	}
	for i := range dumps {
		if dumps[i] != dumps[0] {
			t.Fatalf("dictionary %d reads differently from dictionary 0", i)
		}
	}
}
