package extsort

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/oracle"
	"github.com/kvdict/kvdict/reader"
)

// Ensure the parser's key limit is the format's.
func TestMaxKeyLen(t *testing.T) {
	if MaxKeyLen != fst.MaxKeyLen {
		t.Fatalf("MaxKeyLen %d, fst.MaxKeyLen %d", MaxKeyLen, fst.MaxKeyLen)
	}
}

// readDict reads a dictionary back as a map.
func readDict(t *testing.T, path string) (keys []string, vals map[string]string) {
	t.Helper()
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	vals = map[string]string{}
	it := d.All()
	defer it.Close()
	for it.Next() {
		keys = append(keys, string(it.Key()))
		vals[string(it.Key())] = string(it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return keys, vals
}

// writeInputs splits lines over nfiles files in dir, in order.
func writeInputs(t *testing.T, dir string, lines []oracle.Record, nfiles int) []Input {
	t.Helper()
	var ins []Input
	per := (len(lines) + nfiles - 1) / nfiles
	for f := 0; f < nfiles; f++ {
		var buf bytes.Buffer
		for _, l := range lines[min(f*per, len(lines)):min((f+1)*per, len(lines))] {
			buf.WriteString(l.Key + "\t" + l.Value + "\n")
		}
		name := filepath.Join(dir, fmt.Sprintf("in%d.tsv", f))
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		ins = append(ins, FileInput(name, nil))
	}
	return ins
}

// buildDict runs Build into a new Sorter at dir/d.kvd.
func buildDict(t *testing.T, dir string, ins []Input, so *builder.SortOptions, o *Options) (string, *Stats, error) {
	t.Helper()
	path := filepath.Join(dir, "d.kvd")
	s, err := builder.NewSorter(path, so)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	st, err := Build(context.Background(), ins, s, o)
	if err == nil {
		err = s.Commit()
	}
	return path, st, err
}

// Ensure records reach the Sorter with file-then-line order as their
// sequence: the oracle over the lines in input order holds for the
// order-dependent policies, spread over several files, in memory, spilled
// and sorted. (builder's TestSorter_Policies covers every policy.)
func TestBuild_InputOrder(t *testing.T) {
	for _, pol := range []string{"last", "first", "concat"} {
		for _, mode := range []string{"memory", "spill", "sorted"} {
			t.Run(pol+"/"+mode, func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(len(pol)), 7))
				lines := oracle.Generate(r, 20000, false, false, true)
				if mode == "sorted" {
					slices.SortStableFunc(lines, func(a, b oracle.Record) int { return strings.Compare(a.Key, b.Key) })
				}
				dir := t.TempDir()
				ins := writeInputs(t, dir, lines, 3)
				p, _ := builder.ParsePolicy(pol, []byte("|"))
				tmp := filepath.Join(dir, "tmp")
				so := &builder.SortOptions{Duplicates: p, Threads: 2, TempDir: tmp, Sorted: mode == "sorted"}
				o := &Options{}
				if mode == "spill" {
					so.Memory = 1 // 64 KiB runs, one thread
					o.ChunkSize = 4096
				}
				path, st, err := buildDict(t, dir, ins, so, o)
				if err != nil {
					t.Fatal(err)
				}
				_, got := readDict(t, path)
				want := oracle.Fold(pol, "|", lines)
				if len(got) != len(want) || st.Keys != int64(len(want)) || st.Lines != int64(len(lines)) {
					t.Fatalf("got %d keys (stats %+v), want %d", len(got), st, len(want))
				}
				for k, v := range want {
					if got[k] != v {
						t.Fatalf("key %q: got %q, want %q", k, got[k], v)
					}
				}
				if mode == "spill" && st.Spilled < 5 {
					t.Errorf("spill path not exercised: %d runs spilled", st.Spilled)
				}
				if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
					t.Errorf("temporary files left: %v", ents)
				}
			})
		}
	}
}

func buildString(t *testing.T, so *builder.SortOptions, o *Options, files map[string]string, order ...string) (map[string]string, *Stats, error) {
	t.Helper()
	dir := t.TempDir()
	var ins []Input
	for _, name := range order {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		in := FileInput(p, nil)
		in.Name = name
		ins = append(ins, in)
	}
	if so == nil {
		so = &builder.SortOptions{}
	}
	so.TempDir = filepath.Join(dir, "tmp")
	path, st, err := buildDict(t, dir, ins, so, o)
	if err != nil {
		return nil, st, err
	}
	_, got := readDict(t, path)
	return got, st, nil
}

// Ensure every kind of bad line is reported with file:line and reason.
func TestBuild_BadLines(t *testing.T) {
	long := strings.Repeat("k", MaxKeyLen+1)
	cases := []struct {
		name, input string
		unescape    bool
		want        string
	}{
		{"notab", "a\t1\nb\t2\nnotab\n", false, "a.tsv:3: no TAB between key and value"},
		{"notab-crlf", "a\t1\r\n\r\nnotab\r\n", false, "a.tsv:3: no TAB between key and value"},
		{"longkey", "a\t1\n" + long + "\tv\n", false, "a.tsv:2: key is 65536 bytes, longer than the 65535 bytes the format can hold"},
		{"badescape-key", "a\\x\t1\n", true, "a.tsv:1: bad escape in key"},
		{"badescape-value", "a\t1\nb\t2\\\n", true, "a.tsv:2: bad escape in value"},
		{"sum-nonint", "a\t1\nb\tx\n", false, "a.tsv:2: value \"x\" is not a decimal int64"},
		{"sum-overflow", "a\t9223372036854775807\na\t1\n", false, "a.tsv:2: sum for key \"a\" overflows int64"},
	}
	for _, c := range cases {
		for _, sorted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/sorted=%v", c.name, sorted), func(t *testing.T) {
				so := &builder.SortOptions{Sorted: sorted}
				if strings.HasPrefix(c.name, "sum") {
					so.Duplicates = builder.Sum
				}
				_, _, err := buildString(t, so, &Options{Unescape: c.unescape}, map[string]string{"a.tsv": c.input}, "a.tsv")
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v, want %q", err, c.want)
				}
				if !errors.Is(err, ErrInvalidInput) {
					t.Errorf("%v does not wrap ErrInvalidInput", err)
				}
			})
		}
	}
}

