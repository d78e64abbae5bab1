package valuelog_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/kvdict/kvdict/valuelog"
)

// benchLog builds a log of n random values of size bytes, returning it and
// the offsets in a shuffled (random-access) order.
func benchLog(b testing.TB, n, size int) (*valuelog.Log, []uint64) {
	rng := rand.New(rand.NewPCG(7, 8))
	vals := make([][]byte, n)
	for i := range vals {
		vals[i] = make([]byte, size)
		for j := range vals[i] {
			vals[i][j] = byte(rng.Uint32())
		}
	}
	data, offs := build(b, &valuelog.WriterOptions{DedupBytes: -1}, vals)
	rng.Shuffle(len(offs), func(i, j int) { offs[i], offs[j] = offs[j], offs[i] })
	return mustLoad(b, data), offs
}

// Ensure that Value does not allocate (a tested target, not just a figure).
func TestValue_ZeroAllocs(t *testing.T) {
	l, offs := benchLog(t, 1000, 64)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := l.Value(offs[i%len(offs)]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("Value allocates %.1f times per call, want 0", allocs)
	}
}

func BenchmarkValue(b *testing.B) {
	for _, size := range []int{16, 64, 1024} {
		b.Run(fmt.Sprintf("records=1e5/valsize=%d", size), func(b *testing.B) {
			l, offs := benchLog(b, 100_000, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := l.Value(offs[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(offs) {
					i = 0
				}
			}
		})
	}
}

func BenchmarkValue_Parallel(b *testing.B) {
	l, offs := benchLog(b, 100_000, 64)
	b.SetBytes(64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Value(offs[i]); err != nil {
				b.Fatal(err)
			}
			if i++; i == len(offs) {
				i = 0
			}
		}
	})
}

// BenchmarkAppend measures Append with dedup on (default budget) and off,
// over values that never repeat and values drawn from a set of 10,000
// (repeating, so dedup hits).
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{16, 64, 1024} {
		for _, distinct := range []int{0, 10_000} {
			rng := rand.New(rand.NewPCG(9, 10))
			pool := make([][]byte, 1<<16)
			for i := range pool {
				pool[i] = make([]byte, size)
				for j := range pool[i] {
					pool[i][j] = byte(rng.Uint32())
				}
			}
			for _, dedup := range []int{0, -1} {
				name := fmt.Sprintf("valsize=%d/distinct=%d/dedup=%v", size, distinct, dedup == 0)
				b.Run(name, func(b *testing.B) {
					w, err := valuelog.NewWriter(io.Discard, &valuelog.WriterOptions{DedupBytes: dedup})
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(size))
					b.ReportAllocs()
					i, n := 0, uint64(0)
					for b.Loop() {
						v := pool[i&(len(pool)-1)]
						if distinct == 0 {
							v[0], v[1], v[2], v[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24) // unique
						} else {
							v = pool[i%distinct]
						}
						if _, err := w.Append(v); err != nil {
							b.Fatal(err)
						}
						i++
						n++
					}
					st := w.Stats()
					b.ReportMetric(float64(st.DedupHits)/float64(st.Appends), "hits/op")
				})
			}
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	l, _ := benchLog(b, 100_000, 64)
	b.SetBytes(int64(l.Size()))
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}
