package reader_test

import (
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// Ensure parallel verification counts every key in Progress, and reports
// damage in two partitions exactly as a sequential run does (both files,
// in partition order).
func TestVerifyWith_Parallel(t *testing.T) {
	kvs := testutil.RandomKVs(20000, 5)
	dir := testutil.MustBuild(t, kvs, 5, nil)
	d, err := reader.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var done atomic.Int64
	if err := d.VerifyWith(&reader.VerifyOptions{Threads: 3, Progress: &done}); err != nil {
		t.Fatal(err)
	}
	if done.Load() != int64(d.Len()) {
		t.Fatalf("progress %d, want %d", done.Load(), d.Len())
	}
	d.Close()

	for _, part := range []string{"part-00001.vlog", "part-00003.fst"} {
		mutate(t, filepath.Join(dir, part), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
	}
	d, err = reader.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	seq := d.VerifyWith(&reader.VerifyOptions{Threads: 1})
	par := d.Verify()
	if !errors.Is(par, reader.ErrCorrupt) || seq == nil || par.Error() != seq.Error() {
		t.Fatalf("parallel: %v\nsequential: %v", par, seq)
	}
	msg := par.Error()
	if i, j := strings.Index(msg, "part-00001.vlog"), strings.Index(msg, "part-00003.fst"); i < 0 || j < i {
		t.Fatalf("want both damaged files, in partition order: %v", msg)
	}
}
