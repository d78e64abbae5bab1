package reader_test

import (
	"flag"
	"fmt"
	"github.com/blevesearch/vellum"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// Benchmarks run on 1M keys by default; docs/BENCHMARKS.md records runs at
// -bench.keys=10000000. Dictionaries are built once into -bench.dir and
// reused.
var (
	benchKeys = flag.Int("bench.keys", 1_000_000, "number of keys in benchmark dictionaries")
	benchDir  = flag.String("bench.dir", filepath.Join(os.TempDir(), "kvdict-bench"), "where benchmark dictionaries are cached")
)

type benchDict struct {
	hash     bool // built with a hash index
	path     string
	sample   [][]byte // existing keys, in random order
	rawBytes int64    // bytes of the equivalent TSV input
}

var benchDicts = map[string]*benchDict{}

func getBenchDict(b *testing.B, shape string, hash bool) *benchDict {
	name := fmt.Sprintf("%s-%d", shape, *benchKeys)
	var opts *builder.Options
	if hash {
		name += "-hix"
		opts = &builder.Options{HashIndex: &hashindex.WriterOptions{}}
	}
	if bd := benchDicts[name]; bd != nil {
		return bd
	}
	keys := testutil.SortedKeys(shape, *benchKeys, 1)
	bd := &benchDict{path: filepath.Join(*benchDir, name+".kvd"), hash: hash}
	var val []byte
	for i, k := range keys {
		val = testutil.Value(val[:0], i)
		bd.rawBytes += int64(len(k) + 1 + len(val) + 1)
	}
	if _, err := os.Stat(bd.path); err != nil {
		os.MkdirAll(*benchDir, 0o755)
		start := time.Now()
		bu, err := builder.Create(bd.path, opts)
		if err != nil {
			b.Fatal(err)
		}
		for i, k := range keys {
			val = testutil.Value(val[:0], i)
			if err := bu.Add(k, val); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := bu.Commit(); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %s in %v", bd.path, time.Since(start))
	}
	r := rand.New(rand.NewPCG(2, 2))
	for range min(len(keys), 1<<20) {
		bd.sample = append(bd.sample, keys[r.IntN(len(keys))])
	}
	benchDicts[name] = bd
	return bd
}

func openBench(b *testing.B, bd *benchDict) *reader.Dict {
	d, err := reader.Open(bd.path, nil)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// shapes runs f on each key shape, with the FST only and with a hash
// index (index=fst, index=hash).
func shapes(b *testing.B, f func(b *testing.B, bd *benchDict)) {
	for _, shape := range []string{"url", "random"} {
		for _, hash := range []bool{false, true} {
			b.Run(fmt.Sprintf("keys=%s/n=%d/index=%s", shape, *benchKeys, map[bool]string{false: "fst", true: "hash"}[hash]), func(b *testing.B) {
				f(b, getBenchDict(b, shape, hash))
			})
		}
	}
}

// fstShapes runs f on each key shape's FST-only dictionary.
func fstShapes(b *testing.B, f func(b *testing.B, bd *benchDict)) {
	for _, shape := range []string{"url", "random"} {
		b.Run(fmt.Sprintf("keys=%s/n=%d", shape, *benchKeys), func(b *testing.B) {
			f(b, getBenchDict(b, shape, false))
		})
	}
}

// BenchmarkGet measures warm lookups of existing keys in random order. Run
// with -cpu 1,2 for 1 and 2 goroutines: the figure per op is wall time
// divided by all goroutines' lookups, so it halves when Get scales.
func BenchmarkGet(b *testing.B) {
	shapes(b, func(b *testing.B, bd *benchDict) {
		d := openBench(b, bd)
		defer d.Close()
		for _, k := range bd.sample { // warm the page cache
			d.Get(k)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(bd.sample))
			for pb.Next() {
				if _, err := d.Get(bd.sample[i]); err != nil {
					b.Error(err)
					return
				}
				i++
				if i == len(bd.sample) {
					i = 0
				}
			}
		})
	})
}

// BenchmarkGetMiss measures lookups of absent keys (an existing key with
// its last byte changed).
func BenchmarkGetMiss(b *testing.B) {
	shapes(b, func(b *testing.B, bd *benchDict) {
		d := openBench(b, bd)
		defer d.Close()
		miss := make([][]byte, len(bd.sample))
		for i, k := range bd.sample {
			m := append([]byte(nil), k...)
			m[len(m)-1] = '~'
			miss[i] = m
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(miss))
			for pb.Next() {
				d.Get(miss[i])
				i++
				if i == len(miss) {
					i = 0
				}
			}
		})
	})
}

