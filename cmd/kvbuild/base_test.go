package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/reader"
)

// Ensure that kvbuild --base OLD --delete KEYS -o NEW DELTA gives, for
// every policy, the dictionary a full build of OLD's input without the
// deleted keys, followed by DELTA, gives (same dump), and that the policy
// defaults to the base's.
func TestRun_BaseEqualsRebuild(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	line := func(prefix string, pool int) string {
		return fmt.Sprintf("%s%04d\t%d\n", prefix, r.IntN(pool), r.IntN(100))
	}
	var base, dlt, dels strings.Builder
	for range 3000 {
		base.WriteString(line("k", 1500))
	}
	for range 500 {
		dlt.WriteString(line("k", 1500))
		dlt.WriteString(line("n", 300))
	}
	var kept strings.Builder // the base's lines without the deleted keys
	deleted := map[string]bool{}
	for i := 0; i < 1500; i += 5 {
		k := fmt.Sprintf("k%04d", i)
		deleted[k] = true
		dels.WriteString(k + "\n")
	}
	dels.WriteString("absent\n")
	for _, l := range strings.SplitAfter(base.String(), "\n") {
		if k, _, ok := strings.Cut(l, "\t"); ok && !deleted[k] {
			kept.WriteString(l)
		}
	}
	for _, pol := range []string{"last", "first", "sum", "count", "concat"} {
		t.Run("policy="+pol, func(t *testing.T) {
			dir := t.TempDir()
			b := writeFile(t, dir, "base.tsv", base.String())
			d := writeFile(t, dir, "delta.tsv", dlt.String())
			k := writeFile(t, dir, "keep.tsv", kept.String())
			del := writeFile(t, dir, "dels.txt", dels.String())
			run := func(args ...string) {
				t.Helper()
				if code, errs := kvbuild(t, context.Background(), "", append([]string{"-q", "--threads", "2"}, args...)...); code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, errs)
				}
			}
			run("--duplicates", pol, "-o", filepath.Join(dir, "old.kvd"), b)
			run("--duplicates", pol, "-o", filepath.Join(dir, "full.kvd"), k, d)
			// No --duplicates: the base's policy applies.
			run("--base", filepath.Join(dir, "old.kvd"), "--delete", del, "-o", filepath.Join(dir, "new.kvd"), d)
			if got, want := dump(t, filepath.Join(dir, "new.kvd")), dump(t, filepath.Join(dir, "full.kvd")); got != want {
				t.Fatalf("merge and rebuild differ (%d and %d bytes of dump)", len(got), len(want))
			}
		})
	}
}

