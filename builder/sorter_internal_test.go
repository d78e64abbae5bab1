package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/oracle"
	"github.com/kvdict/kvdict/reader"
)

// tinySortOptions forces spills: a 1-byte budget (64 KiB run buffers) with
// the threads kept.
func tinySortOptions(tmp string) *SortOptions {
	return &SortOptions{Memory: 1, Threads: 3, TempDir: tmp, PartitionReserve: 1, noThreadCap: true}
}

// readAll reads a dictionary back as a map, checking the key order.
func readAll(t *testing.T, path string) map[string]string {
	t.Helper()
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got := map[string]string{}
	var prev []byte
	it := d.All()
	for it.Next() {
		if len(got) > 0 && bytes.Compare(prev, it.Key()) >= 0 {
			t.Fatalf("key %q after %q", it.Key(), prev)
		}
		prev = append(prev[:0], it.Key()...)
		got[string(it.Key())] = string(it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	it.Close()
	if d.Len() != len(got) {
		t.Fatalf("Len %d, scanned %d", d.Len(), len(got))
	}
	return got
}

// sameMap fails unless got equals want.
func sameMap(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Fatalf("key %q: got %q (present %v), want %q", k, g, ok, v)
		}
	}
}

// Ensure every policy, on every path a record can take — folded inside a
// run in memory, spilled and merged, the Sorted path, concurrent writers,
// and a sorted input entering the merge — gives what the oracle says. This
// is the one table of policy tests.
func TestSorter_Policies(t *testing.T) {
	policies := []Policy{KeepLast, KeepFirst, Sum, Count, Concat([]byte("|")), Reject}
	modes := []string{"memory", "spill", "sorted", "writers", "sorted-input"}
	for _, pol := range policies {
		for _, mode := range modes {
			t.Run(pol.String()+"/"+mode, func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(pol.kind), 7))
				recs := oracle.Generate(r, 20000, pol.numeric(), pol.kind == kindReject, false)
				seqs := make([]uint64, len(recs)) // input order
				for i := range seqs {
					seqs[i] = uint64(i + 1)
				}
				var base []oracle.Record // mode sorted-input: the first quarter, unique keys, sorted
				if mode == "sorted" {
					slices.SortStableFunc(recs, func(a, b oracle.Record) int { return strings.Compare(a.Key, b.Key) })
				}
				if mode == "sorted-input" {
					seen := map[string]bool{}
					for _, rec := range recs[:len(recs)/4] {
						if !seen[rec.Key] {
							seen[rec.Key] = true
							base = append(base, rec)
						}
					}
					slices.SortFunc(base, func(a, b oracle.Record) int { return strings.Compare(a.Key, b.Key) })
					recs = recs[len(recs)/4:]
					if pol.kind == kindReject { // the base and the rest must not share keys
						recs = slices.DeleteFunc(recs, func(r oracle.Record) bool { return seen[r.Key] })
					}
					seqs = seqs[:len(recs)]
				}
				dir := t.TempDir()
				tmp := filepath.Join(dir, "tmp")
				o := &SortOptions{Memory: 1 << 30, Threads: 2, TempDir: tmp}
				if mode == "spill" || mode == "writers" || mode == "sorted-input" {
					o = tinySortOptions(tmp)
				}
				o.Duplicates = pol
				o.Sorted = mode == "sorted"
				path := filepath.Join(dir, "d.kvd")
				s, err := NewSorter(path, o)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Abort()
				if base != nil {
					if err := s.AddSorted(sliceInput(base), 0); err != nil {
						t.Fatal(err)
					}
				}
				if mode == "writers" {
					addConcurrently(t, s, recs, 4)
				} else {
					for _, rec := range recs {
						if err := s.Add([]byte(rec.Key), []byte(rec.Value)); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := s.Commit(); err != nil {
					t.Fatal(err)
				}
				want := oracle.Fold(pol.String(), "|", append(slices.Clip(base), recs...))
				sameMap(t, readAll(t, path), want)
				st := s.Stats()
				nrec := int64(len(recs) + len(base))
				if st.Keys != int64(len(want)) || st.Records != nrec || st.Duplicates != nrec-st.Keys {
					t.Errorf("stats %+v: want %d keys of %d records", st, len(want), nrec)
				}
				if mode == "spill" && (st.Spilled < 5 || st.Partitions < 2) {
					t.Errorf("spill path not exercised: %d runs spilled, %d partitions", st.Spilled, st.Partitions)
				}
				if mode == "memory" && st.Spilled != 0 {
					t.Errorf("spilled %d runs with a big budget", st.Spilled)
				}
				if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
					t.Errorf("temporary files left: %v", ents)
				}
			})
		}
	}
}