// BenchmarkGetBatch measures GetBatch over batches of 256 existing keys in
// random order, one goroutine per -cpu; ns/op is per key.
func BenchmarkGetBatch(b *testing.B) {
	shapes(b, func(b *testing.B, bd *benchDict) {
		d := openBench(b, bd)
		defer d.Close()
		for _, k := range bd.sample {
			d.Get(k)
		}
		const n = 256
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			vals, found := make([][]byte, n), make([]bool, n)
			i := rand.IntN(len(bd.sample)-n) &^ (n - 1)
			for {
				keys := bd.sample[i : i+n]
				for range n {
					if !pb.Next() {
						return
					}
				}
				if err := d.GetBatch(keys, vals, found); err != nil {
					b.Error(err)
					return
				}
				if i += n; i+n > len(bd.sample) {
					i = 0
				}
			}
		})
	})
}

// BenchmarkScan measures a full scan of keys and values in key order.
func BenchmarkScan(b *testing.B) {
	shapes(b, func(b *testing.B, bd *benchDict) {
		d := openBench(b, bd)
		defer d.Close()
		b.ReportAllocs()
		b.ResetTimer()
		n := 0
		for range b.N {
			it := d.All()
			for it.Next() {
				it.Value()
				n++
			}
			if err := it.Err(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "keys/s")
	})
}

// BenchmarkOpen measures Open+Close (what every worker process pays at
// start), and reports the dictionary's size per key against the TSV it was
// built from. Stats is taken once, outside the timed loop: its page-cache
// residency count (mincore) is O(size), Open is not.
func BenchmarkOpen(b *testing.B) {
	shapes(b, func(b *testing.B, bd *benchDict) {
		d := openBench(b, bd)
		st, err := d.Stats()
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			openBench(b, bd).Close()
		}
		b.ReportMetric(float64(st.Bytes())/float64(st.Keys), "B/key")
		b.ReportMetric(float64(bd.rawBytes)/float64(st.Keys), "tsvB/key")
		b.ReportMetric(float64(st.FSTBytes)/float64(st.Keys), "fstB/key")
		b.ReportMetric(float64(st.HashIndexBytes)/float64(st.Keys), "hixB/key")
	})
}

// BenchmarkVellumGet is the baseline for BenchmarkGet, measured in the same
// run: vellum's own allocation-free lookup (one vellum.Reader per
// goroutine) on the very FST bytes of the first partition, key to offset
// only, with no value read. The reference, 0.56 M lookups/s on 10M
// URL-like keys, is vellum's FST.Get, which is slower still (it allocates).
func BenchmarkVellumGet(b *testing.B) {
	fstShapes(b, func(b *testing.B, bd *benchDict) {
		m := openBench(b, bd).Manifest()
		data, err := os.ReadFile(filepath.Join(bd.path, m.Partitions[0].FST.Name))
		if err != nil {
			b.Fatal(err)
		}
		file, err := frame.Decode(data, fst.Magic, fst.Version)
		if err != nil {
			b.Fatal(err)
		}
		v, err := vellum.Load(file.Body)
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range bd.sample { // warm
			v.Get(k)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			r, _ := v.Reader()
			i := rand.IntN(len(bd.sample))
			for pb.Next() {
				r.Get(bd.sample[i])
				i++
				if i == len(bd.sample) {
					i = 0
				}
			}
		})
	})
}
