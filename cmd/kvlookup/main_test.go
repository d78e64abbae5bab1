package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kvdict/kvdict/builder"
)

// The tests run kvlookup in-process (run with buffers for stdin, stdout
// and stderr) against dictionaries built in a temporary directory, and
// compare a transcript of each command with a golden file in testdata/.
// After an intended change of output, regenerate the goldens with
//
//	go test ./cmd/kvlookup -update
//
// and review the diff.

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// fixtureDir holds the test dictionaries; built once, removed by TestMain.
var (
	fixtureDir  string
	fixtureOnce sync.Once
	fixtureErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "kvlookup-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pair is one key and value of a test dictionary.
type pair struct{ k, v string }

// fruitPairs is the main test dictionary: plain, non-ASCII and binary keys,
// keys and values holding TAB, newline and backslash, an empty value, and
// a run of "user:NNNN" keys for counts, limits and samples.
func fruitPairs() []pair {
	ps := []pair{
		{"", "the empty key"},
		{"\x00\xff", "binary key"},
		{"apple", "red"},
		{"apricot", "orange"},
		{"banana", "yellow"},
		{"café", "coffee ☕"},
		{"cherry", ""},
		{"line\nbreak", "value\twith tab"},
		{"quote\"key", "back\\slash"},
		{"sep", "a\u2028b"},
		{"tab\tkey", "ctl\x01\x1f"},
		{"日本", "\xfe\xfe not utf-8"},
	}
	for i := range 200 {
		ps = append(ps, pair{fmt.Sprintf("user:%04d", i), fmt.Sprintf("v%d", i*i)})
	}
	return ps
}

// build writes a dictionary of ps to dir/name and returns its path.
func build(dir, name string, ps []pair) (string, error) {
	return buildParts(dir, name, ps, 1)
}

// buildParts is build with the keys split into n partitions.
func buildParts(dir, name string, ps []pair, n int) (string, error) {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b pair) int { return strings.Compare(a.k, b.k) })
	path := filepath.Join(dir, name)
	b, err := builder.Create(path, &builder.Options{
		Tool:  "kvlookup-test",
		Build: map[string]string{"source": "main_test.go"},
		Now:   func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		return "", err
	}
	defer b.Abort()
	for i := range n {
		part, err := b.NewPartition()
		if err != nil {
			return "", err
		}
		for _, p := range ps[i*len(ps)/n : (i+1)*len(ps)/n] {
			if err := part.Add([]byte(p.k), []byte(p.v)); err != nil {
				return "", err
			}
		}
	}
	_, err = b.Commit()
	return path, err
}

// fixtures returns the paths the transcripts refer to, as $NAME:
//
//	$DICT      the fruit dictionary
//	$EMPTY     a dictionary with no keys
//	$PARTS     the fruit dictionary in 3 partitions
//	$CORRUPT   a copy of $DICT with one byte flipped inside the value log
//	$BADMAGIC  a copy of $DICT whose FST file does not start with the magic
//	$BADRECORD a copy of $DICT whose last value record has a length that
//	           runs past the end of the value log
//	$TRUNCATED a copy of $DICT whose value log lost its last byte
//	$NEWER     a copy of $DICT whose MANIFEST claims format version 2
//	$NOTDICT   a directory holding a TSV file, not a dictionary
//	$MISSING   a path that does not exist
func fixtures(t testing.TB) map[string]string {
	t.Helper()
	fixtureOnce.Do(func() { fixtureErr = makeFixtures() })
	if fixtureErr != nil {
		t.Fatalf("building test dictionaries: %v", fixtureErr)
	}
	return map[string]string{
		"$DICT":      filepath.Join(fixtureDir, "fruit.kvd"),
		"$EMPTY":     filepath.Join(fixtureDir, "empty.kvd"),
		"$PARTS":     filepath.Join(fixtureDir, "parts.kvd"),
		"$NEWER":     filepath.Join(fixtureDir, "newer.kvd"),
		"$CORRUPT":   filepath.Join(fixtureDir, "corrupt.kvd"),
		"$BADMAGIC":  filepath.Join(fixtureDir, "badmagic.kvd"),
		"$TRUNCATED": filepath.Join(fixtureDir, "truncated.kvd"),
		"$BADRECORD": filepath.Join(fixtureDir, "badrecord.kvd"),
		"$NOTDICT":   filepath.Join(fixtureDir, "notdict"),
		"$MISSING":   filepath.Join(fixtureDir, "missing.kvd"),
	}
}

