package main

import "testing"

// Ensure that verify exits 0 and says what it checked on an intact
// dictionary, and 3 when it cannot be opened.
func TestVerify(t *testing.T) {
	runGolden(t, "verify", []testCase{
		{name: "verify, intact", args: []string{"verify", "$DICT"}},
		{name: "verify, json", args: []string{"verify", "-f", "json", "$DICT"}},
		{name: "verify, 3 partitions on 2 threads", args: []string{"verify", "$PARTS", "--threads", "2"}},
		{name: "verify, one thread", args: []string{"verify", "-t", "1", "$PARTS"}},
		{name: "verify, negative --threads", args: []string{"verify", "-t", "-1", "$PARTS"}},
		{name: "verify, empty dictionary", args: []string{"verify", "$EMPTY"}},
		{name: "verify, truncated", args: []string{"verify", "$TRUNCATED"}},
		{name: "verify, bad magic", args: []string{"verify", "$BADMAGIC"}},
		{name: "verify, missing", args: []string{"verify", "$MISSING"}},
		{name: "verify, extra argument", args: []string{"verify", "$DICT", "x"}},
	})
}
