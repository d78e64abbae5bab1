package valuelog_test

import (
	"bytes"
	"testing"

	"github.com/kvdict/kvdict/valuelog"
)

// build writes vals to a value log and returns the file bytes and offsets.
func build(t testing.TB, opts *valuelog.WriterOptions, vals [][]byte) ([]byte, []uint64) {
	t.Helper()
	var buf bytes.Buffer
	w, err := valuelog.NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	offs := make([]uint64, len(vals))
	for i, v := range vals {
		if offs[i], err = w.Append(v); err != nil {
			t.Fatalf("Append #%d: %v", i, err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), offs
}

// Ensure that values written come back from Value at their offsets.
func TestRoundTrip_Basic(t *testing.T) {
	vals := [][]byte{[]byte("a"), {}, []byte("hello"), []byte("a"), bytes.Repeat([]byte{0xff, 0}, 1000)}
	data, offs := build(t, nil, vals)
	l, err := valuelog.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		got, err := l.Value(offs[i])
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Value(%d) = %q, %v; want %q", offs[i], got, err, v)
		}
	}
	if offs[0] != 16 || offs[3] != offs[0] {
		t.Fatalf("offsets %v: want first at 16 and \"a\" deduplicated", offs)
	}
	if l.Len() != 4 {
		t.Fatalf("Len = %d, want 4", l.Len())
	}
}
