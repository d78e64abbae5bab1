package main

import "testing"

// Ensure that commands work across partitions: info lists each one,
// verify checks them all, lookups and ranges cross their boundaries.
func TestPartitions(t *testing.T) {
	runGolden(t, "partitions", []testCase{
		{name: "info, 3 partitions", args: []string{"info", "$PARTS"}},
		{name: "verify, 3 partitions", args: []string{"verify", "$PARTS"}},
		{name: "lookups and scans across partitions", args: []string{"get", "$PARTS", "", "apple", "user:0070", "user:0140", "日本"}},
		{name: "a range across partitions", args: []string{"range", "$PARTS", "--from", "user:0068", "--to", "user:0073"}},
	})
}
