package main

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
)

// Ensure warm reports what it read and what is resident, in TSV and JSON,
// with --index-only reading less, and rejects a bad --threads.
func TestWarm(t *testing.T) {
	fx := fixtures(t)
	line := regexp.MustCompile(`^warmed \S+: [\d.]+ (B|KiB) in [\d.]+s \([\d.]+ \S+/s\), [\d.]+ \S+ of [\d.]+ \S+ now in the page cache \(was [\d.]+ \S+\)\n$`)
	r := kvlookup(context.Background(), "", "warm", fx["$PARTS"])
	if r.code != 0 || !line.MatchString(r.stdout) || r.stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	var all, index struct {
		B int64 `json:"bytes"`
		S int64 `json:"size"`
		R int64 `json:"resident_bytes"`
	}
	for _, c := range []struct {
		args []string
		out  any
	}{{[]string{"warm", "-f", "json", fx["$PARTS"]}, &all}, {[]string{"warm", "--index-only", "--format", "json", fx["$PARTS"], "-t", "1"}, &index}} {
		r := kvlookup(context.Background(), "", c.args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, r.code, r.stderr)
		}
		if err := json.Unmarshal([]byte(r.stdout), c.out); err != nil {
			t.Fatalf("%v: %q: %v", c.args, r.stdout, err)
		}
	}
	if all.B != all.S || all.R < all.S || index.B <= 0 || index.B >= all.B {
		t.Fatalf("warm read %d of %d (resident %d); --index-only read %d", all.B, all.S, all.R, index.B)
	}
	if r := kvlookup(context.Background(), "", "warm", "-t", "-2", fx["$PARTS"]); r.code != exitUsage {
		t.Fatalf("--threads -2: exit %d %q", r.code, r.stderr)
	}
	if r := kvlookup(context.Background(), "", "warm", fx["$MISSING"]); r.code != exitDict {
		t.Fatalf("missing: exit %d %q", r.code, r.stderr)
	}
}
