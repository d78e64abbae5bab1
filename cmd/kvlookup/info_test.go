package main

import "testing"

// Ensure that info shows the manifest, the reader's stats and the tool
// version, in TSV and JSON.
func TestInfo(t *testing.T) {
	runGolden(t, "info", []testCase{
		{name: "info", args: []string{"info", "$DICT"}},
		{name: "info, empty dictionary", args: []string{"info", "$EMPTY"}},
		{name: "info, not a dictionary", args: []string{"info", "$NOTDICT"}},
		{name: "info json", args: []string{"info", "--format", "json", "$DICT"}},
	})
}
