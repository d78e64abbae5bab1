package main

import "testing"

// Ensure that dump prints every pair in key order, raw, escaped or as
// JSON lines.
func TestDump(t *testing.T) {
	runGolden(t, "dump", []testCase{
		{name: "dump --limit", args: []string{"dump", "$DICT", "--limit", "12"}},
		{name: "dump --escape", args: []string{"dump", "--escape", "$DICT", "-l", "12"}},
		{name: "dump json", args: []string{"dump", "--format", "json", "$DICT", "--limit", "12"}},
		{name: "dump --keys-only --escape", args: []string{"dump", "--keys-only", "--escape", "$DICT", "--limit", "12"}},
		{name: "dump --format raw is for get", args: []string{"dump", "--format", "raw", "$DICT"}},
		{name: "dump, --limit not a number", args: []string{"dump", "$DICT", "--limit", "ten"}},
		{name: "dump, negative --limit", args: []string{"dump", "$DICT", "--limit", "-1"}},
		{name: "dump, empty dictionary", args: []string{"dump", "$EMPTY"}},
	})
}
