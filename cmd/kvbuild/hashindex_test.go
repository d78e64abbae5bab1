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

// Ensure --hash-index builds keyed records and an index file per partition
// (with spilled index runs: a small --memory over many keys), that
// --hash-index=false builds neither, and that both read back the same.
func TestRun_HashIndex(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := range 200_000 {
		k := (i * 7919) % 200_000 // every key once, unsorted
		fmt.Fprintf(&in, "key-%07d\tvalue %d\n", k, k%1000)
	}
	input := writeFile(t, dir, "in.tsv", in.String())
	var dumps []string
	for _, flag := range []string{"--hash-index", "--hash-index=false"} {
		out := filepath.Join(dir, strings.TrimLeft(flag, "-"))
		if code, stderr := kvbuild(t, context.Background(), "", "-q", flag, "--memory", "128M", "--threads", "2", "-o", out, input); code != 0 {
			t.Fatalf("%s: exit %d: %s", flag, code, stderr)
		}
		d, err := reader.Open(out, &reader.Options{Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		m := d.Manifest()
		want := flag == "--hash-index"
		if m.Has(manifest.FeatureHashIndex) != want || m.Has(manifest.FeatureKeyedRecords) != want || m.Build["hash_index"] != fmt.Sprint(want) {
			t.Fatalf("%s: features %q %q, build.hash_index %q", flag, m.Features, m.OptionalFeatures, m.Build["hash_index"])
		}
		for _, p := range m.Partitions {
			if (p.HashIndex != nil) != want {
				t.Fatalf("%s: partition index file %v", flag, p.HashIndex)
			}
		}
		v, err := d.Get([]byte("key-0000007"))
		if err != nil || !bytes.Equal(v, []byte("value 7")) {
			t.Fatalf("%s: Get = %q, %v", flag, v, err)
		}
		if _, err := d.Get([]byte("key-0200000")); !errors.Is(err, reader.ErrNotFound) {
			t.Fatalf("%s: absent key: %v", flag, err)
		}
		d.Close()
		dumps = append(dumps, dump(t, out))
		assertNoTemp(t, dir)
	}
	if dumps[0] != dumps[1] {
		t.Fatal("the dictionaries with and without the index differ")
	}
}
