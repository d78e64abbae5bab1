package main

import "testing"

// Ensure that the listing commands print pairs in key order, honour
// --limit, --format and --escape, and report bad patterns as usage errors.
func TestScan(t *testing.T) {
	runGolden(t, "scan", []testCase{
		{name: "prefix", args: []string{"prefix", "$DICT", "ap"}},
		{name: "prefix with --limit after the arguments", args: []string{"prefix", "$DICT", "user:", "--limit", "3"}},
		{name: "prefix, empty: every key", args: []string{"prefix", "$DICT", "", "--limit", "3"}},
		{name: "prefix, no match", args: []string{"prefix", "$DICT", "zzz"}},
		{name: "prefix, json", args: []string{"prefix", "-f", "json", "$DICT", "c"}},
		{name: "prefix, missing PREFIX", args: []string{"prefix", "$DICT"}},
		{name: "prefix, extra argument", args: []string{"prefix", "$DICT", "a", "b"}},
		{name: "range [from, to)", args: []string{"range", "$DICT", "--from", "apricot", "--to", "cherry"}},
		{name: "range, open start", args: []string{"range", "$DICT", "--to", "apricot"}},
		{name: "range, open end", args: []string{"range", "$DICT", "--from", "user:0198"}},
		{name: "range, from > to is empty", args: []string{"range", "$DICT", "--from", "b", "--to", "a"}},
		{name: "regex is anchored", args: []string{"regex", "$DICT", "a.*"}},
		{name: "regex, alternation", args: []string{"regex", "$DICT", "user:00(07|42)|banana"}},
		{name: "regex, invalid", args: []string{"regex", "$DICT", "a("}},
		{name: "regex, anchors are not supported", args: []string{"regex", "$DICT", "^apple$"}},
		{name: "regex, too many states", args: []string{"regex", "$DICT", ".{1000}"}},
		{name: "fuzzy, default distance 1", args: []string{"fuzzy", "$DICT", "aple"}},
		{name: "fuzzy, distance 2", args: []string{"fuzzy", "$DICT", "bananna", "--distance", "2"}},
		{name: "fuzzy, non-ASCII", args: []string{"fuzzy", "$DICT", "cafe"}},
		{name: "fuzzy, distance 3 is too large", args: []string{"fuzzy", "$DICT", "apple", "--distance", "3"}},
		{name: "fuzzy, negative distance", args: []string{"fuzzy", "$DICT", "x", "-d", "-1"}},
		{name: "dump --limit", args: []string{"dump", "$DICT", "--limit", "12"}},
		{name: "dump --escape", args: []string{"dump", "--escape", "$DICT", "-l", "12"}},
		{name: "dump json", args: []string{"dump", "--format", "json", "$DICT", "--limit", "12"}},
		{name: "dump, negative --limit", args: []string{"dump", "$DICT", "--limit", "-1"}},
		{name: "dump, empty dictionary", args: []string{"dump", "$EMPTY"}},
		{name: "count", args: []string{"count", "$DICT"}},
		{name: "count --prefix", args: []string{"count", "$DICT", "--prefix", "user:01"}},
		{name: "count json", args: []string{"count", "$DICT", "-f", "json", "-p", "a"}},
		{name: "count, empty dictionary", args: []string{"count", "$EMPTY"}},
	})
}
