package builder

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Ensure a build's bytes depend on the records (and their sequence
// numbers) only, not on how they were spread over writers and runs, which
// in kvbuild depends on which worker was free: the same records dealt to
// three writers in a different way at each build, with spills, give the
// same partition boundaries, the same deduplicated value logs and the same
// files, byte for byte.
func TestSorter_Reproducible(t *testing.T) {
	const n = 60000
	keys := make([][]byte, n)
	vals := make([][]byte, n)
	for i := range n {
		k := (i * 7919) % 25000 // duplicates, in no order
		keys[i] = fmt.Appendf(nil, "key%06d", k)
		vals[i] = fmt.Appendf(nil, "value %d", (k*31)%977) // many repeated values
	}
	var first map[string][]byte
	for build := range 3 {
		path := filepath.Join(t.TempDir(), "d")
		o := tinySortOptions(t.TempDir())
		o.Builder = &Options{Now: func() time.Time { return time.Unix(1764633600, 0) }}
		s, err := NewSorter(path, o)
		if err != nil {
			t.Fatal(err)
		}
		ws := make([]*SortWriter, 3)
		for i := range ws {
			if ws[i], err = s.NewWriter(); err != nil {
				t.Fatal(err)
			}
		}
		r := rand.New(rand.NewPCG(uint64(build), 1)) // a different deal each build
		for i := range n {
			if err := ws[r.IntN(len(ws))].Add(uint64(i+1), keys[i], vals[i]); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range ws {
			w.Close()
		}
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		ents, _ := os.ReadDir(path)
		for _, e := range ents {
			got[e.Name()], _ = os.ReadFile(filepath.Join(path, e.Name()))
		}
		if build == 0 {
			if first = got; len(got) < 7 {
				t.Fatalf("want 3 partitions, got %d files", len(got))
			}
			continue
		}
		if len(got) != len(first) {
			t.Fatalf("build %d: %d files, build 0: %d", build, len(got), len(first))
		}
		for name, b := range first {
			if !bytes.Equal(got[name], b) {
				t.Errorf("builds 0 and %d differ in %s", build, name)
			}
		}
	}
}
