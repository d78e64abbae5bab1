package testutil

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
)

// syllables make a synthetic vocabulary: word i is a fixed combination of
// two to four syllables, so the vocabulary is large (like real domains and
// path words) yet deterministic and cheap to generate.
var syllables = []string{"ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "an", "ber", "cor",
	"dal", "en", "fir", "gun", "hol", "is", "jun", "kel", "lin", "mor", "nas", "op", "per", "qui",
	"ros", "sil", "tor", "ul", "ven", "wis", "xan", "yor", "zen", "ax", "bo", "cy", "du", "ep"}

var tlds = []string{".com", ".org", ".net", ".io", ".de", ".co.uk", ".fr", ".info"}

func appendWord(dst []byte, i uint64) []byte {
	n := 2 + i%3
	for range n {
		dst = append(dst, syllables[i%uint64(len(syllables))]...)
		i /= uint64(len(syllables))
		i = i*2654435761 + 1
	}
	return dst
}

// SortedKeys returns n distinct keys of the given shape in byte order:
// "url" (synthetic URLs, ~50 bytes, Zipf-skewed domains and path words: the
// shape FSTs compress well) or "random" (16 random bytes as 32 hex
// characters: the shape they cannot compress). Deterministic for a seed.
func SortedKeys(shape string, n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0x6b76646963740a))
	// Zipf-skewed: 50,000 domains and 20,000 path words, as on the web.
	z := rand.NewZipf(r, 1.1, 1, 50_000-1)
	zw := rand.NewZipf(r, 1.05, 1, 20_000-1)
	keys := make([][]byte, 0, n)
	buf := make([]byte, 0, 64*n)
	for i := range n {
		start := len(buf)
		switch shape {
		case "url":
			scheme := [...]string{"http://", "https://", "https://www."}[r.IntN(3)]
			d := z.Uint64()
			buf = append(buf, scheme...)
			buf = appendWord(buf, d)
			buf = append(buf, tlds[d%uint64(len(tlds))]...)
			for range 1 + r.IntN(3) {
				buf = append(buf, '/')
				buf = appendWord(buf, zw.Uint64()+50_000)
			}
			// A unique, random-looking leaf keeps keys distinct.
			switch r.IntN(3) {
			case 0:
				buf = fmt.Appendf(buf, "/%d", uint64(i)*0x9E3779B97F4A7C15>>36)
			case 1:
				buf = fmt.Appendf(buf, "/%x.html", uint64(i)*0x9E3779B97F4A7C15>>32)
			default:
				buf = append(buf, '/')
				buf = appendWord(buf, r.Uint64N(1<<20))
				buf = fmt.Appendf(buf, "-%d", i)
			}
		case "random":
			buf = fmt.Appendf(buf, "%016x%016x", r.Uint64(), uint64(i)*0x9E3779B97F4A7C15)
		default:
			panic("testutil: unknown key shape " + shape)
		}
		keys = append(keys, buf[start:len(buf):len(buf)])
	}
	slices.SortFunc(keys, bytes.Compare)
	return slices.CompactFunc(keys, bytes.Equal)
}

// Value returns a deterministic value of 8 to 64 printable bytes for key
// number i.
func Value(dst []byte, i int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -" // 64
	h := uint64(i)*0x9E3779B97F4A7C15 + 1
	n := 8 + int(h%57)
	for range n {
		h ^= h >> 29
		h *= 0xBF58476D1CE4E5B9
		dst = append(dst, alphabet[h>>58])
	}
	return dst
}
