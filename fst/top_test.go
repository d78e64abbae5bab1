package fst_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/frame"
)

// These tests hold lookups through a top file (top.go) to vellum's own
// Reader.Get and to the oracle, on every key of million-key sets, and
// check that damage to a top file gives ErrCorrupt (or, when a flipped
// byte leaves the copy faithful, the same answers), never a panic or a
// wrong value.

// buildTop returns the top file of f with the given limit.
func buildTop(t testing.TB, f *fst.FST, limit int) []byte {
	t.Helper()
	var buf bytes.Buffer
	ft, err := fst.WriteTop(&buf, f, &fst.TopOptions{Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	if ft.BodyLen != uint64(buf.Len()-frame.HeaderLen-frame.FooterLen) {
		t.Fatalf("WriteTop's footer says %d body bytes, wrote %d", ft.BodyLen, buf.Len()-frame.HeaderLen-frame.FooterLen)
	}
	return buf.Bytes()
}

// withTop loads file and attaches its top file of the given limit,
// checked by Verify.
func withTop(t testing.TB, file []byte, limit int) (*fst.FST, *fst.Top) {
	t.Helper()
	f, err := fst.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	top, err := fst.LoadTop(buildTop(t, f, limit))
	if err != nil {
		t.Fatal(err)
	}
	if err := top.Verify(f); err != nil {
		t.Fatal(err)
	}
	if err := f.SetTop(top); err != nil {
		t.Fatal(err)
	}
	return f, top
}

// Ensure Get and GetPrefetch through a top file answer exactly as vellum
// and the oracle on every key (and four misses per key) of million-key
// URL-like and random sets, and on binary and mixed keys, with vellum's
// registry on and off, for the default limit (2048), a small one (more
// nodes, exits deep down) and -1 (every state with a transition copied:
// the walk never leaves the top file but for final states).
func TestTop_Oracle(t *testing.T) {
	n := 1_000_000
	if quick() {
		n = 30_000
	}
	for _, set := range []struct {
		name    string
		kvs     func() []kv
		limits  []int
		withReg bool
	}{
		{"url", func() []kv { return urlKVs(n, 11) }, []int{0}, false},
		{"random", func() []kv { return randomHexKVs(n, 12) }, []int{0}, false},
		{"url-small", func() []kv { return urlKVs(n/10, 21) }, []int{64, -1}, true},
		{"random-small", func() []kv { return randomHexKVs(n/10, 15) }, []int{64, -1}, true},
		{"binary", func() []kv { return binaryKVs(n/10, 13) }, []int{0, 64, -1}, true},
		{"mixed", func() []kv { return randomKVs(n/20, 14) }, []int{0, 64, -1}, true},
	} {
		kvs := set.kvs()
		regs := []int{-1}
		if set.withReg {
			regs = []int{0, -1}
		}
		for _, reg := range regs {
			file := build(t, kvs, &fst.BuilderOptions{RegistryTableSize: reg})
			for _, limit := range set.limits {
				t.Run(fmt.Sprintf("keys=%s/registry=%d/limit=%d", set.name, reg, limit), func(t *testing.T) {
					f, top := withTop(t, file, limit)
					if limit != 0 && top.Footer().Count == 0 {
						t.Fatal("no nodes: the test walks only the FST")
					}
					checkAgainst(t, f, vellumOf(t, file), kvs)
				})
			}
		}
	}
}

// Ensure the edge cases answer through a top file as without it: the
// empty FST, only the empty key, a key that ends inside a chain, keys
// that are prefixes of each other, 256-way states.
func TestTop_Edges(t *testing.T) {
	var all []kv
	for b := range 256 {
		all = append(all, kv{[]byte{byte(b)}, uint64(b)}, kv{[]byte{byte(b), 'x', 'y', 'z'}, 1 << 40})
	}
	for _, tc := range []struct {
		name string
		kvs  []kv
	}{
		{"empty", nil},
		{"empty key", []kv{{nil, 0}}},
		{"empty key valued", []kv{{nil, 9}}},
		{"chain", []kv{{[]byte("abcdefghijklmnopqrstuvwxyz0123456789"), 3}}},
		{"long chain", []kv{{bytes.Repeat([]byte("ab"), 400), 3}, {bytes.Repeat([]byte("ab"), 401), 4}}},
		{"prefixes", []kv{{nil, 1}, {[]byte("a"), 2}, {[]byte("ab"), 3}, {[]byte("abc"), 0}}},
		{"256-way", all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := build(t, tc.kvs, nil)
			f, _ := withTop(t, file, -1)
			checkAgainst(t, f, vellumOf(t, file), tc.kvs)
		})
	}
}

var updateTop = flag.Bool("update-top", false, "rewrite testdata/golden-v1.top")

// Ensure WriteTop writes exactly the bytes of testdata/golden-v1.top (the
// worked example in top.go), and that they keep loading, verifying and
// answering forever. Run with -update-top after a deliberate change.
func TestTopGolden(t *testing.T) {
	path := filepath.Join("testdata", "golden-v1.top")
	file := build(t, goldenKVs, nil)
	f, err := fst.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want := checkGoldenFile(t, path, buildTop(t, f, -1), *updateTop)
	top, err := fst.LoadTop(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := top.Verify(f); err != nil {
		t.Fatal(err)
	}
	if n := top.Footer().Count; n != 4 {
		t.Fatalf("%d nodes, the worked example has 4", n)
	}
	if err := f.SetTop(top); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key string
		val uint64
		ok  bool
	}{{"cat", 5, true}, {"cats", 1 << 40, true}, {"dog", 2, true}, {"do", 0, false}, {"ca", 0, false}, {"catsx", 0, false}, {"", 0, false}, {"e", 0, false}} {
		v, ok, err := f.Get([]byte(tc.key))
		if err != nil || ok != tc.ok || v != tc.val {
			t.Errorf("Get(%q) = %d, %v, %v; want %d, %v", tc.key, v, ok, err, tc.val, tc.ok)
		}
	}
}

// reframeTop rewrites the frame footer of a top file so that its
// checksums match again: damage that LoadTop's CRC cannot see.
func reframeTop(file []byte) []byte {
	body := file[frame.HeaderLen : len(file)-frame.FooterLen]
	count := binary.LittleEndian.Uint64(file[len(file)-frame.FooterLen:])
	out := append([]byte(nil), file[:frame.HeaderLen+len(body)]...)
	return frame.AppendFooter(out, fst.TopMagic, frame.Footer{Count: count, BodyLen: uint64(len(body)), BodyCRC: crc32.Checksum(out, frame.Table)})
}

// Ensure every damage LoadTop can see maps to its sentinel, and that a
// top file is refused by an FST it was not built from.
func TestTop_LoadErrors(t *testing.T) {
	file := build(t, smallKVs(), nil)
	f, err := fst.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	good := buildTop(t, f, -1)
	mod := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(good)) }
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, fst.ErrCorrupt},
		{"truncated by 1", good[:len(good)-1], fst.ErrCorrupt},
		{"trailing byte", append(bytes.Clone(good), 0), fst.ErrCorrupt},
		{"FST magic", mod(func(b []byte) []byte { copy(b, fst.Magic); return b }), fst.ErrMagic},
		{"future version", mod(func(b []byte) []byte { b[8] = 2; return b }), fst.ErrVersion},
		{"flags", mod(func(b []byte) []byte { b[12] = 1; return reframeTop(b) }), fst.ErrCorrupt},
		{"body byte, CRC kept", mod(func(b []byte) []byte { b[frame.HeaderLen+30]++; return b }), fst.ErrCorrupt},
		{"address width 0", mod(func(b []byte) []byte { b[frame.HeaderLen] = 0; return reframeTop(b) }), fst.ErrCorrupt},
		{"offset width 9", mod(func(b []byte) []byte { b[frame.HeaderLen+1] = 9; return reframeTop(b) }), fst.ErrCorrupt},
		{"reserved", mod(func(b []byte) []byte { b[frame.HeaderLen+2] = 1; return reframeTop(b) }), fst.ErrCorrupt},
		{"pad", mod(func(b []byte) []byte { b[len(b)-frame.FooterLen-1] = 1; return reframeTop(b) }), fst.ErrCorrupt},
		{"no nodes counted", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[len(b)-frame.FooterLen:], 0)
			return reframeTop(b)
		}), fst.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := fst.LoadTop(tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("LoadTop: %v, want %v", err, tc.want)
			}
		})
	}
	// Another FST's top file, with Load's checks all passing.
	other, err := fst.Load(build(t, randomKVs(100, 99), nil))
	if err != nil {
		t.Fatal(err)
	}
	top, err := fst.LoadTop(buildTop(t, other, -1))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetTop(top); !errors.Is(err, fst.ErrCorrupt) {
		t.Fatalf("SetTop of another FST's top file: %v, want ErrCorrupt", err)
	}
	if err := top.Verify(f); !errors.Is(err, fst.ErrCorrupt) {
		t.Fatalf("Verify against another FST: %v, want ErrCorrupt", err)
	}
}

