package prefetch

import "testing"

// Ensure Range returns for every length and alignment, the empty and nil
// slices and a slice ending at the end of its array included, and changes
// nothing. (Whether the CPU fetched anything is not observable from a
// test; docs/BENCHMARKS.md §8 measures what it does for the FST walker.)
func TestRange(t *testing.T) {
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for lo := 0; lo < 200; lo++ {
		for n := 0; lo+n <= len(buf); n += 1 + n/3 {
			Range(buf[lo : lo+n])
		}
		Range(buf[len(buf)-lo:])
	}
	Range(nil)
	for i := range buf {
		if buf[i] != byte(i*7) {
			t.Fatalf("byte %d changed", i)
		}
	}
}

// BenchmarkRange measures one call on a cached 256-byte range (4 lines):
// what a prefetch costs a lookup when it was not needed.
func BenchmarkRange(b *testing.B) {
	buf := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		Range(buf)
	}
}
