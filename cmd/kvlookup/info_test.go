package main

import "testing"

// Ensure that info shows the manifest and that verify exits 0 on a good
// dictionary and 3, naming the file, on a damaged one.
func TestInfoVerify(t *testing.T) {
	runGolden(t, "info", []testCase{
		{name: "info", args: []string{"info", "$DICT"}},
		{name: "info, empty dictionary", args: []string{"info", "$EMPTY"}},
		{name: "info, 3 partitions", args: []string{"info", "$PARTS"}},
		{name: "verify, 3 partitions", args: []string{"verify", "$PARTS"}},
		{name: "lookups and scans across partitions", args: []string{"get", "$PARTS", "", "apple", "user:0070", "user:0140", "日本"}},
		{name: "a range across partitions", args: []string{"range", "$PARTS", "--from", "user:0068", "--to", "user:0073"}},
		{name: "info, not a dictionary", args: []string{"info", "$NOTDICT"}},
		{name: "verify, intact", args: []string{"verify", "$DICT"}},
		{name: "verify, json", args: []string{"verify", "-f", "json", "$DICT"}},
		{name: "verify, empty dictionary", args: []string{"verify", "$EMPTY"}},
		{name: "verify, a flipped byte in the value log", args: []string{"verify", "$CORRUPT"}},
		{name: "verify, truncated", args: []string{"verify", "$TRUNCATED"}},
		{name: "info json", args: []string{"info", "--format", "json", "$DICT"}},
		{name: "lookups do not check every byte: the damaged value comes back wrong", args: []string{"get", "$CORRUPT", "user:0105", "user:0106"}},
		{name: "a value record that runs past the end: get fails", args: []string{"get", "$BADRECORD", "apple", "日本"}},
		{name: "a value record that runs past the end: the scan stops there", args: []string{"range", "$BADRECORD", "--from", "user:0198"}},
		{name: "a value record that runs past the end: verify", args: []string{"verify", "$BADRECORD"}},
		{name: "verify, bad magic", args: []string{"verify", "$BADMAGIC"}},
		{name: "verify, missing", args: []string{"verify", "$MISSING"}},
		{name: "verify, extra argument", args: []string{"verify", "$DICT", "x"}},
	})
}
