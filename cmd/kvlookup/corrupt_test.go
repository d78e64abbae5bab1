package main

import "testing"

// Ensure that damage is reported with the file and offset: lookups may
// miss a flipped byte inside a value (Open is O(1)), a broken record stops
// get and scans with exit 3, and verify catches both.
func TestCorrupt(t *testing.T) {
	runGolden(t, "corrupt", []testCase{
		{name: "verify, a flipped byte in the value log", args: []string{"verify", "$CORRUPT"}},
		{name: "lookups do not check every byte: the damaged value comes back wrong", args: []string{"get", "$CORRUPT", "user:0105", "user:0106"}},
		{name: "a value record that runs past the end: get fails", args: []string{"get", "$BADRECORD", "apple", "日本"}},
		{name: "a value record that runs past the end: the scan stops there", args: []string{"range", "$BADRECORD", "--from", "user:0198"}},
		{name: "a value record that runs past the end: verify", args: []string{"verify", "$BADRECORD"}},
	})
}
