package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Ensure flags after the inputs are flags, "--" keeps inputs named like
// flags, and "-" stays an input.
func TestInterspersed(t *testing.T) {
	flags := newApp(nil, nil, nil).Flags
	for _, c := range []struct{ in, want string }{
		{"kvbuild -o d in.tsv --quiet", "kvbuild -o d --quiet in.tsv"},
		{"kvbuild in.tsv -o d - --memory 1G b.tsv", "kvbuild -o d --memory 1G in.tsv - b.tsv"},
		{"kvbuild -o d a -- --quiet -x", "kvbuild -o d -- a --quiet -x"},
		{"kvbuild a --force=true --threads=2 b", "kvbuild --force=true --threads=2 a b"},
		// A value flag given last reports its missing value; it does not
		// take the input a for its value.
		{"kvbuild a --memory", "kvbuild --memory"},
	} {
		if got := strings.Join(interspersed(flags, strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	if got := interspersed(flags, []string{"kvbuild"}); !slices.Equal(got, []string{"kvbuild"}) {
		t.Error(got)
	}
}

// Ensure `kvbuild -o DICT in.tsv --quiet` builds quietly, and a bad flag
// prints one line and a pointer to --help on stderr, nothing on stdout.
func TestRun_FlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.tsv", "a\t1\n")
	out := filepath.Join(dir, "d")
	if code, stderr := kvbuild(t, context.Background(), "", "-o", out, in, "--quiet", "--duplicates", "first"); code != 0 || stderr != "" {
		t.Fatalf("exit %d: %q", code, stderr)
	}
	if got := dump(t, out); got != "a=1\n" {
		t.Fatal(got)
	}
	for _, args := range [][]string{{"--bogus", "-o", out, in}, {"-o", out, in, "--threads", "x"}} {
		code, stderr := kvbuild(t, context.Background(), "", args...)
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		if code != exitUsage || len(lines) != 2 || !strings.HasPrefix(lines[0], "kvbuild: ") || lines[1] != "Run 'kvbuild --help' for usage." {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