// Ensure a top file cut at any length fails to load with ErrCorrupt, and
// that every byte flipped in its body, with the CRC forged to match, is
// either refused (LoadTop, SetTop or Verify: ErrCorrupt) or leaves every
// answer equal to the FST's alone; and that Get never panics on it,
// verified or not, answering the FST's answer or an ErrCorrupt error.
func TestTop_Damage(t *testing.T) {
	kvs := smallKVs()[:120]
	file := build(t, kvs, nil)
	plain, err := fst.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	good := buildTop(t, plain, -1)
	for n := range len(good) {
		if _, err := fst.LoadTop(good[:n]); !errors.Is(err, fst.ErrCorrupt) {
			t.Fatalf("top cut to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
	var probes [][]byte
	for _, e := range kvs {
		probes = append(probes, e.k, append(bytes.Clone(e.k), 'x'))
		if len(e.k) > 0 {
			probes = append(probes, e.k[:len(e.k)-1])
		}
	}
	type answer struct {
		v  uint64
		ok bool
	}
	want := make([]answer, len(probes))
	for j, k := range probes {
		want[j].v, want[j].ok, _ = plain.Get(k)
	}
	flips := []byte{0x01, 0xff}
	if quick() {
		flips = flips[1:] // -race: one pattern per byte
	}
	var refused, faithful int
	body := len(good) - frame.FooterLen
	for i := frame.HeaderLen; i < body; i++ {
		for _, x := range flips {
			b := bytes.Clone(good)
			b[i] ^= x
			if _, err := fst.LoadTop(b); !errors.Is(err, fst.ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x with the CRC kept: LoadTop %v, want ErrCorrupt", i, x, err)
			}
			top, err := fst.LoadTop(reframeTop(b))
			if err != nil {
				if !errors.Is(err, fst.ErrCorrupt) {
					t.Fatalf("byte %d ^ %#x: LoadTop %v, want ErrCorrupt", i, x, err)
				}
				refused++
				continue
			}
			f, err := fst.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.SetTop(top); err != nil {
				if !errors.Is(err, fst.ErrCorrupt) {
					t.Fatalf("byte %d ^ %#x: SetTop %v", i, x, err)
				}
				refused++
				continue
			}
			verr := top.Verify(f)
			if verr != nil && !errors.Is(verr, fst.ErrCorrupt) {
				t.Fatalf("byte %d ^ %#x: Verify %v", i, x, verr)
			}
			for j, k := range probes {
				v, ok, err := f.Get(k) // must not panic, verified or not
				if verr == nil && (err != nil || v != want[j].v || ok != want[j].ok) {
					t.Fatalf("byte %d ^ %#x passed Verify, but Get(%q) = %d, %v, %v; the FST alone %d, %v", i, x, k, v, ok, err, want[j].v, want[j].ok)
				}
			}
			if verr == nil {
				faithful++
			} else {
				refused++
			}
		}
	}
	if refused == 0 {
		t.Fatal("no flip was refused: the test checks nothing")
	}
	t.Logf("%d flips refused, %d left every answer unchanged", refused, faithful)
}

// FuzzTop feeds arbitrary top bodies (framed with valid checksums, so
// the fuzzer need not forge CRCs) to LoadTop, SetTop, Verify and Get on a
// small FST: nothing may panic, and a top file that passes Verify must
// answer every probe as the FST alone. Seeds: the golden file's body and
// the top files of small FSTs.
func FuzzTop(f *testing.F) {
	file := build(f, smallKVs(), nil)
	plain, err := fst.Load(file)
	if err != nil {
		f.Fatal(err)
	}
	for _, limit := range []int{-1, 64, 0} {
		b := buildTop(f, plain, limit)
		f.Add(b[frame.HeaderLen:len(b)-frame.FooterLen], uint64(binary.LittleEndian.Uint64(b[len(b)-frame.FooterLen:])))
	}
	var probes [][]byte
	for _, e := range smallKVs()[:60] {
		probes = append(probes, e.k, append(bytes.Clone(e.k), 'x'))
	}
	f.Fuzz(func(t *testing.T, body []byte, count uint64) {
		b := frame.AppendHeader(nil, frame.Header{Magic: fst.TopMagic, Version: fst.TopVersion})
		b = append(b, body...)
		b = frame.AppendFooter(b, fst.TopMagic, frame.Footer{Count: count, BodyLen: uint64(len(body)), BodyCRC: crc32.Checksum(b, frame.Table)})
		top, err := fst.LoadTop(b)
		if err != nil {
			return
		}
		ff, err := fst.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if ff.SetTop(top) != nil {
			return
		}
		verr := top.Verify(ff)
		for _, k := range probes {
			wv, wok, _ := plain.Get(k)
			v, ok, err := ff.Get(k)
			if verr == nil && (err != nil || v != wv || ok != wok) {
				t.Fatalf("verified top: Get(%q) = %d, %v, %v; FST alone %d, %v", k, v, ok, err, wv, wok)
			}
		}
	})
}
