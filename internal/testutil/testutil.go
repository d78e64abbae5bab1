// Package testutil builds dictionaries and random key-value sets for tests.
package testutil

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kvdict/kvdict/builder"
)

// KV is one key-value pair.
type KV struct{ Key, Value []byte }

// MustBuild writes kvs (in any order, without duplicate keys) as a
// dictionary in a fresh directory under t.TempDir and returns its path.
// parts > 1 splits the keys into that many partitions, written
// concurrently.
func MustBuild(t testing.TB, kvs []KV, parts int, opts *builder.Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.kvd")
	Build(t, path, kvs, parts, opts)
	return path
}

// Build is MustBuild at a given path.
func Build(t testing.TB, path string, kvs []KV, parts int, opts *builder.Options) {
	t.Helper()
	kvs = slices.Clone(kvs)
	slices.SortFunc(kvs, func(a, b KV) int { return bytes.Compare(a.Key, b.Key) })
	b, err := builder.Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	if parts <= 1 {
		for _, kv := range kvs {
			if err := b.Add(kv.Key, kv.Value); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		errc := make(chan error, parts)
		for i := range parts {
			p, err := b.NewPartition()
			if err != nil {
				t.Fatal(err)
			}
			chunk := kvs[i*len(kvs)/parts : (i+1)*len(kvs)/parts]
			go func() {
				for _, kv := range chunk {
					if err := p.Add(kv.Key, kv.Value); err != nil {
						errc <- err
						return
					}
				}
				errc <- p.Close()
			}()
		}
		for range parts {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

// RandomKVs returns n pairs with distinct keys of the shapes real data has:
// URL-like, random binary (not UTF-8), non-ASCII text, the empty key, and
// values that are often empty and often repeated.
func RandomKVs(n int, seed uint64) []KV {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := make(map[string]bool, n)
	kvs := make([]KV, 0, n)
	words := []string{"alpha", "beta", "gamma", "délta", "日本", "ключ", "kv", "dict", "x"}
	for len(kvs) < n {
		var k []byte
		switch r.IntN(4) {
		case 0:
			k = fmt.Appendf(nil, "https://%s.example/%s/%d", words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(1e9))
		case 1:
			k = make([]byte, 1+r.IntN(24))
			for i := range k {
				k[i] = byte(r.Uint32())
			}
		case 2:
			k = fmt.Appendf(nil, "%s-%s-%x", words[r.IntN(len(words))], words[r.IntN(len(words))], r.Uint64())
		default:
			k = fmt.Appendf(nil, "%d", r.Uint64N(1e12))
		}
		if len(kvs) == 0 {
			k = []byte{} // the empty key is a key like any other
		}
		if seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		var v []byte
		switch r.IntN(5) {
		case 0: // empty value
			v = []byte{}
		case 1: // a repeated value: exercises deduplication
			v = []byte(words[r.IntN(len(words))])
		default:
			v = make([]byte, r.IntN(64))
			for i := range v {
				v[i] = byte(r.Uint32())
			}
		}
		kvs = append(kvs, KV{k, v})
	}
	return kvs
}