// addConcurrently adds recs from n goroutines, each with its own
// SortWriter, with each record's input position as its sequence number.
func addConcurrently(t *testing.T, s *Sorter, recs []oracle.Record, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := range n {
		w, err := s.NewWriter()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(recs); i += n {
				if err := w.Add(uint64(i+1), []byte(recs[i].Key), []byte(recs[i].Value)); err != nil {
					errs <- err
					return
				}
			}
			errs <- w.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// sliceInput is a SortedInput over sorted records (a stand-in for a
// dictionary being updated).
type sliceInput []oracle.Record

func (in sliceInput) Range(lo, hi []byte) SortedIterator {
	i, _ := slices.BinarySearchFunc(in, string(lo), func(r oracle.Record, k string) int { return strings.Compare(r.Key, k) })
	j := len(in)
	if hi != nil {
		j, _ = slices.BinarySearchFunc(in, string(hi), func(r oracle.Record, k string) int { return strings.Compare(r.Key, k) })
	}
	return &sliceIter{recs: in[i:j], i: -1}
}

func (in sliceInput) Sample(n int) ([][]byte, int64) {
	var keys [][]byte
	for i := 0; i < len(in); i += max(1, len(in)/n) {
		keys = append(keys, []byte(in[i].Key))
	}
	return keys, int64(len(in))
}

type sliceIter struct {
	recs []oracle.Record
	i    int
}

func (it *sliceIter) Next() bool    { it.i++; return it.i < len(it.recs) }
func (it *sliceIter) Key() []byte   { return []byte(it.recs[it.i].Key) }
func (it *sliceIter) Value() []byte { return []byte(it.recs[it.i].Value) }
func (it *sliceIter) Err() error    { return nil }
func (it *sliceIter) Close() error  { return nil }

// Ensure bad records fail the build with the sequence numbers of the
// records involved, on every path, and leave nothing behind.
func TestSorter_RecordErrors(t *testing.T) {
	long := strings.Repeat("k", fst.MaxKeyLen+1)
	cases := []struct {
		name  string
		pol   Policy
		recs  []string // key=value, added in order: sequence numbers 1, 2, ...
		check func(error) bool
		msg   string
	}{
		{"duplicate", Reject, []string{"x=1", "y=2", "z=3", "y=4"}, func(err error) bool {
			var de *DuplicateKeyError
			return errors.As(err, &de) && string(de.Key) == "y" && de.First == 2 && de.Second == 4
		}, `duplicate key "y" in records 2 and 4`},
		{"sum-not-int", Sum, []string{"a=1", "b=x"}, func(err error) bool {
			var re *RecordError
			return errors.As(err, &re) && re.Seq == 2
		}, `record 2: value "x" is not a decimal int64`},
		{"sum-overflow", Sum, []string{"a=9223372036854775807", "b=1", "a=1"}, func(err error) bool {
			var re *RecordError
			return errors.As(err, &re) && re.Seq == 3
		}, `record 3: sum for key "a" overflows int64`},
		{"long-key", KeepLast, []string{"a=1", long + "=v"}, func(err error) bool {
			var re *RecordError
			return errors.As(err, &re) && re.Seq == 2
		}, "record 2: key is 65536 bytes, longer than the 65535 bytes the format can hold"},
	}
	for _, c := range cases {
		for _, mode := range []string{"memory", "spill", "sorted"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				dir := t.TempDir()
				o := &SortOptions{Duplicates: c.pol, TempDir: dir, Sorted: mode == "sorted"}
				if mode == "spill" {
					o = tinySortOptions(dir)
					o.Duplicates = c.pol
				}
				recs := slices.Clone(c.recs)
				if mode == "sorted" {
					slices.SortStableFunc(recs, func(a, b string) int {
						return strings.Compare(strings.SplitN(a, "=", 2)[0], strings.SplitN(b, "=", 2)[0])
					})
				}
				err := buildRecords(t, filepath.Join(dir, "d"), o, recs)
				if mode == "sorted" && c.name != "long-key" {
					// Sorting changed the sequence numbers; the type is
					// what matters here.
					if !errors.Is(err, ErrInvalidInput) {
						t.Fatalf("got %v", err)
					}
				} else if err == nil || !c.check(err) || !strings.Contains(err.Error(), c.msg) || !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("got %v, want %q", err, c.msg)
				}
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Fatalf("a failed build left %v", ents)
				}
			})
		}
	}
}

