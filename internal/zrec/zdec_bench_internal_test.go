package zrec

import (
	"os"
	"testing"
)

// BenchmarkDecodeFrame decodes the golden treeless group with the fast
// decoder alone (no group header, no checksum).
func BenchmarkDecodeFrame(b *testing.B) {
	dict, _ := os.ReadFile("testdata/golden-treeless.dict")
	src, _ := os.ReadFile("testdata/golden-treeless.zrec")
	h, err := parseHeader(src, DefaultMaxPayload, true)
	if err != nil || h.raw {
		b.Fatal(err)
	}
	zd, err := parseZdict(dict)
	if err != nil {
		b.Fatal(err)
	}
	z := newZstate()
	body := src[h.dataOff : h.dataOff+h.m]
	b.SetBytes(int64(h.n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := z.decodeFrame(zd, body, h.n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeFrameKlauspost decodes the same group with klauspost.
func BenchmarkDecodeFrameKlauspost(b *testing.B) {
	dict, _ := os.ReadFile("testdata/golden-treeless.dict")
	src, _ := os.ReadFile("testdata/golden-treeless.zrec")
	d, err := NewDecoder(dict, nil)
	if err != nil {
		b.Fatal(err)
	}
	d.zd = nil
	h, _ := parseHeader(src, DefaultMaxPayload, true)
	s := d.getScratch()
	out := make([]byte, 0, h.n)
	b.SetBytes(int64(h.n))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.decodeZstd(s, out, src[h.dataOff:h.dataOff+h.m], h.n); err != nil {
			b.Fatal(err)
		}
	}
}
