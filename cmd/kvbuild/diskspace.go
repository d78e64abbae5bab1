package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// compressionRatio is the assumed expansion of .gz/.zst input when
// estimating the space a build needs (TSV typically compresses 3-6x).
const compressionRatio = 4

// freeSpace reports the bytes available to this user on the file system
// holding dir, and that file system's id. A variable so tests can fake a
// full disk.
var freeSpace = func(dir string) (free int64, fsid uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	var s unix.Stat_t
	if err := unix.Stat(dir, &s); err != nil {
		return 0, 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), uint64(s.Dev), nil
}

// spaceNeed estimates a build's disk needs from its inputs: the input
// size (compressed files counted at compressionRatio times their size),
// and whether any input's size is unknown (stdin, a pipe).
func spaceNeed(inputs []string) (bytes int64, estimated, unknown bool) {
	for _, name := range inputs {
		fi, err := os.Stat(name)
		if name == "-" || err != nil || !fi.Mode().IsRegular() {
			unknown = true
			continue
		}
		if isCompressed(name) {
			bytes += fi.Size() * compressionRatio
			estimated = true
		} else {
			bytes += fi.Size()
		}
	}
	return bytes, estimated, unknown
}

func isCompressed(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	return bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd})
}

// checkSpace warns, before the build starts, when the file systems of
// --tmp-dir (sorted runs, about the input's size when it does not fit in
// --memory) and of DICT (the new dictionary, typically 0.5-1x the input,
// written beside the old one under --force) have less free space than the
// build will probably need: better now than a disk-full error at the end
// of a long build. It only warns: the figures are estimates.
func checkSpace(stderr io.Writer, inputs []string, out, tmpDir string, memory int64, sorted bool) {
	input, estimated, unknown := spaceNeed(inputs)
	if input == 0 {
		return
	}
	var runs int64
	if !sorted && input > memory/4 {
		// Records take about twice their text in memory, and the output
		// partitions' reserves come out of --memory first: input over a
		// quarter of it is likely to spill. Runs hold every record,
		// prefix-compressed: about the input's size.
		runs = input
	}
	dict := input
	outDir := filepath.Dir(filepath.Clean(out))
	type place struct {
		dir  string
		need int64
		what string
		free int64
		runs bool
	}
	var places []*place
	byFS := map[uint64]*place{}
	add := func(dir string, need int64, what string) {
		if need == 0 {
			return
		}
		free, fsid, err := freeSpace(dir)
		if err != nil {
			return // the build itself will report an unusable directory
		}
		if p := byFS[fsid]; p != nil {
			p.need += need
			p.what += " and " + what
			return
		}
		p := &place{dir: dir, need: need, what: what, free: free, runs: dir == tmpDir}
		byFS[fsid] = p
		places = append(places, p)
	}
	add(tmpDir, runs, fmt.Sprintf("~%s of sorted runs", formatBytes(runs)))
	add(outDir, dict, fmt.Sprintf("up to ~%s for the dictionary", formatBytes(dict)))
	for _, p := range places {
		if p.free >= p.need {
			continue
		}
		basis := "the input size"
		if estimated {
			basis = fmt.Sprintf("the input size, compressed files counted %dx", compressionRatio)
		}
		if unknown {
			basis += "; standard input not counted"
		}
		advice := "free some space, or write DICT to another file system"
		if p.runs {
			advice = "free some space, or put the runs on another file system with --tmp-dir"
		}
		fmt.Fprintf(stderr, "kvbuild: warning: %s has %s free, but this build needs %s there (estimated from %s): it may fail with \"disk full\" near the end; %s.\n",
			p.dir, formatBytes(p.free), p.what, basis, advice)
	}
}