// buildRecords adds "key=value" records in order and commits.
func buildRecords(t *testing.T, path string, o *SortOptions, recs []string) error {
	t.Helper()
	s, err := NewSorter(path, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	for _, r := range recs {
		k, v, _ := strings.Cut(r, "=")
		if err := s.Add([]byte(k), []byte(v)); err != nil {
			return err
		}
	}
	return s.Commit()
}

// Ensure the Sorted path rejects a key below the previous one, naming both
// records.
func TestSorter_SortedOrder(t *testing.T) {
	err := buildRecords(t, filepath.Join(t.TempDir(), "d"), &SortOptions{Sorted: true}, []string{"a=1", "c=2", "b=3"})
	var oe *OrderError
	if !errors.As(err, &oe) || oe.Seq != 3 || oe.PrevSeq != 2 || string(oe.Key) != "b" || string(oe.Prev) != "c" {
		t.Fatalf("got %v", err)
	}
}

// Ensure a Sorter with no records commits an empty dictionary, and Add
// after Commit fails.
func TestSorter_Empty(t *testing.T) {
	for _, sorted := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "d")
		s, err := NewSorter(path, &SortOptions{Sorted: sorted})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, path); len(got) != 0 {
			t.Fatalf("sorted=%v: %v", sorted, got)
		}
		if err := s.Add([]byte("a"), nil); !errors.Is(err, ErrDone) {
			t.Fatalf("Add after Commit: %v", err)
		}
		if err := s.Commit(); !errors.Is(err, ErrDone) {
			t.Fatalf("second Commit: %v", err)
		}
	}
}

// Ensure Abort after spills leaves neither the dictionary nor run files,
// and an existing dictionary is kept.
func TestSorter_Abort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d")
	if err := buildRecords(t, path, nil, []string{"old=1"}); err != nil {
		t.Fatal(err)
	}
	o := tinySortOptions(dir)
	o.Builder = &Options{Force: true}
	s, err := NewSorter(path, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20000 {
		if err := s.Add(fmt.Appendf(nil, "key%d", i*7919%20000), []byte("value")); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.SpillBytes == 0 {
		t.Fatal("nothing spilled")
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left %v", ents)
	}
	sameMap(t, readAll(t, path), map[string]string{"old": "1"})
}

// Ensure a build cancelled in the merge stops, removes its temporary files,
// keeps the previous dictionary and reports the cancellation.
func TestSorter_CancelMidMerge(t *testing.T) {
	for _, sorted := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "d")
		if err := buildRecords(t, path, nil, []string{"old=1"}); err != nil {
			t.Fatal(err)
		}
		o := tinySortOptions(dir)
		o.Builder = &Options{Force: true}
		o.Sorted = sorted
		s, err := NewSorter(path, o)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var n atomic.Int64
		s.testHookAdd = func() {
			if n.Add(1) == 5000 {
				cancel()
			}
		}
		for i := range 30000 {
			k := i * 7919 % 30000
			if sorted {
				k = i
			}
			if err := s.Add(fmt.Appendf(nil, "key%06d", k), []byte("value")); err != nil {
				t.Fatal(err)
			}
		}
		err = s.CommitContext(ctx)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("sorted=%v: got %v", sorted, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("sorted=%v: left %v", sorted, ents)
		}
		sameMap(t, readAll(t, path), map[string]string{"old": "1"})
	}
}

