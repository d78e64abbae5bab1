package main

import "testing"

// Ensure that count prints the total from the manifest, or counts a
// prefix.
func TestCount(t *testing.T) {
	runGolden(t, "count", []testCase{
		{name: "count", args: []string{"count", "$DICT"}},
		{name: "count --prefix", args: []string{"count", "$DICT", "--prefix", "user:01"}},
		{name: "count json", args: []string{"count", "$DICT", "-f", "json", "-p", "a"}},
		{name: "count, empty dictionary", args: []string{"count", "$EMPTY"}},
	})
}
