package extsort

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/kvdict/kvdict/builder"
)

// truncLines is enough rows that the compressed stream spans several
// blocks and several of the reader's 4 KiB chunks.
func truncLines() []byte {
	var b bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&b, "key-%05d\tvalue number %d for a row that compresses well\n", i, i*7919%10007)
	}
	return b.Bytes()
}

func compressGzip(t *testing.T, p []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(p)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compressZstd(t *testing.T, p []byte) []byte {
	var b bytes.Buffer
	// Small windows and blocks, as a streaming writer of a big file makes.
	w, err := zstd.NewWriter(&b, zstd.WithWindowSize(1<<10), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(p)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Ensure a compressed input cut at any offset fails the build with
// ErrTruncated naming the file, instead of building from the rows before the
// cut (an interrupted copy of part-*.tsv.gz used to build "successfully").
func TestBuild_TruncatedCompressedInput(t *testing.T) {
	plain := truncLines()
	for _, c := range []struct {
		kind string
		data []byte
	}{
		{"gzip", compressGzip(t, plain)},
		{"zstd", compressZstd(t, plain)},
	} {
		t.Run(c.kind, func(t *testing.T) {
			// The whole stream builds every row.
			path, _, err := buildOne(t, "whole."+c.kind, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if keys, _ := readDict(t, path); len(keys) != 3000 {
				t.Fatalf("whole stream: %d keys, want 3000", len(keys))
			}
			// Every cut from the first byte after the magic to the last
			// byte: early cuts, cuts inside every block and, for gzip, a
			// stream missing only (part of) its 8-byte trailer.
			step := max(1, len(c.data)/97)
			var cuts []int
			for n := 4; n < len(c.data); n += step {
				cuts = append(cuts, n)
			}
			for n := max(4, len(c.data)-12); n < len(c.data); n++ {
				cuts = append(cuts, n)
			}
			for _, n := range cuts {
				name := fmt.Sprintf("part-%d.%s", n, c.kind)
				_, _, err := buildOne(t, name, c.data[:n])
				if err == nil {
					t.Fatalf("cut at %d of %d bytes: build succeeded", n, len(c.data))
				}
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("cut at %d of %d bytes: %v, want ErrTruncated", n, len(c.data), err)
				}
				if !strings.Contains(err.Error(), name) {
					t.Fatalf("cut at %d: error %q does not name the file", n, err)
				}
			}
		})
	}
}

func buildOne(t *testing.T, name string, data []byte) (string, *Stats, error) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	in := FileInput(p, nil)
	in.Name = name
	so := &builder.SortOptions{TempDir: filepath.Join(dir, "tmp")}
	return buildDict(t, dir, []Input{in}, so, &Options{ChunkSize: 4096})
}
