package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/store"
)

// Ensure that --publish writes numbered versions into a store, switches
// readers of the store path to the newest, keeps the old one, and refuses
// --force and a target that is not a store.
func TestRun_Publish(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "urls")
	in1 := writeFile(t, dir, "1.tsv", "a\t1\nb\t2\n")
	in2 := writeFile(t, dir, "2.tsv", "a\t10\nc\t3\n")
	for i, in := range []string{in1, in2} {
		if code, errs := kvbuild(t, context.Background(), "", "--publish", "-o", st, in); code != 0 {
			t.Fatalf("publish %d: exit %d: %s", i+1, code, errs)
		} else if want := filepath.Join(st, []string{"v000001.kvd", "v000002.kvd"}[i]); !strings.Contains(errs, "wrote "+want) {
			t.Errorf("publish %d: summary %q does not name %s", i+1, errs, want)
		}
	}
	if got := dump(t, st); got != "a=10\nc=3\n" {
		t.Errorf("store reads %q, want the second version", got)
	}
	if got := dump(t, filepath.Join(st, "v000001.kvd")); got != "a=1\nb=2\n" {
		t.Errorf("v000001.kvd reads %q, want the first version unchanged", got)
	}
	if v, err := store.Current(st); err != nil || v.Number != 2 {
		t.Errorf("Current = %+v, %v", v, err)
	}
	plain := filepath.Join(dir, "plain.kvd")
	if code, errs := kvbuild(t, context.Background(), "", "-q", "-o", plain, in1); code != 0 {
		t.Fatal(errs)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--publish", "--force", "-o", st, in1}, "--force does nothing with --publish"},
		{[]string{"--publish", "-o", plain, in1}, "not a kvdict store"},
	} {
		code, errs := kvbuild(t, context.Background(), "", tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want exit %d and %q", tc.args, code, errs, exitUsage, tc.want)
		}
	}
	if vs, _ := store.Versions(st); len(vs) != 2 {
		t.Errorf("refused publications left %d versions, want 2", len(vs))
	}
}
