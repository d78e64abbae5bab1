package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// Ensure that get prints values in argument order, reports missing keys
// on stderr with exit 1, and that batch mode streams key<TAB>value.
func TestGet(t *testing.T) {
	runGolden(t, "get", []testCase{
		{name: "values in argument order", args: []string{"get", "$DICT", "banana", "apple", "café"}},
		{name: "an empty value prints an empty line", args: []string{"get", "$DICT", "cherry", "apple"}},
		{name: "a missing key: stderr, exit 1, the others still printed", args: []string{"get", "$DICT", "apple", "nope", "banana"}},
		{name: "json lines", args: []string{"get", "--format", "json", "$DICT", "apple", "日本", "sep", "tab\tkey"}},
		{name: "global --format before the command", args: []string{"--format=json", "get", "$DICT", "cherry"}},
		{name: "--escape unescapes the key and escapes the value", args: []string{"get", "$DICT", `tab\tkey`, `line\nbreak`, "--escape"}},
		{name: "a binary key needs a shell quote; stderr shows missing keys Go-quoted", args: []string{"get", "$DICT", "\x00\xff", "\x00"}},
		{name: "a key starting with - after --", args: []string{"get", "$DICT", "--", "-apple"}},
		{name: "--missing with KEYs: lines match the keys, absent keys alone", args: []string{"get", "$DICT", "apple", "nope", "cherry", "--missing"}},
		{name: "--missing with KEYs, json", args: []string{"get", "-m", "-f", "json", "$DICT", "nope", "apple"}},
		{name: "--format raw: the value's exact bytes, no newline", args: []string{"get", "--format", "raw", "$DICT", "line\nbreak"}},
		{name: "--format raw, a binary value", args: []string{"get", "-f", "raw", "$DICT", "日本"}},
		{name: "--format raw, an absent key", args: []string{"get", "-f", "raw", "$DICT", "nope"}},
		{name: "--format raw wants exactly one KEY", args: []string{"get", "-f", "raw", "$DICT", "apple", "banana"}},
		{name: "batch mode", args: []string{"get", "$DICT"}, stdin: "apple\nnope\r\ncafé\r\ncherry\nbanana"},
		{name: "batch mode --missing: absent keys alone on their line", args: []string{"get", "$DICT", "--missing"}, stdin: "apple\nnope\ncherry\n"},
		{name: "batch mode --missing json", args: []string{"get", "-f", "json", "-m", "$DICT"}, stdin: "apple\nnope\n\x00\xff\n"},
		{name: "batch mode --escape round trip", args: []string{"get", "$DICT", "--escape"}, stdin: "tab\\tkey\nline\\nbreak\nquote\"key\n"},
		{name: "batch mode, empty stdin", args: []string{"get", "$DICT"}},
		{name: "batch mode, an empty line is the empty key", args: []string{"get", "$DICT"}, stdin: "\napple\n"},
		{name: "batch mode, all found", args: []string{"get", "$DICT"}, stdin: "user:0001\nuser:0002\n"},
		{name: "missing DICT", args: []string{"get"}},
		{name: "bad --format", args: []string{"get", "--format", "xml", "$DICT", "apple"}},
		{name: "a flag without its value", args: []string{"get", "$DICT", "apple", "--format"}},
		{name: "unknown flag", args: []string{"get", "--frobnicate", "$DICT", "apple"}},
		{name: "dictionary does not exist", args: []string{"get", "$MISSING", "apple"}},
		{name: "not a dictionary", args: []string{"get", "$NOTDICT", "apple"}},
		{name: "bad magic", args: []string{"get", "$BADMAGIC", "apple"}},
		{name: "a newer format version", args: []string{"get", "$NEWER", "apple"}},
		{name: "truncated file: open fails", args: []string{"get", "$TRUNCATED", "apple"}},
		{name: "empty dictionary", args: []string{"get", "$EMPTY", "apple"}},
	})
}

