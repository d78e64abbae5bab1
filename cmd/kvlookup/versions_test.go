package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/store"
)

// kvlookup runs the app in-process and returns its exit status, stdout and
// stderr.
func kvlookupRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"kvlookup"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// publishGen writes a store version whose one key "k" holds "genN".
func publishGen(t *testing.T, dir string, gen int) {
	t.Helper()
	p, err := store.Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Abort()
	if err := p.Add([]byte("k"), fmt.Appendf(nil, "gen%d", gen)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(); err != nil {
		t.Fatal(err)
	}
}

// Ensure that the commands read a store's current version, that info
// names it, that versions lists every version and marks the current one,
// and that gc removes old ones under --keep and reports in-use ones.
func TestStoreCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	for gen := 1; gen <= 3; gen++ {
		publishGen(t, dir, gen)
	}
	if code, out, errs := kvlookupRun("get", dir, "k"); code != 0 || out != "gen3\n" {
		t.Errorf("get STORE k = %d %q %q, want gen3", code, out, errs)
	}
	if code, out, _ := kvlookupRun("info", dir); code != 0 || !strings.Contains(out, "path\t"+dir+"\nstore_version\tv000003.kvd\n") {
		t.Errorf("info STORE = %d %q, want store_version v000003.kvd", code, out)
	}
	if code, out, _ := kvlookupRun("info", "--format", "json", dir); code != 0 || !strings.Contains(out, `"store_version":"v000003.kvd"`) {
		t.Errorf("info --format json STORE = %d %q", code, out)
	}
	if code, out, _ := kvlookupRun("info", filepath.Join(dir, "v000001.kvd")); code != 0 || strings.Contains(out, "store_version") {
		t.Errorf("info on a version directory = %d %q, want no store_version", code, out)
	}
	code, out, errs := kvlookupRun("versions", dir)
	re := regexp.MustCompile(`^v000001\.kvd\tcreated=\S+Z\tkeys=1\nv000002\.kvd\tcreated=\S+Z\tkeys=1\nv000003\.kvd\tcreated=\S+Z\tkeys=1\tcurrent\n$`)
	if code != 0 || !re.MatchString(out) {
		t.Errorf("versions = %d %q %q", code, out, errs)
	}
	if code, out, _ := kvlookupRun("versions", "--format", "json", dir); code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"name":"v000003.kvd","number":3`) {
		t.Errorf("versions --format json = %d %q", code, out)
	}

	if code, out, _ := kvlookupRun("gc", "--keep", "0", "--dry-run", dir); code != 0 || out != "removed v000002.kvd\nremoved v000001.kvd\n" {
		t.Errorf("gc --dry-run = %d %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "v000001.kvd")); err != nil {
		t.Fatalf("dry run removed a version: %v", err)
	}
	if code, out, errs := kvlookupRun("gc", dir, "--keep", "0"); code != 0 || out != "removed v000002.kvd\nremoved v000001.kvd\n" {
		t.Errorf("gc --keep 0 = %d %q %q", code, out, errs)
	}
	if _, out, _ := kvlookupRun("versions", dir); !strings.HasPrefix(out, "v000003.kvd\t") || strings.Count(out, "\n") != 1 {
		t.Errorf("after gc: versions = %q", out)
	}
}

// Ensure that the store commands refuse what is not a store (exit 3), and
// bad flags (exit 2), and that gc on a busy store says so.
func TestStoreCommands_Errors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	publishGen(t, dir, 1)
	fx := fixtures(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"versions", fx["$DICT"]}, exitDict, "is a dictionary directory"},
		{[]string{"gc", fx["$NOTDICT"]}, exitDict, "not a kvdict store"},
		{[]string{"versions", fx["$MISSING"]}, exitDict, "no such file or directory"},
		{[]string{"gc", "--keep", "-1", dir}, exitUsage, "must not be negative"},
		{[]string{"versions"}, exitUsage, "missing STORE argument"},
	} {
		code, _, errs := kvlookupRun(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
	p, err := store.Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Abort()
	if code, _, errs := kvlookupRun("gc", dir); code != exitDict || !strings.Contains(errs, "is busy") {
		t.Errorf("gc during a publish: exit %d %q", code, errs)
	}
}
