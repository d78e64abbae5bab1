package main

import "testing"

// Ensure that regex matches whole keys and reports unsupported or too
// complex patterns as usage errors (exit 2).
func TestRegex(t *testing.T) {
	runGolden(t, "regex", []testCase{
		{name: "regex is anchored", args: []string{"regex", "$DICT", "a.*"}},
		{name: "regex, alternation", args: []string{"regex", "$DICT", "user:00(07|42)|banana"}},
		{name: "regex --keys-only", args: []string{"regex", "-k", "$DICT", "user:00(07|42)|banana"}},
		{name: "regex, invalid", args: []string{"regex", "$DICT", "a("}},
		{name: "regex, anchors are not supported", args: []string{"regex", "$DICT", "^apple$"}},
		{name: "regex, too many states", args: []string{"regex", "$DICT", ".{1000}"}},
	})
}
