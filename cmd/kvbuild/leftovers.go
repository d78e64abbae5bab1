package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kvdict/kvdict/builder"
)

// removeLeftovers removes the temporary directories of killed builds in
// the target's directory and in --tmp-dir (builder.RemoveLeftovers) and
// says what it freed, and which look like leftovers but cannot be proved
// dead. Failures only warn: a stale directory must not stop a build.
func removeLeftovers(stderr io.Writer, quiet bool, dirs ...string) {
	seen := map[string]bool{}
	for _, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		r, err := builder.RemoveLeftovers(d)
		if err != nil {
			fmt.Fprintf(stderr, "kvbuild: warning: looking for leftover temporary directories in %s: %v\n", d, err)
		}
		if r == nil || quiet {
			continue
		}
		if len(r.Removed) > 0 {
			fmt.Fprintf(stderr, "kvbuild: removed %d temporary director%s of killed builds, %s freed: %s\n",
				len(r.Removed), plural(len(r.Removed), "y", "ies"), formatBytes(r.Freed), paths(r.Removed))
		}
		for _, l := range r.Unproven {
			fmt.Fprintf(stderr, "kvbuild: warning: %s (%s) looks like a temporary directory of another build, but nothing proves that build dead (made by an older kvbuild, or on another host or container): remove it by hand if no build is using it\n", l.Path, formatBytes(l.Bytes))
		}
		for _, err := range r.Errors {
			fmt.Fprintf(stderr, "kvbuild: warning: removing a leftover temporary directory: %v\n", err)
		}
	}
}

// leftoverDirs are the places a build of out leaves temporary directories:
// beside out (and beside its target if out is a symlink), --tmp-dir, and
// inside the store under --publish.
func leftoverDirs(out, tmpDir string, publish bool) []string {
	dirs := []string{filepath.Dir(filepath.Clean(out)), tmpDir}
	if r, err := filepath.EvalSymlinks(out); err == nil {
		dirs = append(dirs, filepath.Dir(r))
	}
	if publish {
		dirs = append(dirs, out) // versions are built inside the store
	}
	return dirs
}

func paths(ls []builder.Leftover) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = filepath.Base(l.Path)
	}
	return strings.Join(s, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
