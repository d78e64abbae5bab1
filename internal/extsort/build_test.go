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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// memSink collects partitions and checks the builder's ordering contract.
type memSink struct {
	mu    sync.Mutex
	parts []*memPart
	fail  func(key []byte) error // optional: injected Add error
}

type memPart struct {
	sink   *memSink
	keys   [][]byte
	vals   [][]byte
	closed bool
}

func (s *memSink) NewPartition() (PartitionWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &memPart{sink: s}
	s.parts = append(s.parts, p)
	return p, nil
}

func (p *memPart) Add(k, v []byte) error {
	if n := len(p.keys); n > 0 && bytes.Compare(p.keys[n-1], k) >= 0 {
		return fmt.Errorf("memSink: out of order: %q after %q", k, p.keys[n-1])
	}
	if p.sink.fail != nil {
		if err := p.sink.fail(k); err != nil {
			return err
		}
	}
	p.keys = append(p.keys, bytes.Clone(k))
	p.vals = append(p.vals, bytes.Clone(v))
	return nil
}

func (p *memPart) Close() error { p.closed = true; return nil }

// result flattens the partitions, checking they are closed and ordered.
func (s *memSink) result(t *testing.T) (keys []string, vals map[string]string) {
	t.Helper()
	vals = map[string]string{}
	for i, p := range s.parts {
		if !p.closed {
			t.Errorf("partition %d not closed", i)
		}
		for j, k := range p.keys {
			if len(keys) > 0 && keys[len(keys)-1] >= string(k) {
				t.Fatalf("partition %d: key %q not after %q", i, k, keys[len(keys)-1])
			}
			keys = append(keys, string(k))
			vals[string(k)] = string(p.vals[j])
		}
	}
	return keys, vals
}

type line struct{ k, v string }

// oracle computes the expected dictionary for lines in input order.
func oracle(lines []line, pol Policy, sep string) map[string]string {
	m := map[string]string{}
	cnt := map[string]int64{}
	for _, l := range lines {
		old, ok := m[l.k]
		switch pol {
		case Last:
			m[l.k] = l.v
		case First:
			if !ok {
				m[l.k] = l.v
			}
		case Error:
			m[l.k] = l.v
		case Sum:
			n, _ := strconv.ParseInt(l.v, 10, 64)
			cnt[l.k] += n
			m[l.k] = strconv.FormatInt(cnt[l.k], 10)
		case Count:
			cnt[l.k]++
			m[l.k] = strconv.FormatInt(cnt[l.k], 10)
		case Concat:
			if ok {
				m[l.k] = old + sep + l.v
			} else {
				m[l.k] = l.v
			}
		}
	}
	return m
}

