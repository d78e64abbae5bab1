package reader_test

import (
	"os"
	"strings"
	"testing"
)

// Ensure every Go snippet in README.md is a verbatim excerpt of this
// package's example_test.go (which go test runs), so the README cannot
// drift from code that compiles and works. Indentation is ignored.
func TestREADMESnippets(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string {
		var lines []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	ex := norm(string(examples))
	blocks := strings.Split(string(readme), "```go\n")[1:]
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go snippet")
	}
	for i, b := range blocks {
		snippet := norm(strings.SplitN(b, "```", 2)[0])
		if !strings.Contains(ex, snippet) {
			t.Errorf("README.md Go snippet %d is not an excerpt of reader/example_test.go:\n%s", i+1, snippet)
		}
	}
}
