package reader_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/store"
)

// benchStore publishes n random keys (testutil shapes) as version 1 of a
// store and returns the store and the keys.
func benchStore(b *testing.B, n int) (string, [][]byte) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "store")
	p, err := store.Begin(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Abort()
	keys := make([][]byte, n)
	for i := range n {
		keys[i] = fmt.Appendf(nil, "https://example.com/%08d/page", i*7919%n)
	}
	sorted := make([][]byte, n)
	for i := range n {
		sorted[i] = fmt.Appendf(nil, "https://example.com/%08d/page", i)
	}
	for _, k := range sorted {
		if err := p.Add(k, k[8:20]); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := p.Publish(); err != nil {
		b.Fatal(err)
	}
	return dir, keys
}

// BenchmarkHandle compares a lookup through a Handle (pin, copy the value
// into a reused buffer, unpin) with Dict.Get on the same version, in the
// same run, single goroutine and parallel.
func BenchmarkHandle(b *testing.B) {
	dir, keys := benchStore(b, 1_000_000)
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
	b.Run("api=Dict.Get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := d.Get(keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api=Handle.AppendValue", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for i := 0; b.Loop(); i++ {
			if buf, err = h.AppendValue(buf[:0], keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api=Handle.Get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := h.Get(keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api=Dict.Get/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := d.Get(keys[i%len(keys)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("api=Handle.AppendValue/parallel", func(b *testing.B) {
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

// BenchmarkHandle_Reload times a switch: CURRENT replaced (without the
// publisher's fsyncs), Reload, and the first lookup answered from the new
// version. The versions alternate between two of 1M keys.
func BenchmarkHandle_Reload(b *testing.B) {
	dir, keys := benchStore(b, 1_000_000)
	p, err := store.Begin(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Add(keys[0], []byte("v2")); err != nil {
		b.Fatal(err)
	}
	if _, err := p.Publish(); err != nil {
		b.Fatal(err)
	}
	h, err := reader.OpenHandle(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := switchCurrent(dir, i%2+1); err != nil {
			b.Fatal(err)
		}
		if changed, err := h.Reload(); !changed || err != nil {
			b.Fatalf("Reload = %v, %v", changed, err)
		}
		if _, err := h.Get(keys[0]); err != nil {
			b.Fatal(err)
		}
	}
}
