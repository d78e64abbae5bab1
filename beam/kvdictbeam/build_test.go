package kvdictbeam

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/klauspost/compress/zstd"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/extsort"
	"github.com/kvdict/kvdict/reader"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	os.Exit(m.Run())
}

// run builds o on the in-process Prism runner.
func run(t *testing.T, o Options) (beam.PipelineResult, error) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if err := Build(s, o); err != nil {
		t.Fatalf("Build: %v", err)
	}
	return prism.Execute(context.Background(), p)
}

// kvbuild builds files in order into out through kvbuild's own pipeline
// (extsort.Build into a Sorter, as cmd/kvbuild does): the reference.
func kvbuild(t *testing.T, out string, files []string, o Options) error {
	t.Helper()
	o, err := o.resolved()
	if err != nil {
		t.Fatal(err)
	}
	pol, err := o.policy()
	if err != nil {
		t.Fatal(err)
	}
	s, err := builder.NewSorter(out, &builder.SortOptions{Duplicates: pol, TempDir: t.TempDir(), Memory: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var ins []extsort.Input
	for _, f := range files {
		ins = append(ins, extsort.FileInput(f, nil))
	}
	if _, err := extsort.Build(context.Background(), ins, s, &extsort.Options{Unescape: o.Unescape, KeyOnly: o.BareKeys}); err != nil {
		return err
	}
	return s.Commit()
}

// dump returns every key and value of the dictionary at path, in order,
// after checking its checksums.
func dump(t *testing.T, path string) []string {
	t.Helper()
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Verify(); err != nil {
		t.Fatalf("verify %s: %v", path, err)
	}
	var out []string
	it := d.All()
	for it.Next() {
		out = append(out, fmt.Sprintf("%q\t%q", it.Key(), it.Value()))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != d.Len() {
		t.Fatalf("%s: %d keys iterated, Len %d", path, len(out), d.Len())
	}
	return out
}

func sameDump(t *testing.T, got, want string) {
	t.Helper()
	g, w := dump(t, got), dump(t, want)
	if len(g) != len(w) {
		t.Fatalf("%d keys, kvbuild has %d", len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("entry %d: %s, kvbuild has %s", i, g[i], w[i])
		}
	}
	if len(w) == 0 {
		return
	}
	t.Logf("%d keys equal to kvbuild's", len(w))
}

// testKeys are key shapes that break naive code: bytes 0x00 and 0xff,
// UTF-8, keys of thousands of bytes, URL-like keys sharing prefixes.
func testKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		switch i % 10 {
		case 0:
			keys[i] = append([]byte{0x00, 0x01, 0xfe, 0xff, byte('a' + i%26)}, strconv.Itoa(i)...)
		case 1:
			keys[i] = []byte(fmt.Sprintf("clé-%d-日本", i))
		case 2:
			keys[i] = []byte(strings.Repeat("L", 1000+i) + strconv.Itoa(i))
		default:
			keys[i] = []byte(fmt.Sprintf("https://host%d.example.com/p/%d", i%37, i))
		}
	}
	return keys
}

// writeInputs writes four files of rows over a shared key set (so keys
// repeat within and across files): a.tsv (\n), b.tsv (\r\n and empty
// lines), c.tsv.gz (gzip) and d.tsv.zst (zstd). numeric values suit sum.
// unique gives every row its own key.
func writeInputs(t *testing.T, dir string, numeric, unique bool) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	keys := testKeys(1500)
	next := 0
	for fi, name := range []string{"a.tsv", "b.tsv", "c.tsv.gz", "d.tsv.zst"} {
		var buf bytes.Buffer
		for i := range 2000 {
			var k []byte
			if unique {
				k = []byte(fmt.Sprintf("u%07d-%s", next*7919%100003, keys[next%len(keys)]))
				next++
			} else {
				k = keys[r.IntN(len(keys))]
			}
			var v string
			switch {
			case numeric:
				v = strconv.Itoa(r.IntN(2000) - 500)
			case i%5 == 0:
				v = ""
			case i%5 == 1:
				v = fmt.Sprintf("tab\tin value %d/%d", fi, i)
			default:
				v = fmt.Sprintf("v%d/%d", fi, i)
			}
			buf.Write(k)
			buf.WriteString("\t" + v)
			if fi == 1 {
				buf.WriteString("\r\n")
				if i%97 == 0 {
					buf.WriteString("\n")
				}
			} else {
				buf.WriteString("\n")
			}
		}
		data := buf.Bytes()
		switch filepath.Ext(name) {
		case ".gz":
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(data)
			w.Close()
			data = z.Bytes()
		case ".zst":
			e, _ := zstd.NewWriter(nil)
			data = e.EncodeAll(data, nil)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Globs in an order that is not the names' order: b.tsv first, then the
// compressed files, then a.tsv. The reference reads the files in the
// order the globs give them.
func globs(dir string) (in, ordered []string) {
	in = []string{filepath.Join(dir, "b.tsv"), filepath.Join(dir, "*.tsv.*"), filepath.Join(dir, "a.tsv")}
	ordered = []string{"b.tsv", "c.tsv.gz", "d.tsv.zst", "a.tsv"}
	for i := range ordered {
		ordered[i] = filepath.Join(dir, ordered[i])
	}
	return in, ordered
}

// TestBuildMatchesKvbuild builds the same files through the pipeline on
// Prism and through kvbuild's pipeline, under every duplicate policy, and
// compares the dumps. Small initial byte ranges (4 KiB) make the plain
// files' lines straddle range boundaries.
func TestBuildMatchesKvbuild(t *testing.T) {
	for _, tc := range []struct {
		policy, sep string
		numeric     bool
		unique      bool
		parts       int
	}{
		{policy: "last", parts: 5},
		{policy: "first", parts: 3},
		{policy: "concat", sep: "|", parts: 5},
		{policy: "sum", numeric: true, parts: 4},
		{policy: "count", parts: 1},
		{policy: "error", unique: true, parts: 6},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			in := t.TempDir()
			writeInputs(t, in, tc.numeric, tc.unique)
			inputs, ordered := globs(in)
			out := t.TempDir()
			o := Options{Inputs: inputs, Output: filepath.Join(out, "beam.kvd"), Parts: tc.parts,
				Duplicates: tc.policy, Separator: tc.sep, blockSize: 4096, TempDir: t.TempDir()}
			res, err := run(t, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := kvbuild(t, filepath.Join(out, "kvbuild.kvd"), ordered, o); err != nil {
				t.Fatal(err)
			}
			sameDump(t, filepath.Join(out, "beam.kvd"), filepath.Join(out, "kvbuild.kvd"))
			if _, err := os.Stat(o.Output + ".parts"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("parts directory left behind: %v", err)
			}
			if rows := counter(res, CounterRows); rows != 8000 {
				t.Errorf("rows counter %d, want 8000", rows)
			}
			d, err := reader.Open(o.Output, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if n := len(d.Manifest().Partitions); n != tc.parts {
				t.Errorf("%d partitions, want one per part (%d)", n, tc.parts)
			}
		})
	}
}

// failDir is a directory for the output of a pipeline that fails: Prism
// reports the failure while workers may still finish other ranges' parts
// in it, so its removal is retried for a while (t.TempDir's would fail).
func failDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "kvbeam-fail-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; ; i++ {
			err := os.RemoveAll(dir)
			if err == nil || i == 50 {
				if err != nil {
					t.Errorf("removing %s: %v", dir, err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

func counter(res beam.PipelineResult, name string) int64 {
	if res == nil {
		return -1
	}
	var n int64
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Namespace() == "kvdict" && c.Name() == name {
			n += c.Result()
		}
	}
	return n
}

// TestBuildDuplicateError: under "error" a duplicate fails the pipeline
// naming the key and both places (file and byte offset), and nothing is
// written at the output.
func TestBuildDuplicateError(t *testing.T) {
	in := t.TempDir()
	a, b := filepath.Join(in, "a.tsv"), filepath.Join(in, "b.tsv")
	os.WriteFile(a, []byte("x\t1\ndup\t2\n"), 0o644)
	os.WriteFile(b, []byte("y\t3\nzz\t4\ndup\t5\n"), 0o644)
	out := filepath.Join(failDir(t), "d.kvd")
	_, err := run(t, Options{Inputs: []string{filepath.Join(in, "*.tsv")}, Output: out, Parts: 2, Duplicates: "error"})
	if err == nil {
		t.Fatal("duplicate key accepted under error")
	}
	for _, want := range []string{`duplicate key "dup"`, a + ", the line at byte offset 4", b + ", the line at byte offset 9"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output exists after a failed build: %v", err)
	}
}

// TestBuildBadLine: a line without a TAB fails the pipeline naming the
// file and the line's byte offset, as kvbuild names FILE:LINE.
func TestBuildBadLine(t *testing.T) {
	in := filepath.Join(t.TempDir(), "bad.tsv")
	os.WriteFile(in, []byte("good\tv\nno tab here\nlast\tv\n"), 0o644)
	out := filepath.Join(failDir(t), "d.kvd")
	_, err := run(t, Options{Inputs: []string{in}, Output: out, Parts: 2})
	if err == nil || !strings.Contains(err.Error(), in+": the line at byte offset 7: no TAB between key and value") {
		t.Fatalf("want the file, offset and reason, got %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output exists after a failed build: %v", err)
	}
}

// TestBuildRemoteParts puts the parts in an object store (Beam's memfs,
// shared with Prism's in-process workers): each part is built on local
// disk and uploaded, the join downloads them, and the uploads are deleted
// after the join.
func TestBuildRemoteParts(t *testing.T) {
	in := t.TempDir()
	writeInputs(t, in, false, false)
	inputs, ordered := globs(in)
	out := t.TempDir()
	o := Options{Inputs: inputs, Output: filepath.Join(out, "beam.kvd"), PartsDir: "memfs://kvbeam-test/parts", Parts: 3, TempDir: t.TempDir()}
	if _, err := run(t, o); err != nil {
		t.Fatal(err)
	}
	if err := kvbuild(t, filepath.Join(out, "kvbuild.kvd"), ordered, o); err != nil {
		t.Fatal(err)
	}
	sameDump(t, filepath.Join(out, "beam.kvd"), filepath.Join(out, "kvbuild.kvd"))
	fs := memfs.New(context.Background())
	left, err := fs.List(context.Background(), "memfs://kvbeam-test/parts/*")
	if err != nil || len(left) != 0 {
		t.Errorf("uploaded parts left after the join: %v %v", left, err)
	}
}

// TestBuildEmpty: inputs without a row give an empty dictionary, as
// kvbuild does (one empty part covers the whole key space).
func TestBuildEmpty(t *testing.T) {
	in := filepath.Join(t.TempDir(), "empty.tsv")
	os.WriteFile(in, []byte("\n\r\n"), 0o644)
	out := t.TempDir()
	o := Options{Inputs: []string{in}, Output: filepath.Join(out, "beam.kvd"), Parts: 4}
	if _, err := run(t, o); err != nil {
		t.Fatal(err)
	}
	if err := kvbuild(t, filepath.Join(out, "kvbuild.kvd"), []string{in}, o); err != nil {
		t.Fatal(err)
	}
	sameDump(t, filepath.Join(out, "beam.kvd"), filepath.Join(out, "kvbuild.kvd"))
}

// TestBuildNoMatch: a glob that matches nothing is an error, not an empty
// dictionary.
func TestBuildNoMatch(t *testing.T) {
	out := filepath.Join(failDir(t), "d.kvd")
	_, err := run(t, Options{Inputs: []string{filepath.Join(t.TempDir(), "*.tsv")}, Output: out})
	if err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Fatalf("want 'matches no file', got %v", err)
	}
}
