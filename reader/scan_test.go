package reader_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// collect drains it into "key=value" lines.
func collect(t *testing.T, it *reader.Iterator) string {
	t.Helper()
	var b bytes.Buffer
	for it.Next() {
		fmt.Fprintf(&b, "%q=%q\n", it.Key(), it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Ensure that Range, Prefix and All over keyed records (read sequentially
// from the value log) yield exactly what the FST path yields on the same
// data, for bounds before, inside, between and after the partitions.
func TestScan_SequentialMatchesFST(t *testing.T) {
	kvs := testutil.RandomKVs(20_000, 41)
	plain, err := reader.Open(testutil.MustBuild(t, kvs, 3, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	keyed, err := reader.Open(testutil.MustBuild(t, kvs, 3, hashOptions(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer keyed.Close()
	if a, b := collect(t, plain.All()), collect(t, keyed.All()); a != b {
		t.Fatal("All differs")
	}
	keys := newOracle(kvs).sortedKeys()
	r := rand.New(rand.NewPCG(4, 4))
	pick := func() []byte {
		switch r.IntN(5) {
		case 0:
			return nil
		case 1:
			return []byte(keys[r.IntN(len(keys))]) // an existing key
		case 2:
			return append([]byte(keys[r.IntN(len(keys))]), 0) // just after one
		case 3:
			return []byte{byte(r.IntN(256))}
		}
		return []byte(keys[r.IntN(len(keys))])[:r.IntN(4)]
	}
	for _, m := range keyed.Manifest().Partitions { // partition edges
		for _, from := range [][]byte{m.FirstKey, m.LastKey, append(bytes.Clone(m.LastKey), 0)} {
			if a, b := collect(t, plain.Range(from, nil)), collect(t, keyed.Range(from, nil)); a != b {
				t.Fatalf("Range(%q, nil) differs", from)
			}
		}
	}
	for range 300 {
		from, to := pick(), pick()
		if a, b := collect(t, plain.Range(from, to)), collect(t, keyed.Range(from, to)); a != b {
			t.Fatalf("Range(%q, %q) differs:\nfst: %.200s\nseq: %.200s", from, to, a, b)
		}
		p := pick()
		if a, b := collect(t, plain.Prefix(p)), collect(t, keyed.Prefix(p)); a != b {
			t.Fatalf("Prefix(%q) differs", p)
		}
	}
}

// Ensure a sequential scan stops with ErrClosed when the dictionary is
// closed under it, instead of reading unmapped memory.
func TestScan_ClosedMidway(t *testing.T) {
	d, err := reader.Open(testutil.MustBuild(t, testutil.RandomKVs(100, 1), 1, hashOptions(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	it := d.All()
	if !it.Next() {
		t.Fatal(it.Err())
	}
	d.Close()
	if it.Next() || !errors.Is(it.Err(), reader.ErrClosed) {
		t.Fatalf("Next after Close: %v", it.Err())
	}
}
