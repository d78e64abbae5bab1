package hashindex_test

import (
	"io"
	"testing"

	"github.com/kvdict/kvdict/hashindex"
)

// BenchmarkWriter measures an index build of 2M URL-like keys added in
// key order, as the builder adds them: in memory, and with a budget that
// spills four sorted runs and merges them (kvbuild's case at 10M keys).
// One op is the whole build; ns/key is reported.
//
//	go test ./hashindex -run '^$' -bench Writer -benchtime 5x -count 3
func BenchmarkWriter(b *testing.B) {
	const n = 2_000_000
	ks := keys(n, "https://www.example.com/news/garden")
	for _, tc := range []struct {
		name string
		mem  int
	}{{"in-memory", 128 << 20}, {"spilled", n * 16 * 2 / 4}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				w := hashindex.NewWriter(io.Discard, &hashindex.WriterOptions{Seed: 1, MemoryBytes: tc.mem, TmpDir: b.TempDir()})
				for i, k := range ks {
					if err := w.Add(k, uint64(i+1)*64); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
		})
	}
}
