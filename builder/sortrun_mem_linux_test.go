//go:build linux

package builder

import (
	"runtime"
	"strconv"
	"testing"
)

// A run buffer's index must live outside the Go heap, like its record
// blocks: the memory limit kvbuild sets covers only the heap, and entry
// slices left there as garbage after each doubling let a 100M-key build
// reach 1.25x its --memory (docs/BENCHMARKS.md §9, "A billion keys").
func TestRunBufEntriesOffHeap(t *testing.T) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	rb := newRunBuf(256 << 20)
	var key []byte
	n := 0
	for ; n < 2_000_000; n++ {
		key = strconv.AppendInt(key[:0], int64(n)*7919, 36)
		if !rb.add(key, key[:3], uint64(n)) {
			break
		}
	}
	if n < 1_000_000 {
		t.Fatalf("only %d records fit in 256 MiB", n)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	entries := int64(cap(rb.ents)) * entrySize
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	// 2M entries are 64 MiB; the heap may grow by bookkeeping only.
	if grown > entries/8 {
		t.Errorf("heap grew %d bytes holding %d records (entries take %d bytes): the index is on the Go heap", grown, n, entries)
	}
	if got, want := rb.used(), int64(len(rb.blocks))*int64(rb.blockSize)+entries; got != want {
		t.Errorf("used() = %d, want %d", got, want)
	}
	rb.sort()
	for i := 1; i < len(rb.ents); i++ {
		if string(rb.key(&rb.ents[i-1])) > string(rb.key(&rb.ents[i])) {
			t.Fatalf("entries %d and %d out of order after the sort", i-1, i)
		}
	}
	rb.release()
}
