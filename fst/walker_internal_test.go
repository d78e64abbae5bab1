package fst

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// Ensure findInput finds what bytes.IndexByte finds, the first
// occurrence, for every count 0 to 40 (one word, two words, IndexByte),
// at every position, with repeated bytes, and with the bytes the SWAR
// test could confuse: 0x00, 0x01, 0x7f, 0x80, 0xff and c^0x80 next to c.
func TestFindInput(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	alphabet := []byte{0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, 'a', 'a' ^ 0x80}
	buf := make([]byte, 64+16)
	for round := range 20000 {
		for i := range buf {
			if round%2 == 0 {
				buf[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				buf[i] = byte(r.Uint32())
			}
		}
		n := r.IntN(41)
		p := r.IntN(8)
		c := alphabet[r.IntN(len(alphabet))]
		if round%3 == 0 && n > 0 {
			c = buf[p+r.IntN(n)] // present
		}
		want := bytes.IndexByte(buf[p:p+n], c)
		if got := findInput(buf, p, n, c); got != want {
			t.Fatalf("findInput(% x, %#x) = %d, want %d", buf[p:p+n], c, got, want)
		}
	}
}