// Ensure --skip-invalid skips bad lines and reports the first ones.
func TestBuild_SkipInvalid(t *testing.T) {
	in := "a\t1\nbad1\nb\t2\n\nbad2\nc\t3"
	got, st, err := buildString(t, nil, &Options{SkipInvalid: true}, map[string]string{"x.tsv": in}, "x.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || st.Skipped != 2 || len(st.FirstSkips) != 2 {
		t.Fatalf("keys %v stats %+v", got, st)
	}
	if got := st.FirstSkips[0].Error(); got != "x.tsv:2: no TAB between key and value" {
		t.Errorf("first skip: %s", got)
	}
	if got := st.FirstSkips[1].Place.String(); got != "x.tsv:5" {
		t.Errorf("second skip: %s", got)
	}
}

// Ensure the input rules: later TABs kept, \r\n stripped, empty lines
// skipped, last line without newline, unescaping.
func TestBuild_InputRules(t *testing.T) {
	in := "k1\tv\twith\ttabs\r\n\n\r\nk2\t\n\tempty key\nk\\t3\ta\\nb\\\\c\nlast\tline"
	got, _, err := buildString(t, nil, &Options{Unescape: true}, map[string]string{"a": in}, "a")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"k1": "v\twith\ttabs", "k2": "", "": "empty key", "k\t3": "a\nb\\c", "last": "line"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// Ensure duplicates under the error policy name the key and both places,
// across files.
func TestBuild_DuplicateError(t *testing.T) {
	for _, sorted := range []bool{false, true} {
		_, _, err := buildString(t, &builder.SortOptions{Duplicates: builder.Reject, Sorted: sorted}, nil,
			map[string]string{"a.tsv": "x\t1\ny\t2\n", "b.tsv": "y\t3\nz\t4\n"}, "a.tsv", "b.tsv")
		var de *DuplicateKeyError
		if !errors.As(err, &de) || de.First.String() != "a.tsv:2" || de.Second.String() != "b.tsv:1" || string(de.Key) != "y" {
			t.Fatalf("sorted=%v: got %v", sorted, err)
		}
	}
}

// Ensure --sorted rejects input out of byte order, naming the line.
func TestBuild_SortedViolation(t *testing.T) {
	_, _, err := buildString(t, &builder.SortOptions{Sorted: true}, nil,
		map[string]string{"a.tsv": "a\t1\nb\t2\n", "b.tsv": "c\t1\nB\t2\n"}, "a.tsv", "b.tsv")
	var oe *OrderError
	if !errors.As(err, &oe) || oe.Place.String() != "b.tsv:2" || oe.PrevPlace.String() != "b.tsv:1" {
		t.Fatalf("got %v", err)
	}
}

// Ensure .gz and .zst inputs are decompressed, whatever their names, and
// stdin works.
func TestBuild_CompressedAndStdin(t *testing.T) {
	dir := t.TempDir()
	var gz, zs bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("g1\tgzip\ng2\tgzip\n"))
	zw.Close()
	ze, _ := zstd.NewWriter(&zs)
	ze.Write([]byte("z1\tzstd\nz2\tzstd"))
	ze.Close()
	os.WriteFile(filepath.Join(dir, "a.gz"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "b.data"), zs.Bytes(), 0o644)
	ins := []Input{
		FileInput(filepath.Join(dir, "a.gz"), nil),
		FileInput(filepath.Join(dir, "b.data"), nil),
		FileInput("-", strings.NewReader("s1\tstdin\n")),
	}
	path, _, err := buildDict(t, dir, ins, &builder.SortOptions{TempDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := readDict(t, path)
	if strings.Join(keys, " ") != "g1 g2 s1 z1 z2" {
		t.Fatalf("got %v", keys)
	}
}

// Ensure lines longer than a chunk and records bigger than a run buffer
// go through, in memory and spilled.
func TestBuild_HugeLines(t *testing.T) {
	big := strings.Repeat("v", 5<<20)
	key := strings.Repeat("k", MaxKeyLen)
	in := "a\t1\n" + key + "\t" + big + "\nb\t" + big + "x\n"
	for _, mem := range []int64{0, 1} {
		got, st, err := buildString(t, &builder.SortOptions{Memory: mem}, &Options{ChunkSize: 4096}, map[string]string{"h.tsv": in + in}, "h.tsv")
		if err != nil {
			t.Fatal(err)
		}
		if mem == 1 && st.Spilled == 0 {
			t.Error("nothing spilled")
		}
		if len(got) != 3 || got[key] != big || got["b"] != big+"x" || got["a"] != "1" {
			t.Fatalf("keys %d", len(got))
		}
	}
}
