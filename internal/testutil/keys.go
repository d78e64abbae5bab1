package testutil

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
)

var (
	domains = []string{"example", "wikipedia", "github", "python", "golang", "news", "shop", "blog", "maps", "docs",
		"video", "music", "sport", "weather", "travel", "food", "health", "science", "games", "photos"}
	pathWords = []string{"index", "article", "user", "search", "item", "category", "page", "view", "post", "tag",
		"2024", "2025", "2026", "en", "de", "fr", "about", "help", "product", "list", "archive", "feed"}
	tlds = []string{".com", ".org", ".net", ".io", ".de"}
)

// SortedKeys returns n distinct keys of the given shape in byte order:
// "url" (synthetic URLs, ~50 bytes, Zipf-skewed domains and path words: the
// shape FSTs compress well) or "random" (16 random bytes as 32 hex
// characters: the shape they cannot compress). Deterministic for a seed.
func SortedKeys(shape string, n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0x6b76646963740a))
	z := rand.NewZipf(r, 1.2, 1, uint64(len(domains)-1))
	zw := rand.NewZipf(r, 1.1, 1, uint64(len(pathWords)-1))
	keys := make([][]byte, 0, n)
	buf := make([]byte, 0, 64*n)
	for i := range n {
		start := len(buf)
		switch shape {
		case "url":
			scheme := [...]string{"http://", "https://", "https://www."}[r.IntN(3)]
			buf = fmt.Appendf(buf, "%s%s%s/%s", scheme, domains[z.Uint64()], tlds[r.IntN(len(tlds))], pathWords[zw.Uint64()])
			if r.IntN(2) == 0 {
				buf = fmt.Appendf(buf, "/%s", pathWords[zw.Uint64()])
			}
			// A unique, random-looking id keeps keys distinct.
			buf = fmt.Appendf(buf, "/%d.html", uint64(i)*0x9E3779B97F4A7C15>>40)
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
