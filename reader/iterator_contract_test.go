package reader_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// Ensure the iterator contract every kvdict iterator shares: an empty
// value is a non-nil empty slice (nil means unreadable), All closes the
// iterator when the loop breaks, and Close returns the error that ended
// the iteration.
func TestIterator_Contract(t *testing.T) {
	for _, opts := range []*builder.Options{nil, {HashIndex: &hashindex.WriterOptions{}}} {
		t.Run(fmt.Sprintf("hash-index=%v", opts != nil), func(t *testing.T) { testIteratorContract(t, opts) })
	}
}

func testIteratorContract(t *testing.T, opts *builder.Options) {
	path := testutil.MustBuild(t, []testutil.KV{
		{Key: []byte("a"), Value: []byte{}},
		{Key: []byte("b"), Value: []byte("2")},
		{Key: []byte("c"), Value: []byte("3")},
	}, 2, opts)
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	it := d.All()
	if !it.Next() || string(it.Key()) != "a" {
		t.Fatal("no first key")
	}
	if v := it.Value(); v == nil || len(v) != 0 {
		t.Fatalf("empty value: %#v, want a non-nil empty slice", v)
	}
	if err := it.Close(); err != nil || it.Next() {
		t.Fatalf("after Close: %v, Next true", err)
	}

	it = d.All()
	for k := range it.All() {
		if string(k) == "b" {
			break
		}
	}
	if it.Next() {
		t.Fatal("All did not close the iterator on break")
	}

	it = d.All()
	it.Next()
	d.Close()
	if it.Next() {
		t.Fatal("Next after the Dict closed")
	}
	if err := it.Close(); !errors.Is(err, reader.ErrClosed) || !errors.Is(it.Err(), reader.ErrClosed) {
		t.Fatalf("Close returned %v, Err %v; want ErrClosed", err, it.Err())
	}
}
