package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Ensure --bare-keys reads a line without a TAB as a key with an empty
// value (a set, or counts with --duplicates count), and that without it
// such a line is still an error.
func TestRun_BareKeys(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "keys.txt", "apple\nbanana\napple\nkiwi\tgreen\n\napple\n")
	out := filepath.Join(dir, "d")
	if code, stderr := kvbuild(t, context.Background(), "", "-o", out, in); code != exitInput || !strings.Contains(stderr, in+":1: no TAB") {
		t.Fatalf("without --bare-keys: exit %d: %s", code, stderr)
	}
	if code, stderr := kvbuild(t, context.Background(), "", "-q", "--bare-keys", "-o", out, in); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := dump(t, out), "apple=\nbanana=\nkiwi=green\n"; got != want {
		t.Fatalf("set: got %q, want %q", got, want)
	}
	if code, stderr := kvbuild(t, context.Background(), "", "-q", "--force", "--bare-keys", "--duplicates", "count", "-o", out, in); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := dump(t, out), "apple=3\nbanana=1\nkiwi=1\n"; got != want {
		t.Fatalf("count: got %q, want %q", got, want)
	}
}

// Ensure --skip-header skips the first lines of every input, sorted or
// not, and errors still name the real line numbers.
func TestRun_SkipHeader(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.tsv", "name\tversion\nb\t1\na\t2\n")
	b := writeFile(t, dir, "b.tsv", "name\tversion\nc\t3\n")
	for _, sorted := range []string{"--sorted=false", "--sorted"} {
		out := filepath.Join(dir, "d"+sorted)
		in := []string{a, b}
		if sorted == "--sorted" {
			in = []string{writeFile(t, dir, "s.tsv", "key\tvalue\na\t2\nb\t1\n"), b}
		}
		if code, stderr := kvbuild(t, context.Background(), "", append([]string{"-q", sorted, "--skip-header", "1", "-o", out}, in...)...); code != 0 {
			t.Fatalf("%s: exit %d: %s", sorted, code, stderr)
		}
		if got, want := dump(t, out), "a=2\nb=1\nc=3\n"; got != want {
			t.Fatalf("%s: got %q, want %q", sorted, got, want)
		}
	}
	bad := writeFile(t, dir, "bad.tsv", "h1\nh2\nok\t1\nbad\n")
	if code, stderr := kvbuild(t, context.Background(), "", "--skip-header", "2", "-o", filepath.Join(dir, "x"), bad); code != exitInput || !strings.Contains(stderr, bad+":4: no TAB") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// Ensure a UTF-8 byte order mark is warned about (it is part of the first
// key), even under --quiet, for plain and compressed input.
func TestRun_BOMWarning(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "bom.tsv", "\xef\xbb\xbfa\t1\nb\t2\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("\xef\xbb\xbfc\t3\n"))
	zw.Close()
	gzIn := writeFile(t, dir, "bom.tsv.gz", gz.String())
	plain := writeFile(t, dir, "plain.tsv", "d\t4\n")
	out := filepath.Join(dir, "d")
	code, stderr := kvbuild(t, context.Background(), "", "-q", "-o", out, in, gzIn, plain)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{in, gzIn} {
		if !strings.Contains(stderr, "warning: "+f+" starts with a UTF-8 byte order mark") {
			t.Errorf("no warning for %s:\n%s", f, stderr)
		}
	}
	if strings.Contains(stderr, plain) || strings.Count(stderr, "\n") != 2 {
		t.Errorf("unexpected warnings:\n%s", stderr)
	}
	if got := dump(t, out); !strings.HasPrefix(got, "b=2\nd=4\n\ufeffa=1\n") {
		t.Errorf("dictionary: %q", got)
	}
}

// Ensure xz, bzip2, lz4 and zip input is refused with a clear message and
// the command to decompress it, from a file or from stdin.
func TestRun_UnsupportedCompression(t *testing.T) {
	dir := t.TempDir()
	for name, head := range map[string]string{
		"xz":    "\xfd7zXZ\x00\x00\x04",
		"bzip2": "BZh91AY&SY",
		"lz4":   "\x04\x22\x4d\x18\x64\x40",
		"zip":   "PK\x03\x04\x14\x00",
	} {
		f := writeFile(t, dir, "in."+name, head+"garbage")
		code, stderr := kvbuild(t, context.Background(), "", "-o", filepath.Join(dir, "d"), f)
		if code != exitIO || !strings.Contains(stderr, f+": unsupported compression: "+name+"-compressed input (only gzip and zstd are read): decompress it first") {
			t.Errorf("%s: exit %d: %s", name, code, stderr)
		}
	}
	code, stderr := kvbuild(t, context.Background(), "\xfd7zXZ\x00rest", "-o", filepath.Join(dir, "d"), "-")
	if code != exitIO || !strings.Contains(stderr, "-: unsupported compression: xz-compressed") {
		t.Errorf("stdin: exit %d: %s", code, stderr)
	}
	assertNoTemp(t, dir)
}

// Ensure the summary reports the uncompressed input size and lines/s.
func TestRun_SummaryUncompressed(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat("key\tvalue\n", 1000)))
	zw.Close()
	in := writeFile(t, dir, "in.tsv.gz", gz.String())
	code, stderr := kvbuild(t, context.Background(), "", "-o", filepath.Join(dir, "d"), in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{" B (9.8 KiB uncompressed)", "M lines/s", "/s of text"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q: %s", want, stderr)
		}
	}
}
