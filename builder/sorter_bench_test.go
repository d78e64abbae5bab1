package builder_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/builder"
)

// BenchmarkSorter times Sorter.Add through Commit: records in random order
// (URL-like keys, 1 in 4 a duplicate, 16-byte values) into a dictionary,
// in memory and with a budget small enough to spill. One op is one whole
// build; ns/record is the op's time per record added.
func BenchmarkSorter(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		r := rand.New(rand.NewPCG(1, 2))
		keys := make([][]byte, n)
		for i := range keys {
			keys[i] = fmt.Appendf(nil, "https://www.example%d.com/path/%d", r.IntN(1000), r.IntN(n*3/4))
		}
		val := []byte("0123456789abcdef")
		var size int64
		for _, k := range keys {
			size += int64(len(k) + len(val))
		}
		for _, mode := range []struct {
			name string
			mem  int64
		}{{"memory", 1 << 30}, {"spill", 32 << 20}} {
			b.Run(fmt.Sprintf("records=%d/mode=%s", n, mode.name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(size)
				dir := b.TempDir()
				built := 0
				for b.Loop() {
					built++
					s, err := builder.NewSorter(filepath.Join(dir, fmt.Sprint(built)), &builder.SortOptions{Memory: mode.mem, TempDir: dir})
					if err != nil {
						b.Fatal(err)
					}
					for _, k := range keys {
						if err := s.Add(k, val); err != nil {
							b.Fatal(err)
						}
					}
					if err := s.Commit(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
			})
		}
	}
}
