package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/hashindex"
)

// Ensure that batch mode over a hash-indexed dictionary prints every
// answer in input order, across batches split over two goroutines, with
// hits, misses, repeats and CRLF lines.
func TestGetBatchHashIndex(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "h.kvd")
	b, err := builder.Create(dir, &builder.Options{HashIndex: &hashindex.WriterOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20_000 {
		if err := b.Add(fmt.Appendf(nil, "k%06d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	var in, want strings.Builder
	missing := 0
	for i := range 30_000 {
		k := (i * 7919) % 25_000 // some absent, some repeated
		eol := "\n"
		if i%5 == 0 {
			eol = "\r\n"
		}
		fmt.Fprintf(&in, "k%06d%s", k, eol)
		if k < 20_000 {
			fmt.Fprintf(&want, "k%06d\tv%d\n", k, k)
		} else {
			fmt.Fprintf(&want, "k%06d\n", k)
			missing++
		}
	}
	r := kvlookup(context.Background(), in.String(), "get", dir, "--missing")
	if r.stdout != want.String() {
		t.Fatalf("output differs from the expected %d lines (got %d bytes, want %d)", 30_000, len(r.stdout), want.Len())
	}
	if r.code != exitNotFound || !strings.Contains(r.stderr, fmt.Sprintf("%d of 30000 keys not found", missing)) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
