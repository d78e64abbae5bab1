package main

import (
	"fmt"
	"io"
	"os"
)

// readLink returns what the symbolic link path points at, or "" if path
// is not a symbolic link.
func readLink(path string) string {
	s, err := os.Readlink(path)
	if err != nil {
		return ""
	}
	return s
}

// linkNote says where a --force build onto a symlink put the dictionary and
// that the previous one is kept (builder.Options.Force flips the link).
func linkNote(stderr io.Writer, out, prev string) {
	if prev == "" {
		return
	}
	if now := readLink(out); now != prev {
		fmt.Fprintf(stderr, "kvbuild: %s is a symbolic link: it now points at the new dictionary, %s; the previous one, %s, is kept (delete it once no reader uses it)\n", out, now, prev)
	}
}
