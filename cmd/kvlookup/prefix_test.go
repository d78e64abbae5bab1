package main

import "testing"

// Ensure that prefix prints the matching pairs in key order, honours
// --limit and --format, and that an empty prefix matches every key.
func TestPrefix(t *testing.T) {
	runGolden(t, "prefix", []testCase{
		{name: "prefix", args: []string{"prefix", "$DICT", "ap"}},
		{name: "prefix with --limit after the arguments", args: []string{"prefix", "$DICT", "user:", "--limit", "3"}},
		{name: "prefix, empty: every key", args: []string{"prefix", "$DICT", "", "--limit", "3"}},
		{name: "prefix, no match", args: []string{"prefix", "$DICT", "zzz"}},
		{name: "prefix, json", args: []string{"prefix", "-f", "json", "$DICT", "c"}},
		{name: "prefix --keys-only", args: []string{"prefix", "$DICT", "user:001", "--keys-only"}},
		{name: "prefix --keys-only json", args: []string{"prefix", "-k", "-f", "json", "$DICT", "c"}},
		{name: "prefix, missing PREFIX", args: []string{"prefix", "$DICT"}},
		{name: "prefix, extra argument", args: []string{"prefix", "$DICT", "a", "b"}},
	})
}
