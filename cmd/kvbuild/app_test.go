package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/kvdict/kvdict/internal/oracle"
	"github.com/kvdict/kvdict/reader"
)

// kvbuild runs the app in-process and returns its exit code and stderr.
func kvbuild(t *testing.T, ctx context.Context, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runIO(ctx, append([]string{"kvbuild"}, args...), strings.NewReader(stdin), &out, &errb)
	if out.Len() > 0 && !strings.Contains(strings.Join(args, " "), "-h") {
		t.Errorf("unexpected stdout: %q", out.String())
	}
	return code, errb.String()
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dump reads a dictionary back as "k=v" lines.
func dump(t *testing.T, path string) string {
	t.Helper()
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var b strings.Builder
	it := d.All()
	defer it.Close()
	for it.Next() {
		fmt.Fprintf(&b, "%s=%s\n", it.Key(), it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Ensure a build from two files and stdin applies the default policy
// (later file wins) and is readable.
func TestRun_Build(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.tsv", "b\t1\na\t1\r\n\nc\tx\ty\n")
	b := writeFile(t, dir, "b.tsv", "a\t2\nd\t4")
	out := filepath.Join(dir, "dict")
	code, stderr := kvbuild(t, context.Background(), "e\t5\na\t3\n", "-o", out, a, b, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, want := dump(t, out), "a=3\nb=1\nc=x\ty\nd=4\ne=5\n"; got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(stderr, "5 keys from 7 lines (2 duplicates resolved, 0 lines skipped)") {
		t.Errorf("summary: %s", stderr)
	}
	// --quiet prints nothing; --force replaces.
	code, stderr = kvbuild(t, context.Background(), "", "-q", "--force", "--duplicates", "concat", "--separator", `\t`, "-o", out, a, b)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	if got, want := dump(t, out), "a=1\t2\nb=1\nc=x\ty\nd=4\n"; got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// Ensure the spill path through the CLI, with a tiny --memory and the count
// policy, matches the expected counts.
func TestRun_SpillCount(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := 0; i < 30000; i++ {
		fmt.Fprintf(&in, "key%05d\tv\n", i%7000)
	}
	p := writeFile(t, dir, "in.tsv", in.String())
	out := filepath.Join(dir, "dict")
	code, stderr := kvbuild(t, context.Background(), "", "--memory", "1K", "--threads", "2", "--duplicates", "count", "-o", out, p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	d, err := reader.Open(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Len() != 7000 {
		t.Fatalf("%d keys", d.Len())
	}
	for _, k := range []string{"key00000", "key01999", "key06999"} {
		v, err := d.Get([]byte(k))
		want := "5"
		if k == "key06999" {
			want = "4"
		}
		if err != nil || string(v) != want {
			t.Errorf("%s: %q %v", k, v, err)
		}
	}
	if !strings.Contains(stderr, "runs") || strings.Contains(stderr, "spilled 0 B") {
		t.Errorf("expected spilled runs: %s", stderr)
	}
	assertNoTemp(t, dir)
}

// assertNoTemp checks that only inputs and dictionaries remain in dir.
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// Ensure each failure has its exit code and message, and that a failed
// build leaves no dictionary and no temporary files.
func TestRun_Errors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.tsv", "a\t1\n")
	bad := writeFile(t, dir, "bad.tsv", "a\t1\nnotab\n")
	dup := writeFile(t, dir, "dup.tsv", "a\t1\nb\t2\na\t3\n")
	unsorted := writeFile(t, dir, "uns.tsv", "b\t1\na\t2\n")
	notInt := writeFile(t, dir, "notint.tsv", "a\t1\nb\t2\na\tx\n")
	existing := filepath.Join(dir, "existing")
	if code, stderr := kvbuild(t, context.Background(), "", "-o", existing, good); code != 0 {
		t.Fatal(stderr)
	}
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no-output", []string{good}, exitUsage, `Required flag "output" not set`},
		{"no-input", []string{"-o", filepath.Join(dir, "x")}, exitUsage, "no INPUT given"},
		{"bad-policy", []string{"--duplicates", "max", "-o", filepath.Join(dir, "x"), good}, exitUsage, `unknown duplicate policy "max"`},
		{"bad-memory", []string{"--memory", "lots", "-o", filepath.Join(dir, "x"), good}, exitUsage, `--memory: bad size "lots"`},
		{"exists", []string{"-o", existing, good}, exitUsage, "target already exists"},
		{"not-a-dict", []string{"--force", "-o", good, good}, exitUsage, "is not a kvdict dictionary"},
		{"bad-line", []string{"-o", filepath.Join(dir, "x"), good, bad}, exitInput, "bad.tsv:2: no TAB between key and value; nothing written"},
		{"bad-line-force", []string{"--force", "-o", existing, bad}, exitInput, "bad.tsv:2: no TAB"},
		{"duplicate", []string{"--duplicates", "error", "-o", filepath.Join(dir, "x"), dup}, exitInput, `duplicate key "a" at ` + dup + `:1 and ` + dup + `:3`},
		{"unsorted", []string{"--sorted", "-o", filepath.Join(dir, "x"), unsorted}, exitInput, unsorted + ":2: input is not sorted in byte order"},
		{"sum", []string{"--duplicates", "sum", "-o", filepath.Join(dir, "x"), good, notInt}, exitInput, notInt + `:3: value "x" is not a decimal int64 (--duplicates sum); nothing written`},
		{"missing-input", []string{"-o", filepath.Join(dir, "x"), filepath.Join(dir, "nope.tsv")}, exitIO, "no such file"},
		{"truncated-gzip", []string{"-o", filepath.Join(dir, "x"), writeFile(t, dir, "part-1.tsv.gz", truncatedGzip(t))}, exitIO, "part-1.tsv.gz: truncated compressed input: the gzip stream ends unexpectedly"},
		{"bad-gzip", []string{"-o", filepath.Join(dir, "x"), writeFile(t, dir, "bad.gz", "\x1f\x8b\x08garbage")}, exitIO, "gzip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := kvbuild(t, context.Background(), "", c.args...)
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr, c.code, c.msg)
			}
			if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
				t.Fatal("a failed build left a dictionary")
			}
			if got := dump(t, existing); got != "a=1\n" {
				t.Fatalf("previous dictionary changed: %q", got)
			}
			assertNoTemp(t, dir)
		})
	}
}

// Ensure --skip-invalid reports the count and the first bad lines.
func TestRun_SkipInvalid(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "in.tsv", "a\t1\nbad\nb\\q\t2\n")
	code, stderr := kvbuild(t, context.Background(), "", "--skip-invalid", "--unescape", "-o", filepath.Join(dir, "d"), p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"1 keys from 3 lines", "2 lines skipped", "skipped 2 invalid line(s)", p + ":2: no TAB", p + ":3: bad escape in key"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// endless is standard input that never ends: lines of distinct keys. It
// calls cancel once it has produced limit bytes.
type endless struct {
	n, limit int
	line     int
	cancel   func()
	pending  []byte
}

func (e *endless) Read(p []byte) (int, error) {
	if len(e.pending) == 0 {
		e.line++
		e.pending = fmt.Appendf(nil, "key%09d\tvalue %d\n", (e.line*7919)%1000003, e.line)
	}
	n := copy(p, e.pending)
	e.pending = e.pending[n:]
	if e.n += n; e.n >= e.limit && e.cancel != nil {
		e.cancel()
		e.cancel = nil
	}
	return n, nil
}

// Ensure an interrupted build (the context cancelled while reading, as
// SIGINT does) exits 130, leaves the previous dictionary intact and removes
// every temporary file, spilled runs included. (builder's
// TestSorter_CancelMidMerge cancels in the merge.)
func TestRun_Interrupted(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "dict")
	if code, stderr := kvbuild(t, context.Background(), "", "-o", out, writeFile(t, dir, "old.tsv", "old\tdict\n")); code != 0 {
		t.Fatal(stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := &endless{limit: 4 << 20, cancel: cancel}
	var stdout, errb bytes.Buffer
	code := runIO(ctx, []string{"kvbuild", "--force", "--memory", "1K", "-o", out, "-"}, in, &stdout, &errb)
	if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if got := dump(t, out); got != "old=dict\n" {
		t.Fatalf("previous dictionary changed: %q", got)
	}
	assertNoTemp(t, dir)
}

// Ensure --help documents the input rules, the policies and the errors.
func TestRun_Help(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runIO(context.Background(), []string{"kvbuild", "--help"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"kvbuild [flags] -o DICT INPUT...", "INPUT RULES", "--skip-invalid", "concat", "EXIT STATUS", "130", "--tmp-dir", "--registry"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string]int64{"512M": 512 << 20, "2G": 2 << 30, "2GiB": 2 << 30, "1.5g": 3 << 29, "4096": 4096, "64k": 64 << 10} {
		if got, err := parseSize(s); err != nil || got != want {
			t.Errorf("%s: %d %v", s, got, err)
		}
	}
	for _, s := range []string{"", "G", "-1G", "x", "0"} {
		if _, err := parseSize(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// Ensure every duplicate policy, through the CLI and the real builder, reads
// back (via reader) exactly as a Go map oracle says, with many spilled runs.
func TestRun_PolicyOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var lines []oracle.Record
	for i := 0; i < 12000; i++ {
		lines = append(lines, oracle.Record{Key: fmt.Sprintf("https://ex%d.com/p/%d", r.IntN(30), r.IntN(3000)), Value: strconv.Itoa(r.IntN(100) - 50)})
	}
	dir := t.TempDir()
	var files []string
	for f := 0; f < 3; f++ {
		var b strings.Builder
		for _, l := range lines[f*4000 : (f+1)*4000] {
			b.WriteString(l.Key + "\t" + l.Value + "\n")
		}
		files = append(files, writeFile(t, dir, fmt.Sprintf("in%d.tsv", f), b.String()))
	}
	for _, c := range []struct{ pol, mem string }{
		{"last", "1K"}, {"first", "1K"}, {"sum", "1K"}, {"count", "1K"}, {"concat", "1K"},
		{"last", "1G"}, {"concat", "1G"}, // three partitions, in memory
	} {
		pol := c.pol
		t.Run(pol+"/"+c.mem, func(t *testing.T) {
			want := oracle.Fold(pol, ";", lines)
			out := filepath.Join(dir, "dict-"+pol+c.mem)
			args := append([]string{"-q", "--memory", c.mem, "--threads", "3", "--duplicates", pol, "--separator", ";", "-o", out}, files...)
			if code, stderr := kvbuild(t, context.Background(), "", args...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			d, err := reader.Open(out, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.Len() != len(want) {
				t.Fatalf("%d keys, want %d", d.Len(), len(want))
			}
			for k, v := range want {
				got, err := d.Get([]byte(k))
				if err != nil || string(got) != v {
					t.Fatalf("%s: got %q %v, want %q", k, got, err, v)
				}
			}
		})
	}
}

// truncatedGzip is a gzip stream of many rows cut in the middle, as an
// interrupted copy leaves it.
func truncatedGzip(t *testing.T) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	for i := range 5000 {
		fmt.Fprintf(w, "k%d\tvalue %d\n", i, i)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()[:b.Len()/2]
}

// Ensure --force onto a symlink to a dictionary builds the new version
// beside the old, flips the link, keeps the old one and says so.
func TestRun_ForceSymlink(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.tsv", "k\tnew\n")
	if code, stderr := kvbuild(t, context.Background(), "", "-o", filepath.Join(dir, "v1"), writeFile(t, dir, "old.tsv", "k\told\n")); code != 0 {
		t.Fatal(stderr)
	}
	link := filepath.Join(dir, "current")
	os.Symlink("v1", link)
	if code, stderr := kvbuild(t, context.Background(), "", "-o", link, in); code != exitUsage || !strings.Contains(stderr, "--force") {
		t.Fatalf("without --force: exit %d: %s", code, stderr)
	}
	code, stderr := kvbuild(t, context.Background(), "", "--force", "-o", link, in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	now, _ := os.Readlink(link)
	if !strings.HasPrefix(now, "current.") || !strings.Contains(stderr, "it now points at the new dictionary, "+now+"; the previous one, v1, is kept") {
		t.Fatalf("link %q, stderr:\n%s", now, stderr)
	}
	if got := dump(t, link); got != "k=new\n" {
		t.Fatalf("through the link: %q", got)
	}
	if got := dump(t, filepath.Join(dir, "v1")); got != "k=old\n" {
		t.Fatalf("previous: %q", got)
	}
	assertNoTemp(t, dir)
}