// genLines makes n lines over about n/dupEvery distinct keys, mixed
// URL-like and binary keys, including the empty key and keys that are
// prefixes of each other.
func genLines(r *rand.Rand, n int, numeric, unique bool) []line {
	nk := n * 3 / 4
	if unique {
		nk = n
	}
	keys := make([]string, 0, nk)
	seen := map[string]bool{}
	for len(keys) < nk {
		var k string
		switch r.IntN(4) {
		case 0:
			k = fmt.Sprintf("https://www.example%d.com/path/%d", r.IntN(50), r.IntN(100000))
		case 1:
			b := make([]byte, r.IntN(12))
			for i := range b {
				b[i] = byte(r.IntN(256))
				if b[i] == '\t' || b[i] == '\n' || b[i] == '\r' {
					b[i] = 'x'
				}
			}
			k = string(b)
		case 2:
			k = strings.Repeat("a", r.IntN(20))
		default:
			k = fmt.Sprintf("k%d", r.IntN(1000000))
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	out := make([]line, n)
	for i := range out {
		k := keys[i%len(keys)]
		if !unique && i >= len(keys) {
			k = keys[r.IntN(len(keys))]
		}
		v := fmt.Sprintf("v%d\twith tab", i)
		if numeric {
			v = strconv.Itoa(r.IntN(2000) - 1000)
		}
		out[i] = line{k, v}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// writeInputs splits lines over nfiles files in dir, in order.
func writeInputs(t *testing.T, dir string, lines []line, nfiles int) []Input {
	t.Helper()
	var ins []Input
	per := (len(lines) + nfiles - 1) / nfiles
	for f := 0; f < nfiles; f++ {
		var buf bytes.Buffer
		for _, l := range lines[min(f*per, len(lines)):min((f+1)*per, len(lines))] {
			buf.WriteString(l.k + "\t" + l.v + "\n")
		}
		name := filepath.Join(dir, fmt.Sprintf("in%d.tsv", f))
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		ins = append(ins, FileInput(name, nil))
	}
	return ins
}

func tinyOptions(dir string) *Options {
	return &Options{Memory: 1, Threads: 3, TmpDir: dir, ChunkSize: 4096, PartitionReserve: 1, noThreadCap: true}
}

// Ensure every policy matches the map oracle, in memory, spilled and sorted.
func TestBuild_Oracle(t *testing.T) {
	for _, pol := range []Policy{Last, First, Sum, Count, Concat, Error} {
		for _, mode := range []string{"memory", "spill", "sorted"} {
			t.Run(pol.String()+"/"+mode, func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(pol), 7))
				lines := genLines(r, 20000, pol == Sum, pol == Error)
				if mode == "sorted" {
					slices.SortStableFunc(lines, func(a, b line) int { return strings.Compare(a.k, b.k) })
				}
				dir := t.TempDir()
				ins := writeInputs(t, dir, lines, 3)
				tmp := filepath.Join(dir, "tmp")
				o := &Options{Memory: 1 << 30, Threads: 2, TmpDir: tmp, Duplicates: pol, Separator: []byte("|")}
				if mode == "spill" {
					o = tinyOptions(tmp)
					o.Duplicates, o.Separator = pol, []byte("|")
				}
				o.Sorted = mode == "sorted"
				sink := &memSink{}
				st, err := Build(context.Background(), ins, sink, o)
				if err != nil {
					t.Fatal(err)
				}
				keys, got := sink.result(t)
				want := oracle(lines, pol, "|")
				if len(keys) != len(want) || st.Keys != int64(len(want)) {
					t.Fatalf("got %d keys (stats %d), want %d", len(keys), st.Keys, len(want))
				}
				for k, v := range want {
					if got[k] != v {
						t.Fatalf("key %q: got %q, want %q", k, got[k], v)
					}
				}
				if st.Records != int64(len(lines)) || st.Duplicates != int64(len(lines)-len(want)) {
					t.Errorf("stats: %+v", st)
				}
				if mode == "spill" && (st.Spilled < 5 || len(sink.parts) < 2) {
					t.Errorf("spill path not exercised: %d runs spilled, %d partitions", st.Spilled, len(sink.parts))
				}
				if mode == "memory" && st.Spilled != 0 {
					t.Errorf("spilled %d runs with a big budget", st.Spilled)
				}
				if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
					t.Errorf("temporary files left: %v", ents)
				}
			})
		}
	}
}

