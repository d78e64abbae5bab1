package delta_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/delta"
	"github.com/kvdict/kvdict/reader"
)

type rec struct{ k, v string }

// build writes recs, in order (the order decides first/last/concat), as a
// dictionary at path under pol, in parts partitions; extra runs first
// (e.g. AddSorted of a base).
func build(t *testing.T, path string, pol builder.Policy, parts int, recs []rec, extra func(*builder.Sorter) error) error {
	t.Helper()
	s, err := builder.NewSorter(path, &builder.SortOptions{Duplicates: pol, Memory: 64 << 20, Threads: 2, Partitions: parts, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if extra != nil {
		if err := extra(s); err != nil {
			return err
		}
	}
	for _, r := range recs {
		if err := s.Add([]byte(r.k), []byte(r.v)); err != nil {
			return err
		}
	}
	return s.Commit()
}

func dump(t *testing.T, path string) string {
	t.Helper()
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var b strings.Builder
	it := d.All()
	defer it.Close()
	for it.Next() {
		fmt.Fprintf(&b, "%q=%q\n", it.Key(), it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// randomRecs returns n records over a pool of keys (so keys repeat), with
// small decimal values (for sum), including the empty key and a binary
// key.
func randomRecs(r *rand.Rand, n, pool int, prefix string) []rec {
	recs := make([]rec, n)
	for i := range recs {
		k := fmt.Sprintf("%s%05d", prefix, r.IntN(pool))
		switch r.IntN(50) {
		case 0:
			k = ""
		case 1:
			k = "\x00\xff" + k
		}
		recs[i] = rec{k, fmt.Sprint(r.IntN(1000) - 100)}
	}
	return recs
}

// merge builds the merge of the base at basePath, less dels, plus the
// delta, at path.
func merge(t *testing.T, path, basePath string, pol builder.Policy, dels []string, deltaRecs []rec) (*delta.Base, error) {
	t.Helper()
	base, err := reader.Open(basePath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	var ds *delta.Deletes
	if dels != nil {
		if ds, err = delta.NewDeletes(t.TempDir(), 0); err != nil {
			t.Fatal(err)
		}
		defer ds.Close()
		var list strings.Builder
		for _, k := range dels {
			if k == "" {
				k = "\t" // an empty line is skipped; "\t" is the empty key
			}
			list.WriteString(k + "\n")
		}
		if err := delta.ReadDeletes(ds, strings.NewReader(list.String()), "dels.txt", false); err != nil {
			t.Fatal(err)
		}
		if err := ds.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	in := delta.NewBase(base, ds)
	err = build(t, path, pol, 3, deltaRecs, func(s *builder.Sorter) error { return s.AddSorted(in, 0) })
	return in, err
}

// Ensure that, for every duplicate policy, base ⊕ delta − deletions holds
// exactly what a full build from the combined input gives (the base's
// input without the deleted keys, then the delta), with bases and results
// of several partitions, duplicates inside base and delta, keys both
// deleted and in the delta, and deletions of absent keys.
func TestMerge_EqualsRebuild(t *testing.T) {
	pols := []builder.Policy{builder.KeepLast, builder.KeepFirst, builder.Sum, builder.Count, builder.Concat([]byte("|")), builder.Reject}
	for _, pol := range pols {
		t.Run("policy="+pol.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(len(pol.String()))))
			n := 20000
			if raceEnabled || testing.Short() {
				n = 5000
			}
			baseRecs := randomRecs(r, n, 8000, "k")
			deltaRecs := append(randomRecs(r, 3000, 8000, "k"), randomRecs(r, 2000, 3000, "new")...)
			if pol.String() == "error" { // unique keys, delta disjoint from the base
				baseRecs, deltaRecs = uniqueRecs(baseRecs, "b"), uniqueRecs(deltaRecs, "d")
			}
			dels := []string{"", "absent-1", "absent-2"}
			for i := 0; i < 9000; i += 7 {
				dels = append(dels, fmt.Sprintf("k%05d", i), fmt.Sprintf("b%06d", i))
			}
			deleted := map[string]bool{}
			for _, k := range dels {
				deleted[k] = true
			}
			dir := t.TempDir()
			basePath := filepath.Join(dir, "base.kvd")
			if err := build(t, basePath, pol, 3, baseRecs, nil); err != nil {
				t.Fatal(err)
			}
			var combined []rec
			for _, rc := range baseRecs {
				if !deleted[rc.k] {
					combined = append(combined, rc)
				}
			}
			combined = append(combined, deltaRecs...)
			rebuilt := filepath.Join(dir, "rebuilt.kvd")
			if err := build(t, rebuilt, pol, 2, combined, nil); err != nil {
				t.Fatal(err)
			}
			merged := filepath.Join(dir, "merged.kvd")
			in, err := merge(t, merged, basePath, pol, dels, deltaRecs)
			if err != nil {
				t.Fatal(err)
			}
			got, want := dump(t, merged), dump(t, rebuilt)
			if got != want {
				t.Fatalf("merge differs from the rebuild:\n%s", firstDiff(got, want))
			}
			if in.Deleted() == 0 || in.Missed() < 2 || in.Deleted()+in.Missed() != int64(len(deleted)) {
				t.Errorf("Deleted %d + Missed %d, want > 0, >= 2, summing to %d", in.Deleted(), in.Missed(), len(deleted))
			}
		})
	}
}

func uniqueRecs(recs []rec, prefix string) []rec {
	out := make([]rec, len(recs))
	for i, r := range recs {
		out[i] = rec{fmt.Sprintf("%s%06d", prefix, i), r.v}
	}
	return out
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: merge %s, rebuild %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("merge %d lines, rebuild %d", len(g), len(w))
}

// Ensure that a key both deleted and in the delta ends with the delta's
// value alone — the deletion applies to the base, then the delta — under
// sum (where keeping the base would add up) and last.
func TestMerge_DeleteAndDelta(t *testing.T) {
	for _, tc := range []struct {
		pol  builder.Policy
		want string
	}{
		{builder.Sum, "\"a\"=\"2\"\n\"b\"=\"13\"\n"},
		{builder.KeepFirst, "\"a\"=\"2\"\n\"b\"=\"10\"\n"},
		{builder.Count, "\"a\"=\"1\"\n\"b\"=\"2\"\n"}, // the base counts a=1, b=1
	} {
		dir := t.TempDir()
		base := filepath.Join(dir, "base.kvd")
		if err := build(t, base, tc.pol, 1, []rec{{"a", "5"}, {"b", "10"}}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := merge(t, filepath.Join(dir, "new.kvd"), base, tc.pol, []string{"a"}, []rec{{"a", "2"}, {"b", "3"}}); err != nil {
			t.Fatal(err)
		}
		if got := dump(t, filepath.Join(dir, "new.kvd")); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.pol, got, tc.want)
		}
	}
}

// Ensure that under error a key in both the base and the delta fails the
// merge with a DuplicateKeyError, as it fails a rebuild.
func TestMerge_RejectAcross(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.kvd")
	if err := build(t, base, builder.Reject, 1, []rec{{"a", "1"}, {"b", "2"}}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := merge(t, filepath.Join(dir, "new.kvd"), base, builder.Reject, nil, []rec{{"c", "3"}, {"b", "9"}})
	var de *builder.DuplicateKeyError
	if !errors.As(err, &de) || !bytes.Equal(de.Key, []byte("b")) || !errors.Is(err, builder.ErrInvalidInput) {
		t.Fatalf("merge = %v, want a DuplicateKeyError for b", err)
	}
}

// Ensure that sum across three successive merges equals one sum build
// over all the batches.
func TestMerge_SumBatches(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	var all []rec
	prev := ""
	for i := range 3 {
		batch := randomRecs(r, 5000, 2000, "w")
		all = append(all, batch...)
		path := filepath.Join(dir, fmt.Sprintf("v%d.kvd", i))
		var err error
		if prev == "" {
			err = build(t, path, builder.Sum, 2, batch, nil)
		} else {
			_, err = merge(t, path, prev, builder.Sum, nil, batch)
		}
		if err != nil {
			t.Fatal(err)
		}
		prev = path
	}
	once := filepath.Join(dir, "once.kvd")
	if err := build(t, once, builder.Sum, 2, all, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := dump(t, prev), dump(t, once); got != want {
		t.Fatalf("three merged batches differ from one build:\n%s", firstDiff(got, want))
	}
}

// Ensure that delete lists are read as documented: TAB ends the key, CRLF
// and empty lines, --unescape, and errors naming FILE:LINE.
func TestReadDeletes(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.kvd")
	recs := []rec{{"", "empty"}, {"a\tb", "tab"}, {"plain", "1"}, {"row", "2"}, {"crlf", "3"}, {"keep", "4"}}
	if err := build(t, base, builder.KeepLast, 1, recs, nil); err != nil {
		t.Fatal(err)
	}
	d, err := reader.Open(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ds, err := delta.NewDeletes(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	list := "plain\nrow\tignored value\n\ncrlf\r\n\t\na\\tb\n"
	if err := delta.ReadDeletes(ds, strings.NewReader(list), "d.txt", true); err != nil {
		t.Fatal(err)
	}
	if err := ds.Finish(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.kvd")
	in := delta.NewBase(d, ds)
	if err := build(t, out, builder.KeepLast, 1, nil, func(s *builder.Sorter) error { return s.AddSorted(in, 0) }); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, out); got != "\"keep\"=\"4\"\n" {
		t.Errorf("after deleting: %q", got)
	}
	ds2, err := delta.NewDeletes(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ds2.Close()
	err = delta.ReadDeletes(ds2, strings.NewReader("ok\nbad\\x\n"), "d.txt", true)
	if err == nil || !strings.Contains(err.Error(), "d.txt:2: bad escape") || !errors.Is(err, builder.ErrInvalidInput) {
		t.Errorf("bad escape: %v", err)
	}
	err = delta.ReadDeletes(ds2, strings.NewReader(strings.Repeat("k", 70000)+"\n"), "d.txt", false)
	if err == nil || !strings.Contains(err.Error(), "d.txt:1: key to delete is 70000 bytes") {
		t.Errorf("long key: %v", err)
	}
}
