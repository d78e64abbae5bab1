package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

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

// Ensure that batch mode gives the same output whatever sizes stdin's
// reads come in (one byte at a time: every line split across chunks), keeps
// an unterminated last line (with its \r, which only a following \n
// removes), and on a read error prints the answers of the whole lines
// before it, then exits 4.
func TestGetBatchReadShapes(t *testing.T) {
	fx := fixtures(t)
	const stdin = "apple\r\nnope\n\ncherry\nbanana\napple\r"
	const want = "apple\tred\nnope\n\tthe empty key\ncherry\t\nbanana\tyellow\napple\r\n"
	for _, tc := range []struct {
		name string
		in   io.Reader
	}{
		{"whole", strings.NewReader(stdin)},
		{"one byte per read", iotest.OneByteReader(strings.NewReader(stdin))},
		{"half per read", iotest.HalfReader(strings.NewReader(stdin))},
		{"data with EOF", iotest.DataErrReader(strings.NewReader(stdin))},
	} {
		var out, errb strings.Builder
		code := run(context.Background(), []string{"kvlookup", "get", "--missing", fx["$DICT"]}, tc.in, &out, &errb)
		if out.String() != want || code != exitNotFound || errb.String() != "kvlookup get: 2 of 6 keys not found\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", tc.name, code, out.String(), errb.String(), want)
		}
	}
	in := io.MultiReader(strings.NewReader("apple\nbanana\nche"), iotest.ErrReader(errors.New("disk on fire")))
	var out, errb strings.Builder
	code := run(context.Background(), []string{"kvlookup", "get", fx["$DICT"]}, in, &out, &errb)
	if out.String() != "apple\tred\nbanana\tyellow\n" || code != exitIO || !strings.Contains(errb.String(), "reading stdin: disk on fire") {
		t.Errorf("read error: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}
