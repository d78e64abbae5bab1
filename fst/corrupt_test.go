package fst_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/frame"
)

// smallKVs is a few hundred keys with shared prefixes and suffixes, so
// that the FST has every kind of state and the corruption loops stay fast.
func smallKVs() []kv {
	return filter(randomKVs(300, 11), func(k []byte) bool { return len(k) < 100 })
}

// reframe rewrites the frame footer of file so that its checksums match
// again: it simulates damage that the O(1) checks of Load cannot see.
func reframe(file []byte) []byte {
	body := file[frame.HeaderLen : len(file)-frame.FooterLen]
	count := binary.LittleEndian.Uint64(file[len(file)-frame.FooterLen:])
	out := append([]byte(nil), file[:frame.HeaderLen+len(body)]...)
	crc := crc32.Checksum(out, frame.Table)
	return frame.AppendFooter(out, fst.Magic, frame.Footer{Count: count, BodyLen: uint64(len(body)), BodyCRC: crc})
}

// Ensure each kind of damage that Load can see in O(1) maps to its
// sentinel.
func TestLoad_Errors(t *testing.T) {
	good := build(t, smallKVs(), nil)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, fst.ErrCorrupt},
		{"header only", good[:16], fst.ErrCorrupt},
		{"truncated by 1", good[:len(good)-1], fst.ErrCorrupt},
		{"truncated body", append(bytes.Clone(good[:len(good)/2]), good[len(good)-32:]...), fst.ErrCorrupt},
		{"trailing byte", append(bytes.Clone(good), 0), fst.ErrCorrupt},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), fst.ErrMagic},
		{"value log magic", mod(func(b []byte) []byte { copy(b, "kvdVLOG\x00"); return b }), fst.ErrMagic},
		{"future version", mod(func(b []byte) []byte { b[8] = 2; return b }), fst.ErrVersion},
		{"version 0", mod(func(b []byte) []byte { b[8] = 0; return b }), fst.ErrVersion},
		{"flags", mod(func(b []byte) []byte { b[12] = 1; return reframe(b) }), fst.ErrCorrupt},
		{"footer checksum", mod(func(b []byte) []byte { b[len(b)-32]++; return b }), fst.ErrCorrupt},
		{"count mismatch", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(b)-32:], 299)
			return reframe(b)
		}), fst.ErrCorrupt},
		{"vellum version", mod(func(b []byte) []byte { b[16] = 2; return reframe(b) }), fst.ErrCorrupt},
		{"vellum root past end", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(b)-32-8:], uint64(len(b)-48))
			return reframe(b)
		}), fst.ErrCorrupt},
		{"vellum root in header", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(b)-32-8:], 5)
			return reframe(b)
		}), fst.ErrCorrupt},
		{"body too short", func() []byte {
			b := frame.AppendHeader(nil, frame.Header{Magic: fst.Magic, Version: 1})
			b = append(b, make([]byte, 16)...)
			return frame.AppendFooter(b, fst.Magic, frame.Footer{BodyLen: 16, BodyCRC: crc32.Checksum(b, frame.Table)})
		}(), fst.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := fst.Load(tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load = %v, %v; want %v", f, err, tc.want)
			}
		})
	}
}

// exercise runs every read path over f and reports whether any failed. It
// must never panic or hang, whatever f's bytes.
func exercise(t testing.TB, f *fst.FST, probes []kv) (failed bool) {
	for _, e := range probes {
		if _, _, err := f.Get(e.k); err != nil {
			if !errors.Is(err, fst.ErrCorrupt) {
				t.Fatalf("Get error does not wrap ErrCorrupt: %v", err)
			}
			failed = true
		}
	}
	its := []*fst.Iterator{f.Range(nil, nil), f.Prefix([]byte("beta")), f.Range([]byte("a"), []byte("c"))}
	if it, err := f.Regex("a.*"); err == nil {
		its = append(its, it)
	}
	if it, err := f.Fuzzy("alpha", 1); err == nil {
		its = append(its, it)
	}
	for _, it := range its {
		n := 0
		for it.Next() {
			n++
			_ = it.Key()
		}
		if err := it.Err(); err != nil {
			if !errors.Is(err, fst.ErrCorrupt) {
				t.Fatalf("iterator error does not wrap ErrCorrupt: %v", err)
			}
			failed = true
		}
		if n > f.Len() {
			t.Fatalf("iterator yielded %d keys from an FST of %d", n, f.Len())
		}
	}
	if _, _, err := f.MinKey(); err != nil {
		failed = true
	}
	if _, _, err := f.MaxKey(); err != nil {
		failed = true
	}
	if err := f.Verify(); err != nil {
		if !errors.Is(err, fst.ErrCorrupt) {
			t.Fatalf("Verify error does not wrap ErrCorrupt: %v", err)
		}
		failed = true
	}
	return failed
}

// Ensure one flipped byte anywhere in the header or body is caught by
// Verify (the CRC), and, with the CRC fixed up so that only vellum's own
// decoding stands between the damage and the caller, that no flip at any
// position makes Get, iteration or Verify panic or hang.
func TestCorrupt_Flips(t *testing.T) {
	kvs := smallKVs()
	good := build(t, kvs, nil)
	var probes []kv // every 4th key and a miss near it
	for i := 0; i < len(kvs); i += 4 {
		probes = append(probes, kvs[i], kv{append(bytes.Clone(kvs[i].k), 'x'), 0})
	}
	bodyEnd := len(good) - frame.FooterLen
	// One mask per position, cycling: low bit, high bit, all bits.
	masks := []byte{0x01, 0x80, 0xff}
	step := 2
	if quick() {
		step = 29
	}
	var tried, loaded, detected int
	for pos := 0; pos < bodyEnd; pos += step {
		for _, m := range masks[pos%len(masks) : pos%len(masks)+1] {
			tried++
			bad := bytes.Clone(good)
			bad[pos] ^= m
			if f, err := fst.Load(bad); err == nil {
				if err := f.Verify(); !errors.Is(err, fst.ErrCorrupt) {
					t.Fatalf("flip %#x at %d: Verify = %v", m, pos, err)
				}
			}
			f, err := fst.Load(reframe(bad))
			if err != nil {
				continue
			}
			loaded++
			if exercise(t, f, probes) {
				detected++
			}
		}
	}
	t.Logf("%d of %d re-checksummed flips loaded; vellum decoding noticed %d", loaded, tried, detected)
}

// Ensure random multi-byte damage never panics or hangs either.
func TestCorrupt_Random(t *testing.T) {
	kvs := smallKVs()
	good := build(t, kvs, nil)
	body := good[frame.HeaderLen : len(good)-frame.FooterLen]
	seed := uint64(1)
	next := func() uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return seed >> 33 }
	n := 2000
	if quick() {
		n = 200
	}
	for range n {
		bad := bytes.Clone(good)
		for range 1 + next()%8 {
			bad[frame.HeaderLen+int(next()%uint64(len(body)))] = byte(next())
		}
		if f, err := fst.Load(reframe(bad)); err == nil {
			exercise(t, f, kvs[:20])
		}
	}
}