// Ensure that batch mode handles lines longer than its read buffer.
func TestGetBatchLongKey(t *testing.T) {
	fx := fixtures(t)
	long := strings.Repeat("x", 3*inBufSize)
	r := kvlookup(context.Background(), long+"\napple\n"+long, "get", fx["$DICT"], "--missing")
	if want := long + "\napple\tred\n" + long + "\n"; r.stdout != want {
		t.Errorf("stdout = %.40q..., want %.40q...", r.stdout, want)
	}
	if r.code != exitNotFound || r.stderr != "kvlookup get: 2 of 3 keys not found\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// Ensure that batch mode does not allocate per key: 10,000 lookups cost
// (almost) the same allocations as 100.
func TestGetBatchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items: allocations are not representative")
	}
	fx := fixtures(t)
	keys := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "user:%04d\nnope%d\n", i%200, i)
		}
		return b.String()
	}
	allocs := func(stdin string) float64 {
		return testing.AllocsPerRun(5, func() {
			run(context.Background(), []string{"kvlookup", "get", fx["$DICT"], "--missing"}, strings.NewReader(stdin), io.Discard, io.Discard)
		})
	}
	small, large := allocs(keys(100)), allocs(keys(10_000))
	if large-small > 50 {
		t.Errorf("batch get: %.0f allocations for 200 keys, %.0f for 20,000: it allocates per key", small, large)
	}
}

func BenchmarkGetBatch(b *testing.B) {
	fx := fixtures(b)
	var sb strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&sb, "user:%04d\n", i%200)
	}
	stdin := sb.String()
	b.SetBytes(int64(len(stdin)))
	b.ReportAllocs()
	for b.Loop() {
		run(context.Background(), []string{"kvlookup", "get", fx["$DICT"]}, strings.NewReader(stdin), io.Discard, io.Discard)
	}
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "keys/s")
}

// Ensure that a cancelled context (SIGINT in main) stops a long scan or
// batch lookup with exit 130, after flushing what was printed.
func TestInterrupted(t *testing.T) {
	ps := make([]pair, 3*checkInterval)
	var keys strings.Builder
	for i := range ps {
		ps[i] = pair{fmt.Sprintf("k%06d", i), "v"}
		fmt.Fprintf(&keys, "k%06d\n", i)
	}
	path, err := build(t.TempDir(), "big.kvd", ps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"dump", path}},
		{keys.String(), []string{"get", path}},
		{"", []string{"count", path, "--prefix", "k"}},
	} {
		r := kvlookup(ctx, tc.stdin, tc.args...)
		if lines := strings.Count(r.stdout, "\n"); r.code != exitInterrupted || lines > checkInterval || r.stderr != "kvlookup: interrupted\n" {
			t.Errorf("%s: exit %d after %d lines, stderr %q; want exit %d after at most %d lines", tc.args[0], r.code, lines, r.stderr, exitInterrupted, checkInterval)
		}
	}
}

// lineWriter sends each Write to a channel: the test sees when output
// actually leaves kvlookup's buffer.
type lineWriter chan string

func (w lineWriter) Write(b []byte) (int, error) { w <- string(b); return len(b), nil }

// Ensure batch mode answers a co-process key by key: output is flushed as
// soon as no more input is buffered, without waiting for EOF or a full
// buffer.
func TestGetBatchCoprocess(t *testing.T) {
	fx := fixtures(t)
	inR, inW := io.Pipe()
	out := make(lineWriter, 16)
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run(context.Background(), []string{"kvlookup", "get", "--missing", fx["$DICT"]}, inR, out, &stderr)
	}()
	for _, c := range []struct{ key, want string }{{"apple", "apple\tred\n"}, {"nope", "nope\n"}, {"cherry", "cherry\t\n"}} {
		if _, err := io.WriteString(inW, c.key+"\n"); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-out:
			if got != c.want {
				t.Fatalf("%s: got %q, want %q", c.key, got, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no answer before more input or EOF", c.key)
		}
	}
	inW.Close()
	if code := <-done; code != exitNotFound || stderr.String() != "kvlookup get: 1 of 3 keys not found\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
