package reader_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/store"
)

// benchHandleKeys is the store size of the Handle benchmarks: -bench.keys
// (docs/BENCHMARKS.md uses 10M).
func benchHandleKeys() int { return *benchKeys }

func benchKey(i int) []byte { return fmt.Appendf(nil, "https://example.com/%09d/page", i) }

// benchStore publishes n URL-like keys as version 1 of a store, and a
// version 2 that is a copy of it made of hard links (same files, a new
// directory: what a reload sees as a new version, at no build cost). It
// returns the store and the keys in a scattered lookup order. The store
// is cached in -bench.dir, like the other benchmark dictionaries, so that
// -count=N does not rebuild 10M keys N times.
func benchStore(b *testing.B, n int) (string, [][]byte) {
	b.Helper()
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = benchKey(int(uint64(i) * 0x9e3779b97f4a7c15 % uint64(n)))
	}
	dir := filepath.Join(*benchDir, fmt.Sprintf("handle-store-keys=%d", n))
	if _, err := os.Stat(filepath.Join(dir, "v000002.kvd")); err == nil {
		return dir, keys
	}
	if err := os.RemoveAll(dir); err != nil { // a half-made one
		b.Fatal(err)
	}
	if err := os.MkdirAll(*benchDir, 0o755); err != nil {
		b.Fatal(err)
	}
	p, err := store.Begin(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Abort()
	for i := range n {
		k := benchKey(i)
		if err := p.Add(k, k[20:29]); err != nil {
			b.Fatal(err)
		}
	}
	v1, err := p.Publish()
	if err != nil {
		b.Fatal(err)
	}
	v2 := filepath.Join(dir, "v000002.kvd")
	if err := os.Mkdir(v2, 0o755); err != nil {
		b.Fatal(err)
	}
	ents, err := os.ReadDir(v1.Path)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ents {
		if err := os.Link(filepath.Join(v1.Path, e.Name()), filepath.Join(v2, e.Name())); err != nil {
			b.Fatal(err)
		}
	}
	return dir, keys
}

// BenchmarkHandle compares a lookup through a Handle (pin, copy the value,
// unpin) with Dict.Get on the same files, in the same run, from one
// goroutine and from all (parallel).
func BenchmarkHandle(b *testing.B) {
	n := benchHandleKeys()
	dir, keys := benchStore(b, n)
	d, err := reader.Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	h, err := reader.OpenHandle(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	// Warm the page cache, and the page tables of both mappings (d and
	// the Handle map the same files separately).
	for _, k := range keys {
		if _, err := d.Get(k); err != nil {
			b.Fatal(err)
		}
		if _, err := h.Get(k); err != nil {
			b.Fatal(err)
		}
	}
	pre := fmt.Sprintf("keys=%d/", n)
	b.Run(pre+"api=Dict.Get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := d.Get(keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(pre+"api=Handle.AppendValue", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for i := 0; b.Loop(); i++ {
			if buf, err = h.AppendValue(buf[:0], keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(pre+"api=Handle.Get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := h.Get(keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(pre+"api=Dict.Get/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := d.Get(keys[i%len(keys)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run(pre+"api=Handle.AppendValue/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var buf []byte
			var err error
			for i := 0; pb.Next(); i++ {
				if buf, err = h.AppendValue(buf[:0], keys[i%len(keys)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkHandle_Reload times publish → first lookup answered from the
// new version: CURRENT is switched between two versions of the same size
// (the rename a publication ends with, without its fsyncs: switch-ns/op),
// then either Reload is called (mode=explicit; reload+get-ns/op is Reload
// and the first Get) or a Handle polling every 10 ms notices
// (mode=poll10ms; visible-ns/op runs from the rename to the first Get
// answered by the new version: about 5 ms of waiting on average, plus the
// reload).
func BenchmarkHandle_Reload(b *testing.B) {
	n := benchHandleKeys()
	dir, keys := benchStore(b, n)
	pre := fmt.Sprintf("keys=%d/", n)
	b.Run(pre+"mode=explicit", func(b *testing.B) {
		if err := switchCurrent(dir, 1); err != nil { // as a previous run may have left it
			b.Fatal(err)
		}
		h, err := reader.OpenHandle(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		b.ReportAllocs()
		var sw, rl time.Duration
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			if err := switchCurrent(dir, 2-i%2); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if changed, err := h.Reload(); !changed || err != nil {
				b.Fatalf("Reload = %v, %v", changed, err)
			}
			if _, err := h.Get(keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			sw, rl = sw+t1.Sub(t0), rl+time.Since(t1)
		}
		b.ReportMetric(float64(sw.Nanoseconds())/float64(b.N), "switch-ns/op")
		b.ReportMetric(float64(rl.Nanoseconds())/float64(b.N), "reload+get-ns/op")
	})
	b.Run(pre+"mode=poll10ms", func(b *testing.B) {
		if err := switchCurrent(dir, 1); err != nil {
			b.Fatal(err)
		}
		h, err := reader.OpenHandle(dir, &reader.HandleOptions{Poll: 10 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		var vis time.Duration
		for i := 0; b.Loop(); i++ {
			want := fmt.Sprintf("v%06d.kvd", 2-i%2)
			if err := switchCurrent(dir, 2-i%2); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			for h.Version() != want {
				time.Sleep(50 * time.Microsecond)
			}
			if _, err := h.Get(keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			vis += time.Since(t0)
		}
		b.ReportMetric(float64(vis.Nanoseconds())/float64(b.N), "visible-ns/op")
	})
}
