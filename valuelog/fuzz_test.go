package valuelog_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/valuelog"
)

// FuzzLoad feeds arbitrary bytes to Load, Value, Verify and the iterator:
// none may panic, every error must wrap a kvdict sentinel, and a log that
// passes Verify must agree with itself.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.vlog"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint64(16))
	}
	data, _ := build(f, nil, [][]byte{[]byte("x"), {}, make([]byte, 200), []byte("x")})
	f.Add(data, uint64(18))
	f.Add(data[:len(data)-1], uint64(0))
	zdata, zaddrs := build(f, &valuelog.WriterOptions{Compression: &valuelog.Compression{GroupRecords: 2}}, [][]byte{[]byte("x"), {}, make([]byte, 200), []byte("x"), []byte("yy")})
	f.Add(zdata, zaddrs[2])
	f.Add(rawLog(f, 0, []byte("\x05ab"), 1), uint64(16))
	f.Add(rawLog(f, 0, []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), 1), uint64(16))

	f.Fuzz(func(t *testing.T, data []byte, off uint64) {
		l, err := valuelog.Load(data)
		if err != nil {
			if !errors.Is(err, valuelog.ErrCorrupt) && !errors.Is(err, valuelog.ErrMagic) && !errors.Is(err, valuelog.ErrVersion) {
				t.Fatalf("Load: %v wraps no sentinel", err)
			}
			return
		}
		for _, o := range []uint64{off, off % uint64(len(data)+1), 16} {
			v, err := l.Value(o)
			if err != nil && !errors.Is(err, valuelog.ErrCorrupt) {
				t.Fatalf("Value(%d): %v", o, err)
			}
			if err == nil && cap(v) != len(v) {
				t.Fatalf("Value(%d): cap %d > len %d", o, cap(v), len(v))
			}
		}
		verr := l.Verify()
		if verr != nil && !errors.Is(verr, valuelog.ErrCorrupt) {
			t.Fatalf("Verify: %v", verr)
		}
		it := l.Iter()
		var n uint64
		for it.Next() {
			n++
			v, err := l.Value(it.Offset())
			if err != nil || !bytes.Equal(v, it.Value()) {
				t.Fatalf("record %d at %d: Value disagrees with the iterator: %v", n, it.Offset(), err)
			}
		}
		if verr == nil && (it.Err() != nil || n != l.Len()) {
			t.Fatalf("Verify passed but iteration saw %d of %d records: %v", n, l.Len(), it.Err())
		}
	})
}

// FuzzRoundTrip writes arbitrary values with a tiny dedup cache (so slots
// collide constantly) and checks that every offset reads back its value.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("a\x00b\x00a\x00\x00ccc\x00a"), 64)
	f.Add([]byte("xx\x00xy\x00yx\x00xx"), 100)
	f.Fuzz(func(t *testing.T, in []byte, budget int) {
		vals := bytes.Split(in, []byte{0})
		data, offs := build(t, &valuelog.WriterOptions{DedupBytes: budget % 4096}, vals)
		l := mustLoad(t, data)
		if err := l.Verify(); err != nil {
			t.Fatal(err)
		}
		checkAll(t, l, vals, offs)
	})
}
