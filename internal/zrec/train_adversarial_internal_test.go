package zrec

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// Ensure that the history builder and Train handle samples no PyPI row
// looks like without a panic (Train would hide one: buildDict recovers),
// in bounded time and memory: empty and tiny samples, one byte repeated,
// all-distinct strings, small alphabets and records as long as MaxSample.
func TestBuildHistory_AdversarialSamples(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	letters := func(n, k int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a' + byte(r.IntN(k))
		}
		return b
	}
	distinct := func(n int) []byte { // every 6-byte string once
		b := make([]byte, 0, n)
		for i := uint64(0); len(b) < n; i++ {
			b = append(b, byte(i), byte(i>>8), byte(i>>16), 0xff, 0xfe, 0xfd)
		}
		return b[:n]
	}
	same := letters(8<<10, 26)
	many := func(n, size int, gen func(int) []byte) [][]byte {
		var out [][]byte
		for range n {
			out = append(out, gen(size))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		samples [][]byte
	}{
		{"empty samples", [][]byte{{}, {}, {}}},
		{"7-byte samples", many(100, 7, func(n int) []byte { return bytes.Repeat([]byte{'x'}, n) })},
		{"one 8-byte sample", [][]byte{[]byte("abcdefgh")}},
		{"one byte repeated", many(100, 8<<10, func(n int) []byte { return bytes.Repeat([]byte{0}, n) })},
		{"two bytes alternating", many(100, 8<<10, func(n int) []byte { return bytes.Repeat([]byte("ab"), n/2) })},
		{"identical samples", many(100, 8<<10, func(int) []byte { return same })},
		{"random 26 letters", many(100, 8<<10, func(n int) []byte { return letters(n, 26) })},
		{"all distinct", many(96, 8<<10, func(int) []byte { return distinct(8 << 10) })},
		{"random bytes", many(96, 8<<10, func(n int) []byte { return letters(n, 256) })},
		{"4 letters", many(96, 8<<10, func(n int) []byte { return letters(n, 4) })},
		{"2 letters", many(96, 8<<10, func(n int) []byte { return letters(n, 2) })},
		{"1 MiB of 2 letters", many(128, 8<<10, func(n int) []byte { return letters(n, 2) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			start := time.Now()
			total := 0
			for _, s := range tc.samples {
				total += len(s)
			}
			want := max(64, min(DefaultMaxDictSize, total/8))
			h, offs, err := buildHistory(tc.samples, want)
			runtime.ReadMemStats(&ms1)
			el := time.Since(start)
			t.Logf("%d sample bytes: history %d bytes, offsets %v, err %v; %v, %d MiB allocated", total, len(h), offs, err, el, (ms1.TotalAlloc-ms0.TotalAlloc)>>20)
			if len(h) > want {
				t.Errorf("history of %d bytes for %d wanted", len(h), want)
			}
			for _, o := range offs {
				if o <= 0 || o > len(h) && o > 8 {
					t.Errorf("offsets %v for a history of %d bytes", offs, len(h))
				}
			}
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > uint64(100*total+1<<20) {
				t.Errorf("allocated %d bytes for %d sample bytes", alloc, total)
			}
			tr := NewTrainer(nil)
			for _, s := range tc.samples {
				tr.Add(s)
			}
			d, err := tr.Train()
			if err != nil {
				t.Fatalf("Train: %v", err)
			}
			if d != nil && !usable(d, tc.samples[0]) {
				t.Fatalf("Train gave an unusable %d-byte dictionary", len(d))
			}
		})
	}
}
