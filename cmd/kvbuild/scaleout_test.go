package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/escape"
)

// kvsub runs kvbuild in-process with stdout captured.
func kvsub(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runIO(context.Background(), append([]string{"kvbuild"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// scaleoutInput writes shuffled escaped TSV rows with duplicate keys (TABs,
// newlines and backslashes inside keys, empty values) and returns its path.
func scaleoutInput(t *testing.T, dir string, rows int) string {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	var b []byte
	for range rows {
		k := fmt.Sprintf("k%d", r.IntN(rows/4))
		switch r.IntN(10) {
		case 0:
			k += "\tx\n\\"
		case 1:
			k = "\xff" + k
		}
		b = escape.Append(b, []byte(k))
		b = fmt.Appendf(b, "\t%d\n", r.IntN(100))
	}
	return writeFile(t, dir, "in.tsv", string(b))
}

// routeRows splits an escaped TSV file by the ranges of a split-key file,
// as an engine's shuffle would, into dir/in-I.tsv.
func routeRows(t *testing.T, input, splitsFile, dir string) []string {
	t.Helper()
	splits, err := readSplits(splitsFile)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(input)
	outs := make([][]byte, len(splits)+1)
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		k, _ := escape.Unescape(nil, line[:bytes.IndexByte(line, '\t')])
		i := builder.RangeOf(splits, k)
		outs[i] = append(outs[i], line...)
	}
	var names []string
	for i, o := range outs {
		names = append(names, writeFile(t, dir, fmt.Sprintf("in-%d.tsv", i), string(o)))
	}
	return names
}

// Ensure splits → part per range → join gives the dictionary a single
// kvbuild of the same input gives, for the order-independent policies,
// with and without a hash index, and with zstd records.
func TestScaleout_JoinEqualsSingleBuild(t *testing.T) {
	dir := t.TempDir()
	input := scaleoutInput(t, dir, 8000)
	code, splits, stderr := kvsub(t, "", "splits", "-n", "4", "--unescape", input)
	if code != 0 || strings.Count(splits, "\n") != 3 {
		t.Fatalf("splits: exit %d, %q, %s", code, splits, stderr)
	}
	splitsFile := writeFile(t, dir, "splits.txt", splits)
	rows := routeRows(t, input, splitsFile, dir)
	for _, pol := range []string{"sum", "count", "error-free"} {
		for _, hix := range []string{"--hash-index=false", "--hash-index", "--compression=zstd"} {
			t.Run(pol+hix, func(t *testing.T) {
				flags := []string{"--unescape", hix, "-q", "--threads", "2"}
				if pol != "error-free" {
					flags = append(flags, "--duplicates", pol)
				} else {
					flags = append(flags, "--duplicates", "error", "--skip-invalid")
				}
				parts := filepath.Join(t.TempDir(), "parts")
				for i := range rows {
					args := append([]string{"part", "--dir", parts, "--splits", splitsFile, "--range", fmt.Sprint(i), "--name", fmt.Sprintf("r%d-a1", i)}, flags...)
					if pol == "error-free" {
						// Rows of each key once: error never fires.
						args = append(args, "-")
						code, out, stderr := kvsub(t, uniqueRows(t, rows[i]), args...)
						if code != 0 || !strings.HasPrefix(out, `{"kvdict_part":1`) {
							t.Fatalf("part %d: exit %d: %s %s", i, code, out, stderr)
						}
						continue
					}
					code, out, stderr := kvsub(t, "", append(args, rows[i])...)
					if code != 0 || !strings.HasPrefix(out, `{"kvdict_part":1`) {
						t.Fatalf("part %d: exit %d: %s %s", i, code, out, stderr)
					}
				}
				joined := filepath.Join(t.TempDir(), "joined.kvd")
				if code, _, stderr := kvsub(t, "", "join", "-q", "-o", joined, parts); code != 0 {
					t.Fatalf("join: exit %d: %s", code, stderr)
				}
				single := filepath.Join(t.TempDir(), "single.kvd")
				in := input
				if pol == "error-free" {
					in = writeFile(t, t.TempDir(), "u.tsv", uniqueRows(t, input))
				}
				if code, _, stderr := kvsub(t, "", append([]string{"-o", single, in}, flags...)...); code != 0 {
					t.Fatalf("single: exit %d: %s", code, stderr)
				}
				got, want := dump(t, joined), dump(t, single)
				if got != want || len(want) < 1000 {
					t.Fatalf("joined dump (%d bytes) differs from the single build's (%d bytes)", len(got), len(want))
				}
			})
		}
	}
}

// uniqueRows returns a TSV file's rows keeping each key's first row.
func uniqueRows(t *testing.T, path string) string {
	data, _ := os.ReadFile(path)
	seen := map[string]bool{}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		k, _, _ := strings.Cut(line, "\t")
		if line != "" && !seen[k] {
			seen[k] = true
			b.WriteString(line)
		}
	}
	return b.String()
}

// Ensure each refusal exits with kvbuild's code, says why, and writes
// nothing.
func TestScaleout_Refusals(t *testing.T) {
	dir := t.TempDir()
	parts := filepath.Join(dir, "parts")
	build := func(name, lo, hi, rows string, extra ...string) (int, string) {
		args := []string{"part", "-q", "--dir", parts, "--name", name}
		if lo != "" {
			args = append(args, "--lo", lo)
		}
		if hi != "" {
			args = append(args, "--hi", hi)
		}
		code, _, stderr := kvsub(t, rows, append(append(args, extra...), "-")...)
		return code, stderr
	}
	for _, p := range []struct{ name, lo, hi, rows string }{
		{"a", "", "g", "apple\t1\nbanana\t2\n"},
		{"b", "g", "p", "grape\t3\nkiwi\t4\n"},
		{"c", "p", "", "pear\t5\nzucchini\t6\n"},
	} {
		if code, stderr := build(p.name, p.lo, p.hi, p.rows); code != 0 {
			t.Fatalf("part %s: exit %d: %s", p.name, code, stderr)
		}
	}
	// A row outside the range: exit 1, no part, no leftovers.
	code, stderr := build("bad", "g", "p", "grape\t1\nzebra\t2\n")
	if code != exitInput || !strings.Contains(stderr, `"zebra" is not in ["g", "p")`) {
		t.Fatalf("out of range: exit %d: %s", code, stderr)
	}
	if ents, _ := filepath.Glob(filepath.Join(parts, "*bad*")); len(ents) != 0 {
		t.Fatalf("refused part left %v", ents)
	}
	if ents, _ := filepath.Glob(filepath.Join(parts, ".*")); len(ents) != 0 {
		t.Fatalf("refused part left %v", ents)
	}
	// Flags of the whole dictionary are not part flags.
	for _, f := range []string{"--force", "--publish", "--base=x"} {
		if code, stderr := build("f", "", "", "a\t1\n", f); code != exitUsage || !strings.Contains(stderr, "flag provided but not defined") {
			t.Errorf("%s: exit %d: %s", f, code, stderr)
		}
	}
	// The same name twice: usage.
	if code, stderr := build("a", "", "g", "apple\t1\n"); code != exitUsage || !strings.Contains(stderr, "already exists") {
		t.Fatalf("same name: exit %d: %s", code, stderr)
	}
	js := func(n string) string { return filepath.Join(parts, n+builder.PartSuffix) }
	out := filepath.Join(dir, "out.kvd")
	refuse := func(want int, msg string, args ...string) {
		t.Helper()
		code, _, stderr := kvsub(t, "", append([]string{"join", "-o", out}, args...)...)
		if code != want || !strings.Contains(stderr, msg) {
			t.Fatalf("join %v: exit %d, want %d with %q: %s", args, code, want, msg, stderr)
		}
		if _, err := os.Stat(out); want != 0 && !os.IsNotExist(err) {
			t.Fatalf("refused join left %s", out)
		}
	}
	refuse(exitInput, "are in no part", js("a"), js("c"))
	refuse(exitInput, "up are in no part", js("a"), js("b"))
	// A second attempt of range b, with another policy: overlap, and
	// alone in place of b: a disagreement.
	if code, stderr := build("b2", "g", "p", "grape\t3\n", "--duplicates", "sum"); code != 0 {
		t.Fatalf("b2: %d %s", code, stderr)
	}
	refuse(exitInput, "overlap", parts)
	refuse(exitInput, "different duplicates", js("a"), js("b2"), js("c"))
	// A damaged file: exit 1; found without --skip-checksums only.
	fst := filepath.Join(parts, "c-00000.vlog")
	data, _ := os.ReadFile(fst)
	data[20] ^= 1
	os.WriteFile(fst, data, 0o644)
	refuse(exitInput, "checksum mismatch", js("a"), js("b"), js("c"))
	refuse(exitUsage, "no PART", []string{}...)
	refuse(exitIO, "no such file", js("zz"))
	os.WriteFile(js("junk"), []byte("{}"), 0o644)
	refuse(exitInput, "part description format 0", js("junk"))
	data[20] ^= 1
	os.WriteFile(fst, data, 0o644)
	refuse(0, "", "--move", js("a"), js("b"), js("c"))
	if got := dump(t, out); got != "apple=1\nbanana=2\ngrape=3\nkiwi=4\npear=5\nzucchini=6\n" {
		t.Fatalf("joined: %q", got)
	}
	if _, err := os.Stat(js("a")); !os.IsNotExist(err) {
		t.Errorf("--move kept %s", js("a"))
	}
	code, _, stderr = kvsub(t, "", "join", "-o", out, js("b2"))
	if code != exitUsage || !strings.Contains(stderr, "already exists") {
		t.Fatalf("existing target: exit %d: %s", code, stderr)
	}
}

// Ensure an INPUT named like a subcommand is still read as input when it
// is not the first argument, and that the subcommands answer --help.
func TestScaleout_InputNamedLikeSubcommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "part", "k\tv\n")
	writeFile(t, dir, "join", "j\tw\n")
	if code, stderr := kvbuild(t, context.Background(), "", "-q", "-o", "d1", "part", "join"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := dump(t, "d1"); got != "j=w\nk=v\n" {
		t.Fatalf("got %q", got)
	}
	if code, stderr := kvbuild(t, context.Background(), "", "./part", "-q", "-o", "d2"); code != 0 || dump(t, "d2") != "k=v\n" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, sub := range []string{"splits", "part", "join"} {
		code, out, _ := kvsub(t, "", sub, "--help")
		if code != 0 || !strings.Contains(out, "kvbuild "+sub) {
			t.Errorf("%s --help: exit %d: %s", sub, code, out)
		}
	}
	if code, _, _ := kvsub(t, "", "--help"); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}
