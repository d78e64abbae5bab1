package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Prepared is what Prepare leaves in a dataset's directory.
type Prepared struct {
	Raw      string  `json:"raw"`    // the original TSV (what the Go map loads)
	Sorted   string  `json:"sorted"` // sorted by bytes, last value of a key wins
	Hits     string  `json:"hits"`   // key<TAB>expected value, random order
	Misses   string  `json:"misses"` // absent keys near present ones
	Lines    int64   `json:"lines"`
	Keys     int64   `json:"keys"`
	RawBytes int64   `json:"raw_bytes"`
	KeyBytes int64   `json:"key_bytes"` // sum of distinct keys' lengths
	ValBytes int64   `json:"value_bytes"`
	SortSec  float64 `json:"sort_seconds"` // load + sort + dedup + write, in Go
	Stamp    string  `json:"stamp"`        // raw's size and mtime: reuse when equal
}

type rec struct {
	k, v []byte
	pos  int
}

// Prepare writes sorted.tsv, hits.tsv and misses.tsv for raw into dir,
// reusing them when raw has not changed. nq is the number of query keys.
func Prepare(raw, dir string, nq int, seed uint64) (*Prepared, error) {
	st, err := os.Stat(raw)
	if err != nil {
		return nil, err
	}
	stamp := fmt.Sprintf("%d/%d/%d/%d", st.Size(), st.ModTime().UnixNano(), nq, seed)
	meta := filepath.Join(dir, "prepared.json")
	if b, err := os.ReadFile(meta); err == nil {
		var p Prepared
		if json.Unmarshal(b, &p) == nil && p.Stamp == stamp && p.Raw == raw {
			return &p, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &Prepared{Raw: raw, Stamp: stamp, RawBytes: st.Size(),
		Sorted: filepath.Join(dir, "sorted.tsv"),
		Hits:   filepath.Join(dir, "hits.tsv"),
		Misses: filepath.Join(dir, "misses.tsv")}

	t0 := time.Now()
	data, err := os.ReadFile(raw)
	if err != nil {
		return nil, err
	}
	recs := make([]rec, 0, bytes.Count(data, []byte("\n"))+1)
	for line := range bytes.Lines(data) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		k, v, _ := bytes.Cut(line, []byte("\t"))
		recs = append(recs, rec{k: k, v: v})
	}
	p.Lines = int64(len(recs))
	// Stable by key: pdqsort on (key, input position), which is
	// O(n log n), where slices.SortStableFunc's merge is O(n log² n).
	for i := range recs {
		recs[i].pos = i
	}
	slices.SortFunc(recs, func(a, b rec) int {
		if c := bytes.Compare(a.k, b.k); c != 0 {
			return c
		}
		return a.pos - b.pos
	})
	// Keep the last record of each run of equal keys (stable sort keeps
	// input order within a run).
	u := recs[:0]
	for i := range recs {
		if i+1 < len(recs) && bytes.Equal(recs[i].k, recs[i+1].k) {
			continue
		}
		u = append(u, recs[i])
	}
	recs = u
	p.Keys = int64(len(recs))
	if err := writeTSV(p.Sorted, len(recs), func(i int) ([]byte, []byte, bool) { return recs[i].k, recs[i].v, true }); err != nil {
		return nil, err
	}
	p.SortSec = time.Since(t0).Seconds()
	for _, r := range recs {
		p.KeyBytes += int64(len(r.k))
		p.ValBytes += int64(len(r.v))
	}

	// Hits: nq distinct keys drawn uniformly, in random order.
	r := rng{seed ^ 0x5eed}
	n := min(nq, len(recs))
	perm := make([]int, len(recs))
	for i := range perm {
		perm[i] = i
	}
	for i := 0; i < n; i++ { // partial Fisher-Yates
		j := i + int(r.below(uint64(len(perm)-i)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	hits := perm[:n]
	if err := writeTSV(p.Hits, n, func(i int) ([]byte, []byte, bool) { return recs[hits[i]].k, recs[hits[i]].v, true }); err != nil {
		return nil, err
	}
	// Misses: a present key with one byte changed (or one appended), so
	// lookups share long prefixes with real keys, as typos and stale ids
	// do; checked absent.
	exists := func(k []byte) bool {
		_, ok := slices.BinarySearchFunc(recs, k, func(a rec, k []byte) int { return bytes.Compare(a.k, k) })
		return ok
	}
	var misses [][]byte
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_./"
	for tries := 0; len(misses) < n && len(recs) > 0 && tries < 20*n+100; tries++ {
		k := slices.Clone(recs[r.below(uint64(len(recs)))].k)
		c := alphabet[r.below(uint64(len(alphabet)))]
		if len(k) == 0 || r.below(4) == 0 {
			k = append(k, c)
		} else {
			k[r.below(uint64(len(k)))] = c
		}
		if bytes.IndexByte(k, '\t') < 0 && !exists(k) {
			misses = append(misses, k)
		}
	}
	if err := writeTSV(p.Misses, len(misses), func(i int) ([]byte, []byte, bool) { return misses[i], nil, false }); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	return p, os.WriteFile(meta, b, 0o644)
}

func writeTSV(name string, n int, row func(i int) (k, v []byte, withValue bool)) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		k, v, wv := row(i)
		w.Write(k)
		if wv {
			w.WriteByte('\t')
			w.Write(v)
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rng is splitmix64 (deterministic query sets).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) below(n uint64) uint64 { return r.next() % n }