func makeFixtures() error {
	if _, err := build(fixtureDir, "fruit.kvd", fruitPairs()); err != nil {
		return err
	}
	if _, err := build(fixtureDir, "empty.kvd", nil); err != nil {
		return err
	}
	if _, err := buildParts(fixtureDir, "parts.kvd", fruitPairs(), 3); err != nil {
		return err
	}
	// Damage copies of the fruit dictionary: a byte in the middle of the
	// value log (Open still succeeds, verify must catch it), and the first
	// byte of the FST file (Open fails: bad magic).
	if _, err := build(fixtureDir, "corrupt.kvd", fruitPairs()); err != nil {
		return err
	}
	if err := flipByte(filepath.Join(fixtureDir, "corrupt.kvd"), ".vlog", -1); err != nil {
		return err
	}
	if _, err := build(fixtureDir, "badmagic.kvd", fruitPairs()); err != nil {
		return err
	}
	if err := flipByte(filepath.Join(fixtureDir, "badmagic.kvd"), ".fst", 0); err != nil {
		return err
	}
	// The last record is the value of the last key, "日本": 12 bytes after a
	// 1-byte length, just before the 32-byte footer. Make its length 127.
	if _, err := build(fixtureDir, "badrecord.kvd", fruitPairs()); err != nil {
		return err
	}
	if err := patchLastRecord(filepath.Join(fixtureDir, "badrecord.kvd"), 32+13, 0x7f); err != nil {
		return err
	}
	if _, err := build(fixtureDir, "truncated.kvd", fruitPairs()); err != nil {
		return err
	}
	if err := truncate(filepath.Join(fixtureDir, "truncated.kvd"), ".vlog"); err != nil {
		return err
	}
	// MANIFEST bytes 8:12 are its version (little-endian): make it 2.
	if _, err := build(fixtureDir, "newer.kvd", fruitPairs()); err != nil {
		return err
	}
	if err := patchFile(filepath.Join(fixtureDir, "newer.kvd", "MANIFEST"), 8, 2); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(fixtureDir, "notdict"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(fixtureDir, "notdict", "input.tsv"), []byte("a\t1\n"), 0o644)
}

// flipByte inverts one byte of the first file in dir whose name ends in
// suffix: the one at off, or the middle one if off < 0.
func flipByte(dir, suffix string, off int) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		if off < 0 {
			off = len(b) / 2
		}
		b[off] ^= 0xff
		return os.WriteFile(name, b, 0o644)
	}
	return fmt.Errorf("no *%s file in %s", suffix, dir)
}

// patchLastRecord sets the byte fromEnd bytes before the end of the value
// log in dir to b.
func patchLastRecord(dir string, fromEnd int, b byte) error {
	names, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil || len(names) == 0 {
		return fmt.Errorf("no value log in %s", dir)
	}
	data, err := os.ReadFile(names[0])
	if err != nil {
		return err
	}
	if data[len(data)-fromEnd] != 12 {
		return fmt.Errorf("%s: byte %d from the end is %d, not the length 12 of the last value", names[0], fromEnd, data[len(data)-fromEnd])
	}
	data[len(data)-fromEnd] = b
	return os.WriteFile(names[0], data, 0o644)
}