// Ensure the --base errors: --delete without --base, a policy that mixes
// kinds of values, --sorted, a missing base, and a bad delete list.
func TestRun_BaseErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.tsv", "a\t1\nb\t2\n")
	old := filepath.Join(dir, "old.kvd")
	if code, errs := kvbuild(t, context.Background(), "", "-q", "--duplicates", "sum", "-o", old, in); code != 0 {
		t.Fatal(errs)
	}
	bad := writeFile(t, dir, "bad.txt", "a\nb\\q\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--delete", in, "-o", filepath.Join(dir, "x1"), in}, exitUsage, "--delete needs --base"},
		{[]string{"--base", old, "--duplicates", "last", "-o", filepath.Join(dir, "x2"), in}, exitUsage, "built with --duplicates sum"},
		{[]string{"--base", old, "--sorted", "-o", filepath.Join(dir, "x3"), in}, exitUsage, "--sorted cannot be used with --base"},
		{[]string{"--base", filepath.Join(dir, "nope.kvd"), "-o", filepath.Join(dir, "x4"), in}, exitIO, "--base"},
		{[]string{"--base", old, "--unescape", "--delete", bad, "-o", filepath.Join(dir, "x5"), in}, exitInput, "bad.txt:2: bad escape"},
	} {
		code, errs := kvbuild(t, context.Background(), "", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
	assertNoTemp(t, dir)
}

// Ensure that a store can be updated in place: --base STORE --publish -o
// STORE merges the current version into the next, and that --force can
// replace the base dictionary itself.
func TestRun_BaseInPlace(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.tsv", "a\t1\nb\t2\n")
	more := writeFile(t, dir, "more.tsv", "b\t5\nc\t3\n")
	st := filepath.Join(dir, "store")
	for _, args := range [][]string{
		{"--duplicates", "sum", "--publish", "-o", st, in},
		{"--base", st, "--publish", "-o", st, more},
	} {
		if code, errs := kvbuild(t, context.Background(), "", append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
	}
	if got := dump(t, st); got != "a=1\nb=7\nc=3\n" {
		t.Errorf("store after the update: %q", got)
	}
	d := filepath.Join(dir, "d.kvd")
	for _, args := range [][]string{
		{"-o", d, in},
		{"--base", d, "--force", "-o", d, more},
	} {
		if code, errs := kvbuild(t, context.Background(), "", append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
	}
	if got := dump(t, d); got != "a=1\nb=5\nc=3\n" {
		t.Errorf("dictionary replaced by its update: %q", got)
	}
}

// Ensure that an update keeps the base's hash index unless
// --hash-index=false says otherwise, and that lookups through it agree.
func TestRun_BaseKeepsHashIndex(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.tsv", "a\t1\nb\t2\n")
	more := writeFile(t, dir, "more.tsv", "b\t5\nc\t3\n")
	old := filepath.Join(dir, "old.kvd")
	for _, args := range [][]string{
		{"--hash-index", "-o", old, in},
		{"--base", old, "-o", filepath.Join(dir, "kept.kvd"), more},
		{"--base", old, "--hash-index=false", "-o", filepath.Join(dir, "dropped.kvd"), more},
	} {
		if code, errs := kvbuild(t, context.Background(), "", append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
	}
	for name, want := range map[string]bool{"kept.kvd": true, "dropped.kvd": false} {
		d, err := reader.Open(filepath.Join(dir, name), nil)
		if err != nil {
			t.Fatal(err)
		}
		has := slices.Contains(d.Manifest().OptionalFeatures, "hash-index")
		v, err := d.GetCopy([]byte("b"))
		d.Close()
		if has != want || err != nil || string(v) != "5" {
			t.Errorf("%s: hash index %v (want %v), Get(b) = %q, %v", name, has, want, v, err)
		}
	}
}

// Ensure that an update keeps the base's zstd compression unless
// --compression none says otherwise.
func TestRun_BaseKeepsCompression(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&in, "key%05d\tvalue number %d of a compressible file\n", i, i%50)
	}
	base := writeFile(t, dir, "in.tsv", in.String())
	more := writeFile(t, dir, "more.tsv", "key00007\tnew\nzz\t1\n")
	old := filepath.Join(dir, "old.kvd")
	for _, args := range [][]string{
		{"--compression", "zstd", "-o", old, base},
		{"--base", old, "-o", filepath.Join(dir, "kept.kvd"), more},
		{"--base", old, "--compression", "none", "-o", filepath.Join(dir, "plain.kvd"), more},
	} {
		if code, errs := kvbuild(t, context.Background(), "", append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
	}
	for name, want := range map[string]bool{"kept.kvd": true, "plain.kvd": false} {
		d, err := reader.Open(filepath.Join(dir, name), nil)
		if err != nil {
			t.Fatal(err)
		}
		has := slices.Contains(d.Manifest().Features, "zstd-values")
		v, err := d.GetCopy([]byte("key00007"))
		d.Close()
		if has != want || err != nil || string(v) != "new" {
			t.Errorf("%s: zstd %v (want %v), Get = %q, %v", name, has, want, v, err)
		}
	}
	if a, b := dump(t, filepath.Join(dir, "kept.kvd")), dump(t, filepath.Join(dir, "plain.kvd")); a != b || !strings.Contains(a, "key01999=value number 49") {
		t.Errorf("compressed and plain updates differ, or lost the base")
	}
}

// Ensure that an update of a compressed dictionary reuses the base's zstd
// dictionary, so that a small delta does not leave the rewritten groups
// coded with a dictionary trained on two lines (pypi: ratio 2.13 -> 1.50
// before), and that an update changing the records' shape (--hash-index
// makes them keyed) trains its own instead.
func TestRun_BaseReusesZstdDict(t *testing.T) {
	dir := t.TempDir()
	pypi, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pypi-sample.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.SplitAfterN(pypi, []byte("\n"), 6_001); len(lines) > 6_000 {
		pypi = bytes.Join(lines[:6_000], nil)
	}
	base := writeFile(t, dir, "in.tsv", string(pypi))
	more := writeFile(t, dir, "more.tsv", "requests\t9.9.9\t2026-12\t1\tnew\nzzz-new\t0.1\t2026-12\t9\tnew package\n")
	old := filepath.Join(dir, "old.kvd")
	for _, args := range [][]string{
		{"--compression", "zstd", "--threads", "2", "-o", old, base},
		{"--base", old, "-o", filepath.Join(dir, "kept.kvd"), more},
		{"--base", old, "--hash-index", "-o", filepath.Join(dir, "keyed.kvd"), more},
	} {
		if code, errs := kvbuild(t, context.Background(), "", append([]string{"-q"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
	}
	info := func(name string) ([]byte, float64) {
		d, err := reader.Open(filepath.Join(dir, name), &reader.Options{Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		z, err := d.ZstdDict()
		if err != nil {
			t.Fatal(err)
		}
		r, _ := strconv.ParseFloat(d.Manifest().Build["vlog.compression_ratio"], 64)
		return z, r
	}
	oz, or := info("old.kvd")
	kz, kr := info("kept.kvd")
	yz, _ := info("keyed.kvd")
	if oz == nil || !bytes.Equal(oz, kz) {
		t.Fatalf("update's dictionary (%d bytes) is not the base's (%d bytes)", len(kz), len(oz))
	}
	if kr < 0.95*or {
		t.Fatalf("compression ratio %v after the update, %v before", kr, or)
	}
	if bytes.Equal(oz, yz) {
		t.Fatal("an update to keyed records reused the value-record dictionary")
	}
	if v := dump(t, filepath.Join(dir, "kept.kvd")); !strings.Contains(v, "zzz-new=") {
		t.Fatal("the delta's new key is missing")
	}
}