// Ensure Add is safe for concurrent use: every record arrives once.
func TestSorter_ConcurrentAdd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d")
	s, err := NewSorter(path, tinySortOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5000 {
				if err := s.Add(fmt.Appendf(nil, "g%d-%d", g, i), []byte("v")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, path); len(got) != 20000 {
		t.Fatalf("%d keys", len(got))
	}
}

// Ensure the manifest records the settings in effect: the thread count
// after the memory cap (64 asked, 6 fit in 256 MiB at 33 MiB a thread),
// the policy and the separator.
func TestSorter_Manifest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d")
	o := &SortOptions{Memory: 256 << 20, Threads: 64, Duplicates: Concat([]byte(";")),
		Builder: &Options{Build: map[string]string{"unescape": "true"}}}
	if err := buildRecords(t, path, o, []string{"a=1"}); err != nil {
		t.Fatal(err)
	}
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b := d.Manifest().Build
	want := map[string]string{"threads": "6", "duplicates": "concat", "separator": `";"`, "memory": "256.0 MiB", "sorted": "false", "unescape": "true", "fst.registry_table_size": "off"}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("build[%s] = %q, want %q", k, b[k], v)
		}
	}
}

// Ensure a Sorter writes into a Builder its caller owns: Merge fills it
// after the caller's own partition, leaves committing to the caller, and
// Commit on such a Sorter refuses.
func TestSorter_Into(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d")
	b, err := Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	p, _ := b.NewPartition()
	p.Add([]byte("a"), []byte("own"))
	s, err := NewSorterInto(b, &SortOptions{Duplicates: Count})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"n", "m", "n"} {
		s.Add([]byte(k), nil)
	}
	if err := s.Commit(); err == nil {
		t.Fatal("Commit on a Sorter from NewSorterInto succeeded")
	}
	if err := s.Merge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Merge installed the dictionary")
	}
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	sameMap(t, readAll(t, path), map[string]string{"a": "own", "m": "1", "n": "2"})
}

// Ensure Sum succeeds or fails on a key's total alone, whatever order its
// records arrive in and however they are split across runs: partial sums
// that leave int64 on the way (MaxInt64 then +1 then -1) used to fail in
// one order and pass in another, so a distributed build, whose shuffle
// order varies, could fail at random.
func TestSorter_SumOrderIndependent(t *testing.T) {
	const maxI, minI = "9223372036854775807", "-9223372036854775808"
	cases := []struct {
		vals []string
		want string // "" if the total overflows
	}{
		{[]string{maxI, "1", "-1"}, maxI},
		{[]string{minI, "-1", "1"}, minI},
		{[]string{maxI, maxI, minI, minI, "5"}, "3"},
		{[]string{maxI, maxI, maxI, minI, minI, minI, "-7"}, "-10"},
		{[]string{maxI, "1"}, ""},
		{[]string{minI, "-1", "0"}, ""},
		{[]string{maxI, maxI, minI, "2"}, ""},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for ci, c := range cases {
		for range 6 {
			vals := slices.Clone(c.vals)
			r.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
			var recs []string
			for i, v := range vals {
				recs = append(recs, "k="+v, fmt.Sprintf("filler%03d=%d", i, i))
			}
			for _, mode := range []string{"memory", "spill", "sorted"} {
				dir := t.TempDir()
				o := &SortOptions{Duplicates: Sum, TempDir: dir, Sorted: mode == "sorted"}
				if mode == "spill" {
					o = tinySortOptions(dir)
					o.Duplicates = Sum
				}
				in := slices.Clone(recs)
				if mode == "sorted" {
					slices.SortStableFunc(in, func(a, b string) int {
						return strings.Compare(strings.SplitN(a, "=", 2)[0], strings.SplitN(b, "=", 2)[0])
					})
				}
				path := filepath.Join(dir, "d")
				err := buildRecords(t, path, o, in)
				if c.want == "" {
					var re *RecordError
					if !errors.As(err, &re) || !strings.Contains(err.Error(), `sum for key "k" overflows int64`) {
						t.Fatalf("case %d %v %s: got %v, want an overflow", ci, vals, mode, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("case %d %v %s: %v", ci, vals, mode, err)
				}
				if got := readAll(t, path)["k"]; got != c.want {
					t.Fatalf("case %d %v %s: k = %s, want %s", ci, vals, mode, got, c.want)
				}
			}
		}
	}
}