func buildString(t *testing.T, o *Options, files map[string]string, order ...string) (*memSink, *Stats, error) {
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
	if o == nil {
		o = &Options{}
	}
	o.TmpDir = filepath.Join(dir, "tmp")
	sink := &memSink{}
	st, err := Build(context.Background(), ins, sink, o)
	return sink, st, err
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
				o := &Options{Unescape: c.unescape, Sorted: sorted}
				if strings.HasPrefix(c.name, "sum") {
					o.Duplicates = Sum
				}
				_, _, err := buildString(t, o, map[string]string{"a.tsv": c.input}, "a.tsv")
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
	sink, st, err := buildString(t, &Options{SkipInvalid: true}, map[string]string{"x.tsv": in}, "x.tsv")
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := sink.result(t)
	if len(keys) != 3 || st.Skipped != 2 || len(st.FirstSkips) != 2 {
		t.Fatalf("keys %v stats %+v", keys, st)
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
	sink, _, err := buildString(t, &Options{Unescape: true}, map[string]string{"a": in}, "a")
	if err != nil {
		t.Fatal(err)
	}
	_, got := sink.result(t)
	want := map[string]string{"k1": "v\twith\ttabs", "k2": "", "": "empty key", "k\t3": "a\nb\\c", "last": "line"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// Ensure duplicates under the error policy name the key and both places,
// across files.
func TestBuild_DuplicateError(t *testing.T) {
	for _, sorted := range []bool{false, true} {
		_, _, err := buildString(t, &Options{Duplicates: Error, Sorted: sorted},
			map[string]string{"a.tsv": "x\t1\ny\t2\n", "b.tsv": "y\t3\nz\t4\n"}, "a.tsv", "b.tsv")
		var de *DuplicateKeyError
		if !errors.As(err, &de) || de.First.String() != "a.tsv:2" || de.Second.String() != "b.tsv:1" || string(de.Key) != "y" {
			t.Fatalf("sorted=%v: got %v", sorted, err)
		}
	}
}

// Ensure --sorted rejects input out of byte order, naming the line.
func TestBuild_SortedViolation(t *testing.T) {
	_, _, err := buildString(t, &Options{Sorted: true},
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
	sink := &memSink{}
	if _, err := Build(context.Background(), ins, sink, &Options{TmpDir: dir}); err != nil {
		t.Fatal(err)
	}
	keys, _ := sink.result(t)
	if strings.Join(keys, " ") != "g1 g2 s1 z1 z2" {
		t.Fatalf("got %v", keys)
	}
}

// Ensure a build cancelled in the merge stops, removes its temporary files
// and reports the cancellation.
func TestBuild_CancelMidMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lines := genLines(r, 30000, false, false)
	dir := t.TempDir()
	ins := writeInputs(t, dir, lines, 2)
	tmp := filepath.Join(dir, "tmp")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n int
	var mu sync.Mutex
	sink := &memSink{fail: func([]byte) error {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 5000 {
			cancel()
		}
		return nil
	}}
	_, err := Build(ctx, ins, sink, tinyOptions(tmp))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestParseInt(t *testing.T) {
	for _, s := range []string{"0", "-0", "+5", "9223372036854775807", "-9223372036854775808", "00000000000000000000042"} {
		want, _ := strconv.ParseInt(s, 10, 64)
		if got, ok := parseInt([]byte(s)); !ok || got != want {
			t.Errorf("%s: got %d %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "-", "1.5", " 1", "9223372036854775808", "-9223372036854775809", "99999999999999999999", "0x10"} {
		if _, ok := parseInt([]byte(s)); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

// Ensure the multikey sort agrees with bytes.Compare then seq.
func TestSortEntries(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rb := newRunBuf(1 << 20)
	for i := 0; i < 5000; i++ {
		k := make([]byte, r.IntN(30))
		for j := range k {
			k[j] = "ab\x00\xff"[r.IntN(4)]
		}
		rb.add(k, nil, uint64(r.IntN(1000)))
	}
	rb.sort()
	for i := 1; i < len(rb.ents); i++ {
		a, b := &rb.ents[i-1], &rb.ents[i]
		c := bytes.Compare(rb.key(a), rb.key(b))
		if c > 0 || (c == 0 && a.seq > b.seq) {
			t.Fatalf("%d: %q/%d before %q/%d", i, rb.key(a), a.seq, rb.key(b), b.seq)
		}
	}
}

// Ensure the radix sort on prefixes sorts, including many equal bytes.
func TestRadixSortPfx(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 31, 33, 1000, 100000} {
		es := make([]entry, n)
		for i := range es {
			switch i % 3 {
			case 0:
				es[i].pfx = r.Uint64()
			case 1:
				es[i].pfx = r.Uint64() & 0xff00ff0000000000
			default:
				es[i].pfx = 0x6868747470733a2f | uint64(r.IntN(3))
			}
		}
		radixSortPfx(es)
		for i := 1; i < n; i++ {
			if es[i-1].pfx > es[i].pfx {
				t.Fatalf("n=%d: not sorted at %d", n, i)
			}
		}
	}
}

// Ensure ENOSPC while spilling becomes ErrDiskFull with advice.
func TestSpillError_DiskFull(t *testing.T) {
	err := spillError("/t/run-1", &os.PathError{Op: "write", Path: "/t/run-1", Err: syscall.ENOSPC})
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "--tmp-dir") {
		t.Fatalf("got %v", err)
	}
}

// Ensure lines longer than a chunk and records bigger than a run buffer
// go through, in memory and spilled.
func TestBuild_HugeLines(t *testing.T) {
	big := strings.Repeat("v", 5<<20)
	key := strings.Repeat("k", MaxKeyLen)
	in := "a\t1\n" + key + "\t" + big + "\nb\t" + big + "x\n"
	for _, o := range []*Options{{}, tinyOptions("")} {
		sink, _, err := buildString(t, o, map[string]string{"h.tsv": in + in}, "h.tsv")
		if err != nil {
			t.Fatal(err)
		}
		keys, got := sink.result(t)
		if len(keys) != 3 || got[key] != big || got["b"] != big+"x" || got["a"] != "1" {
			t.Fatalf("keys %d", len(keys))
		}
	}
}

// Ensure a small budget caps the threads instead of making tiny runs.
func TestOptions_ThreadCap(t *testing.T) {
	o := (&Options{Memory: 256 << 20, Threads: 8}).withDefaults()
	if o.Threads < 1 || o.Threads > 3 {
		t.Fatalf("threads %d for 256 MiB", o.Threads)
	}
	if o := (&Options{Memory: 4 << 30, Threads: 8}).withDefaults(); o.Threads != 8 {
		t.Fatalf("threads %d for 4 GiB", o.Threads)
	}
	if o := (&Options{Memory: 1, Threads: 8}).withDefaults(); o.Threads != 1 {
		t.Fatalf("threads %d for 1 byte", o.Threads)
	}
}