// patchFile sets the byte at off of the file name to b.
func patchFile(name string, off int, b byte) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	data[off] = b
	return os.WriteFile(name, data, 0o644)
}

// truncate removes the last byte of the first file in dir whose name ends
// in suffix.
func truncate(dir, suffix string) error {
	names, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil || len(names) == 0 {
		return fmt.Errorf("no *%s file in %s", suffix, dir)
	}
	st, err := os.Stat(names[0])
	if err != nil {
		return err
	}
	return os.Truncate(names[0], st.Size()-1)
}

// testCase is one kvlookup invocation of a transcript.
type testCase struct {
	name  string   // a short description, printed in the transcript
	args  []string // arguments after "kvlookup"; $NAME is a fixture path
	stdin string
}

// result is what one invocation produced.
type result struct {
	stdout, stderr string
	code           int
}

// kvlookup runs the CLI in-process.
func kvlookup(ctx context.Context, stdin string, args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(ctx, append([]string{"kvlookup"}, args...), strings.NewReader(stdin), &stdout, &stderr)
	return result{stdout.String(), stderr.String(), code}
}

// runGolden runs cases and compares their transcript with
// testdata/<golden>.golden.
func runGolden(t *testing.T, golden string, cases []testCase) {
	t.Helper()
	fx := fixtures(t)
	var out strings.Builder
	for _, tc := range cases {
		args := make([]string, len(tc.args))
		for i, a := range tc.args {
			args[i] = expand(a, fx)
		}
		r := kvlookup(context.Background(), tc.stdin, args...)
		fmt.Fprintf(&out, "# %s\n$ kvlookup %s\n", tc.name, shellJoin(tc.args))
		if tc.stdin != "" {
			writeSection(&out, "stdin", tc.stdin)
		}
		writeSection(&out, "stdout", normalize(r.stdout, fx))
		writeSection(&out, "stderr", normalize(r.stderr, fx))
		fmt.Fprintf(&out, "--- exit %d\n\n", r.code)
	}
	compareGolden(t, filepath.Join("testdata", golden+".golden"), out.String())
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/kvlookup -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (if the change is intended, rerun with -update and review the diff)\n%s",
			path, lineDiff(string(want), got))
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want: %q\n  got:  %q", i+1, wl, gl)
		}
	}
	return ""
}

func expand(a string, fx map[string]string) string {
	for name, path := range fx {
		a = strings.ReplaceAll(a, name, path)
	}
	return a
}

// normalize replaces what changes from run to run (fixture paths, the Go
// version) with fixed names.
func normalize(s string, fx map[string]string) string {
	names := make([]string, 0, len(fx))
	for name := range fx {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s = strings.ReplaceAll(s, fx[name], name)
	}
	s = strings.ReplaceAll(s, fixtureDir, "$TMP")
	s = strings.ReplaceAll(s, toolVersion(), "$VERSION")
	// Page-cache residency depends on the machine, not on kvlookup.
	return residentRE.ReplaceAllString(s, "${1}$$RESIDENT")
}

var residentRE = regexp.MustCompile(`(resident_bytes\t|"resident_bytes":)\d+`)

// writeSection writes s under a "--- name" line: as it is when it is
// printable text, otherwise Go-quoted line by line, so that goldens stay
// readable text files whatever the bytes.
func writeSection(out *strings.Builder, name, s string) {
	if s == "" {
		fmt.Fprintf(out, "--- %s\n", name)
		return
	}
	if printable(s) && strings.HasSuffix(s, "\n") {
		fmt.Fprintf(out, "--- %s\n%s", name, s)
		return
	}
	fmt.Fprintf(out, "--- %s (quoted)\n", name)
	for line := range strings.SplitAfterSeq(s, "\n") {
		if line != "" {
			fmt.Fprintf(out, "%s\n", strconv.Quote(line))
		}
	}
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\*?$|&;<>()[]{}") && !strings.HasPrefix(a, "$") || !printable(a) {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}
