package fst_test

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/frame"
)

// FuzzLoad feeds arbitrary bytes to Load, and every read path to what
// loads: nothing may panic or hang. Each input is tried twice: as a whole
// file, and as a vellum body framed with correct checksums and the count
// from vellum's own footer, so that the fuzzer reaches vellum's decoder
// without having to forge CRCs. Seeds: every file in testdata/, plus
// small built FSTs.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.fst"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(build(f, nil, nil))
	f.Add(build(f, []kv{{nil, 7}}, nil))
	f.Add(build(f, filter(randomKVs(40, 12), func(k []byte) bool { return len(k) < 40 }), nil))
	probes := []kv{{nil, 0}, {[]byte("cat"), 0}, {[]byte("cats"), 0}, {[]byte("dog"), 0}, {[]byte("alpha/1"), 0}, {[]byte{0xff}, 0}}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		if ff, err := fst.Load(data); err == nil {
			exercise(t, ff, probes)
		}
		if ff, err := fst.Load(frameBody(data)); err == nil {
			exercise(t, ff, probes)
		}
		// A hang shows up as a slow input long before it hits a timeout.
		if el := time.Since(start); el > 2*time.Second && len(data) < 1<<16 {
			t.Fatalf("%d-byte input took %v", len(data), el)
		}
	})
}

// frameBody wraps body in a frame with valid checksums, taking the count
// from the last 16 bytes (vellum's footer) when they hold a plausible one.
// The count is capped because an iterator's work bound grows with the
// count it is told: a forged count of 2^60 makes "never hang" meaningless.
func frameBody(body []byte) []byte {
	var count uint64
	if len(body) >= 16 {
		count = binary.LittleEndian.Uint64(body[len(body)-16:])
	}
	if count > 1000 {
		count = 1000
	}
	b := frame.AppendHeader(nil, frame.Header{Magic: fst.Magic, Version: fst.Version})
	b = append(b, body...)
	return frame.AppendFooter(b, fst.Magic, frame.Footer{Count: count, BodyLen: uint64(len(body)), BodyCRC: crc32.Checksum(b, frame.Table)})
}
