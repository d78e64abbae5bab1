package main

import "testing"

// Ensure that fuzzy finds keys within the edit distance, counting Unicode
// characters, and rejects distances the automaton does not support.
func TestFuzzy(t *testing.T) {
	runGolden(t, "fuzzy", []testCase{
		{name: "fuzzy, default distance 1", args: []string{"fuzzy", "$DICT", "aple"}},
		{name: "fuzzy --keys-only", args: []string{"fuzzy", "$DICT", "aple", "--keys-only"}},
		{name: "fuzzy, distance 2", args: []string{"fuzzy", "$DICT", "bananna", "--distance", "2"}},
		{name: "fuzzy, non-ASCII", args: []string{"fuzzy", "$DICT", "cafe"}},
		{name: "fuzzy, distance 3 is too large", args: []string{"fuzzy", "$DICT", "apple", "--distance", "3"}},
		{name: "fuzzy, negative distance", args: []string{"fuzzy", "$DICT", "x", "-d", "-1"}},
	})
}
