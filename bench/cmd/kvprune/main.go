// Command kvprune projects the size of a tail-pruned layout, one that
// kvdict does not build (yet): the FST holds only each key's shortest
// prefix that tells it from its neighbours, and the rest of the key (its
// tail) is stored with the value in the value log's compressed groups,
// where a lookup compares it, as the hash index's keyed records do.
//
// Given a TSV sorted by key (bytewise; with duplicates, the first line of a
// key counts), it prints the bytes per key of
//
//   - the FST of the whole keys and of the pruned prefixes, with vellum's
//     registry off (kvbuild's raw default) and on (its compressed default),
//     outputs = key ordinals;
//   - zstd groups (package zrec, a dictionary trained on the groups, 8 and
//     16 records a group) of the values alone (what kvbuild --compression
//     zstd stores), of whole keys with values (--hash-index), and of key
//     tails with values (the pruned layout).
//
// The projection of a layout is its FST plus its groups; docs/BENCHMARKS.md
// section 6 ("What would close the size targets") compares them with mtbl.
//
//	go run ./cmd/kvprune SORTED.tsv
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"os"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/zrec"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("kvprune: ")
	if len(os.Args) != 2 {
		log.Fatal("usage: kvprune SORTED.tsv")
	}
	keys, vals, err := readSorted(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	n := float64(len(keys))
	fmt.Printf("%s: %d keys, %.1f key bytes/key, %.1f value bytes/key\n",
		os.Args[1], len(keys), float64(total(keys))/n, float64(total(vals))/n)
	pre := prefixes(keys)
	fmt.Printf("pruned prefixes: %.1f bytes/key\n", float64(total(pre))/n)
	for _, reg := range []int{-1, 0} {
		for _, c := range []struct {
			name string
			ks   [][]byte
		}{{"whole keys", keys}, {"pruned", pre}} {
			size, err := fstSize(c.ks, reg)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("FST, registry %s, %s: %.2f B/key\n", map[int]string{-1: "off", 0: "on"}[reg], c.name, float64(size)/n)
		}
	}
	for _, form := range []string{"values", "key+value", "tail+value"} {
		for _, per := range []int{8, 16} {
			raw, packed, dict, err := groupSize(keys, vals, pre, form, per)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("groups of %2d, %-10s: %.1f B/key raw, %.1f B/key compressed (+ %d B dictionary)\n",
				per, form, float64(raw)/n, float64(packed)/n, dict)
		}
	}
}

func readSorted(path string) (keys, vals [][]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	for line := 1; sc.Scan(); line++ {
		l := sc.Bytes()
		i := bytes.IndexByte(l, '\t')
		if i < 0 {
			return nil, nil, fmt.Errorf("%s:%d: no TAB between key and value", path, line)
		}
		k := l[:i]
		if m := len(keys); m > 0 {
			switch c := bytes.Compare(keys[m-1], k); {
			case c == 0:
				continue
			case c > 0:
				return nil, nil, fmt.Errorf("%s:%d: not sorted (sort it with LC_ALL=C sort -t TAB -k1,1 -s)", path, line)
			}
		}
		keys = append(keys, bytes.Clone(k))
		vals = append(vals, bytes.Clone(l[i+1:]))
	}
	return keys, vals, sc.Err()
}

// prefixes returns each key's shortest prefix that is not a prefix of its
// neighbours (the whole key when it is a prefix of the next one). They
// stay sorted and distinct, and at most one of them that is a prefix of a
// given string has a nonempty tail: the deepest, which a lookup compares.
func prefixes(keys [][]byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		l := 0
		if i > 0 {
			l = lcp(keys[i-1], k)
		}
		if i+1 < len(keys) {
			l = max(l, lcp(k, keys[i+1]))
		}
		out[i] = k[:min(l+1, len(k))]
	}
	return out
}

func lcp(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func total(bs [][]byte) (n int) {
	for _, b := range bs {
		n += len(b)
	}
	return n
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func fstSize(keys [][]byte, registry int) (int64, error) {
	w := &countWriter{}
	b, err := fst.NewBuilder(w, &fst.BuilderOptions{RegistryTableSize: registry})
	if err != nil {
		return 0, err
	}
	for i, k := range keys {
		if err := b.Add(k, uint64(i)); err != nil {
			return 0, err
		}
	}
	if _, err := b.Close(); err != nil {
		return 0, err
	}
	return w.n, nil
}

// groupSize packs per records a group, each a uvarint-framed key field
// (none, the whole key, or its tail after the pruned prefix) and value,
// trains a dictionary on the groups and encodes them all.
func groupSize(keys, vals, pre [][]byte, form string, per int) (raw, packed int64, dict int, err error) {
	each := func(fn func(p []byte)) {
		var p []byte
		for i := range keys {
			switch form {
			case "key+value":
				p = binary.AppendUvarint(p, uint64(len(keys[i])))
				p = append(p, keys[i]...)
			case "tail+value":
				t := keys[i][len(pre[i]):]
				p = binary.AppendUvarint(p, uint64(len(t)))
				p = append(p, t...)
			}
			p = binary.AppendUvarint(p, uint64(len(vals[i])))
			p = append(p, vals[i]...)
			if (i+1)%per == 0 || i == len(keys)-1 {
				fn(p)
				p = p[:0]
			}
		}
	}
	tr := zrec.NewTrainer(nil)
	each(func(p []byte) { tr.Add(p) })
	d, err := tr.Train()
	if err != nil {
		return 0, 0, 0, err
	}
	enc, err := zrec.NewEncoder(d, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	defer enc.Close()
	var out []byte
	each(func(p []byte) {
		raw += int64(len(p))
		out = enc.AppendGroup(out[:0], p)
		packed += int64(len(out))
	})
	return raw, packed, len(d), nil
}
