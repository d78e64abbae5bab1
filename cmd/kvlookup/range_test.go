package main

import "testing"

// Ensure that range is [from, to), with either end optional.
func TestRange(t *testing.T) {
	runGolden(t, "range", []testCase{
		{name: "range [from, to)", args: []string{"range", "$DICT", "--from", "apricot", "--to", "cherry"}},
		{name: "range --keys-only", args: []string{"range", "-k", "$DICT", "--from", "apricot", "--to", "cherry"}},
		{name: "range, open start", args: []string{"range", "$DICT", "--to", "apricot"}},
		{name: "range, open end", args: []string{"range", "$DICT", "--from", "user:0198"}},
		{name: "range, from > to is empty", args: []string{"range", "$DICT", "--from", "b", "--to", "a"}},
	})
}
