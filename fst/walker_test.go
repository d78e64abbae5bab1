package fst_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blevesearch/vellum"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/frame"
)

// These tests hold [fst.FST.Get], which walks vellum's bytes itself
// (walker.go), to vellum's own Reader.Get on the very same bytes: vellum
// stays the reference decoder.

// vellumOf loads the vellum FST inside an FST file (its body), as a
// reference to compare Get with.
func vellumOf(t testing.TB, file []byte) *vellum.Reader {
	t.Helper()
	v, err := vellum.Load(file[frame.HeaderLen : len(file)-frame.FooterLen])
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.Reader()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// vellumGet is vellum's Reader.Get with its panics (on damaged bytes)
// turned into panicked = true.
func vellumGet(r *vellum.Reader, key []byte) (val uint64, ok bool, err error, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			panicked = true
		}
	}()
	val, ok, err = r.Get(key)
	return val, ok, err, false
}

// oracleGet looks key up in kvs (sorted, unique) by binary search.
func oracleGet(kvs []kv, key []byte) (uint64, bool) {
	i, found := slices.BinarySearchFunc(kvs, key, func(e kv, k []byte) int { return bytes.Compare(e.k, k) })
	if !found {
		return 0, false
	}
	return kvs[i].v, true
}

// binaryKVs returns about n unique random binary keys (sorted) with
// values spread over the whole uint64 range, in no order: short keys of
// every byte value (so that states have up to 256 transitions and every
// one-transition input code occurs), the empty key, and a few keys of 1 to
// 8 KB.
func binaryKVs(n int, seed uint64) []kv {
	r := rand.New(rand.NewPCG(seed, 0x62696e))
	m := map[string]uint64{"": r.Uint64()}
	for len(m) < n {
		var k []byte
		switch x := r.IntN(10000); {
		case x < 3:
			k = make([]byte, 1024+r.IntN(7*1024))
		case x < 3000:
			k = make([]byte, 1+r.IntN(3))
		default:
			k = make([]byte, 4+r.IntN(20))
		}
		for i := range k {
			k[i] = byte(r.Uint32())
		}
		m[string(k)] = r.Uint64() >> uint(r.IntN(64))
	}
	kvs := make([]kv, 0, len(m))
	for k, v := range m {
		kvs = append(kvs, kv{[]byte(k), v})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	return kvs
}

// checkAgainst looks every key of kvs up, and near misses of each (the key
// plus a byte, minus its last byte, with its last byte changed, and a
// random key), in f and in vellum, and fails unless both give the
// oracle's answer.
func checkAgainst(t *testing.T, f *fst.FST, ref *vellum.Reader, kvs []kv) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(len(kvs)), 7))
	var probe []byte
	rnd := make([]byte, 24)
	var hits, misses int
	// GetPrefetch must answer as Get whatever values it is given: none,
	// one shorter than the outputs it meets, one that covers them all.
	var maxOut uint64
	for _, e := range kvs {
		maxOut = max(maxOut, e.v)
	}
	valueSets := [][]byte{nil, make([]byte, 100), make([]byte, min(maxOut+1, 1<<22))}
	check := func(key []byte) {
		wv, wok := oracleGet(kvs, key)
		gv, gok, gerr := f.Get(key)
		vv, vok, verr, vpanic := vellumGet(ref, key)
		if gerr != nil || verr != nil || vpanic || gv != vv || gok != vok || gok != wok || gv != wv {
			t.Fatalf("key %q: walker %d, %v, %v; vellum %d, %v, %v (panic %v); oracle %d, %v",
				key, gv, gok, gerr, vv, vok, verr, vpanic, wv, wok)
		}
		values := valueSets[(hits+misses)%len(valueSets)]
		if pv, pok, perr := f.GetPrefetch(key, values); pv != gv || pok != gok || perr != nil {
			t.Fatalf("key %q: GetPrefetch with %d value bytes = %d, %v, %v; Get %d, %v", key, len(values), pv, pok, perr, gv, gok)
		}
		if wok {
			hits++
		} else {
			misses++
		}
	}
	for _, e := range kvs {
		check(e.k)
		check(append(append(probe[:0], e.k...), byte(r.Uint32())))
		if len(e.k) > 0 {
			check(e.k[:len(e.k)-1])
			probe = append(probe[:0], e.k...)
			probe[len(probe)-1] ^= byte(1 + r.IntN(255))
			check(probe)
		}
		k := rnd[:r.IntN(len(rnd))]
		for i := range k {
			k[i] = byte(r.Uint32())
		}
		check(k)
	}
	if hits < len(kvs) || misses < len(kvs) {
		t.Fatalf("only %d hits and %d misses for %d keys", hits, misses, len(kvs))
	}
}

// Ensure Get answers exactly as vellum and the oracle on every key of
// million-key sets, hit and miss, for URL-like and random hex keys, and
// on binary keys (with the empty key and keys up to 8 KB) and mixed text
// and binary keys, with vellum's suffix registry at its default and
// turned off (which changes the states written: fewer shared suffixes,
// more "next state" transitions). The sets other than the two million-key
// ones are smaller only to keep go test ./... within minutes on a shared
// 2-core machine.
func TestWalker_Oracle(t *testing.T) {
	n := 1_000_000
	if quick() {
		n = 30_000
	}
	for _, set := range []struct {
		name    string
		kvs     func() []kv
		withReg bool // with the default registry too
	}{
		{"url", func() []kv { return urlKVs(n, 11) }, true},
		{"random", func() []kv { return randomHexKVs(n, 12) }, false},
		{"random-small", func() []kv { return randomHexKVs(n/5, 15) }, true},
		{"binary", func() []kv { return binaryKVs(n/2, 13) }, true},
		{"mixed", func() []kv { return randomKVs(n/10, 14) }, true},
	} {
		kvs := set.kvs()
		regs := []int{-1} // no registry: builds 1M random keys 2.5x faster
		if set.withReg {
			regs = []int{0, -1}
		}
		for _, reg := range regs {
			t.Run(fmt.Sprintf("keys=%s/registry=%d", set.name, reg), func(t *testing.T) {
				file := build(t, kvs, &fst.BuilderOptions{RegistryTableSize: reg})
				f, err := fst.Load(file)
				if err != nil {
					t.Fatal(err)
				}
				checkAgainst(t, f, vellumOf(t, file), kvs)
			})
		}
	}
}

// Ensure every input byte decodes as vellum decodes it, in one-transition
// states (where 63 common bytes are coded in the top byte: this pins the
// commonInputs table) and in a 256-transition state.
func TestWalker_EveryInputByte(t *testing.T) {
	for b := range 256 {
		// "bb" is two one-transition states, the second one reached as the
		// state just below; "bbb…" from a longer run.
		kvs := []kv{{[]byte{byte(b), byte(b)}, uint64(b) + 1}, {[]byte{byte(b), byte(b), byte(b), 'x', byte(b)}, 1 << 50}}
		file := build(t, kvs, nil)
		f, err := fst.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		ref := vellumOf(t, file)
		for c := range 256 {
			for _, key := range [][]byte{{byte(b), byte(c)}, {byte(c), byte(b)}, {byte(b), byte(b), byte(c), 'x', byte(b)}} {
				gv, gok, gerr := f.Get(key)
				vv, vok, verr, _ := vellumGet(ref, key)
				wv, wok := oracleGet(kvs, key)
				if gerr != nil || verr != nil || gv != vv || gok != vok || gv != wv || gok != wok {
					t.Fatalf("byte %#x: Get(%q) = %d, %v, %v; vellum %d, %v, %v; want %d, %v", b, key, gv, gok, gerr, vv, vok, verr, wv, wok)
				}
			}
		}
	}
	// One state with all 256 transitions (its count byte holds 1), one with
	// 64 (count byte 64), each final, and the outputs of the last byte of
	// the two-byte keys in an 8-byte packed size.
	var kvs []kv
	for b := range 256 {
		kvs = append(kvs, kv{[]byte{byte(b)}, uint64(b) * 3})
		if b < 64 {
			kvs = append(kvs, kv{[]byte{byte(b), byte(b)}, 1<<64 - 1 - uint64(b)})
		}
	}
	kvs = append([]kv{{nil, 1 << 63}}, kvs...)
	slices.SortFunc(kvs, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	file := build(t, kvs, nil)
	f, err := fst.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainst(t, f, vellumOf(t, file), kvs)
}

// Ensure the corner cases of the format decode as vellum decodes them:
// an empty FST, the empty key alone (root at address 0), values 0 and
// 2^64-1, outputs that are not monotone, and keys of MaxKeyLen bytes.
func TestWalker_Edges(t *testing.T) {
	long := bytes.Repeat([]byte("ab"), fst.MaxKeyLen/2+1)[:fst.MaxKeyLen]
	for _, tc := range []struct {
		name string
		kvs  []kv
	}{
		{"empty", nil},
		{"empty key, value 0", []kv{{nil, 0}}},
		{"empty key", []kv{{nil, 42}}},
		{"one key", []kv{{[]byte("k"), 1<<64 - 1}}},
		{"decreasing values", []kv{{[]byte("a"), 1<<64 - 1}, {[]byte("ab"), 7}, {[]byte("abc"), 0}, {[]byte("b"), 1 << 32}}},
		{"max key length", []kv{{nil, 1}, {long[:fst.MaxKeyLen-1], 2}, {long, 3}, {append(bytes.Clone(long[:fst.MaxKeyLen-1]), 'c'), 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := build(t, tc.kvs, nil)
			f, err := fst.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainst(t, f, vellumOf(t, file), tc.kvs)
			for _, k := range [][]byte{nil, {0}, {0xff}, []byte("a"), []byte("abcd")} {
				gv, gok, gerr := f.Get(k)
				wv, wok := oracleGet(tc.kvs, k)
				if gerr != nil || gv != wv || gok != wok {
					t.Fatalf("Get(%q) = %d, %v, %v; want %d, %v", k, gv, gok, gerr, wv, wok)
				}
			}
		})
	}
}

// Ensure Get reports ErrCorrupt, and does not panic, on states whose
// sizes or addresses leave the body, in testdata/golden-v1.fst (format.go
// walks through its bytes). File offsets: the root state's pack byte is
// at 0x3a, its delta for 'c' at 0x37; state 29's pack byte at 0x2c, state
// 34's at 0x31.
func TestWalker_Corrupt(t *testing.T) {
	good := build(t, goldenKVs, nil)
	for _, tc := range []struct {
		name string
		off  int
		b    byte
		key  string
	}{
		{"address size 9", 0x3a, 0x91, "cat"},
		{"output size 9", 0x3a, 0x19, "dog"},
		{"target in the header", 0x37, 0x20, "cat"},
		{"delta below 0", 0x37, 0xf0, "cat"},
		{"final state sizes", 0x2c, 0xf1, "cat"},
		{"single state sizes", 0x31, 0x1f, "dog"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := bytes.Clone(good)
			file[tc.off] = tc.b
			f, err := fst.Load(reframe(file))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err = f.Get([]byte(tc.key)); !errors.Is(err, fst.ErrCorrupt) {
				t.Fatalf("Get(%q) = %v, want ErrCorrupt", tc.key, err)
			}
		})
	}
	// A root address pointing at a state whose top byte says 256
	// transitions, which would run below the header.
	file := bytes.Clone(good)
	binary.LittleEndian.PutUint64(file[len(file)-frame.FooterLen-8:], 0x1e) // state 30 (top byte c1)
	file[frame.HeaderLen+0x1e] = 0x00                                       // several transitions, count below
	file[frame.HeaderLen+0x1d] = 0x01                                       // 256
	f, err := fst.Load(reframe(file))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Get([]byte("x")); !errors.Is(err, fst.ErrCorrupt) {
		t.Fatalf("Get on a 256-transition state running into the header = %v, want ErrCorrupt", err)
	}
}

// Ensure no single damaged byte, at any offset of an FST body, set to
// any of several values, makes Get panic, and that whenever both Get and
// vellum return without error (vellum not panicking) they agree: the
// walker may refuse more than vellum, never answer differently.
func TestWalker_DamageAgrees(t *testing.T) {
	kvs := smallKVs()
	good := build(t, kvs, nil)
	var probes [][]byte
	for i, e := range kvs {
		if i%3 == 0 {
			probes = append(probes, e.k, append(bytes.Clone(e.k), 'x'))
		}
	}
	bodyEnd := len(good) - frame.FooterLen
	step := 1
	if quick() {
		step = 7
	}
	var refused, agreed int
	for off := frame.HeaderLen; off < bodyEnd; off += step {
		for _, x := range []byte{0x01, 0x0f, 0x40, 0x80, 0xff} {
			file := bytes.Clone(good)
			file[off] ^= x
			f, err := fst.Load(reframe(file))
			if err != nil {
				continue
			}
			ref := vellumOf(t, file)
			for _, k := range probes {
				gv, gok, gerr := f.Get(k)
				if pv, pok, perr := f.GetPrefetch(k, file); pv != gv || pok != gok || (perr == nil) != (gerr == nil) {
					t.Fatalf("offset %#x ^ %#x: GetPrefetch(%q) = %d, %v, %v; Get %d, %v, %v", off, x, k, pv, pok, perr, gv, gok, gerr)
				}
				vv, vok, verr, vpanic := vellumGet(ref, k)
				switch {
				case gerr != nil:
					if !errors.Is(gerr, fst.ErrCorrupt) {
						t.Fatalf("offset %#x ^ %#x: Get(%q) error does not wrap ErrCorrupt: %v", off, x, k, gerr)
					}
					refused++
				case verr == nil && !vpanic:
					if gv != vv || gok != vok {
						t.Fatalf("offset %#x ^ %#x: Get(%q) = %d, %v; vellum %d, %v", off, x, k, gv, gok, vv, vok)
					}
					agreed++
				}
			}
		}
	}
	if refused == 0 || agreed == 0 {
		t.Fatalf("refused %d, agreed %d: the damage did not reach the walker", refused, agreed)
	}
}

// FuzzWalker feeds arbitrary bytes to Get, as a whole FST file and as a
// vellum body framed with valid checksums (so that the fuzzer reaches the
// states without forging CRCs), and looks up fixed keys and keys cut from
// the input. Get must never panic, and whenever both Get and vellum
// return without error (vellum not panicking), they must agree.
func FuzzWalker(f *testing.F) {
	f.Add(build(f, goldenKVs, nil))
	f.Add(build(f, nil, nil))
	f.Add(build(f, []kv{{nil, 7}}, nil))
	f.Add(build(f, filter(randomKVs(40, 12), func(k []byte) bool { return len(k) < 40 }), nil))
	f.Add(build(f, binaryKVs(60, 3), &fst.BuilderOptions{RegistryTableSize: -1}))
	fixed := [][]byte{nil, []byte("cat"), []byte("cats"), []byte("dog"), []byte("alpha/1"), {0}, {0xff}}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, file := range [][]byte{data, frameBody(data)} {
			ff, err := fst.Load(file)
			if err != nil {
				continue
			}
			ref := vellumOf(t, file)
			probes := fixed
			for i := 0; i+1 < len(data) && i < 64; i += 3 {
				probes = append(probes, data[i:i+1+int(data[i])%8])
			}
			for _, k := range probes {
				gv, gok, gerr := ff.Get(k)
				if pv, pok, perr := ff.GetPrefetch(k, data); pv != gv || pok != gok || (perr == nil) != (gerr == nil) {
					t.Fatalf("GetPrefetch(%q) = %d, %v, %v; Get %d, %v, %v", k, pv, pok, perr, gv, gok, gerr)
				}
				if gerr != nil {
					if !errors.Is(gerr, fst.ErrCorrupt) {
						t.Fatalf("Get(%q) error does not wrap ErrCorrupt: %v", k, gerr)
					}
					continue
				}
				if vv, vok, verr, vpanic := vellumGet(ref, k); verr == nil && !vpanic && (gv != vv || gok != vok) {
					t.Fatalf("Get(%q) = %d, %v; vellum %d, %v", k, gv, gok, vv, vok)
				}
			}
		}
	})
}

// FuzzWalker_Keys builds a valid FST from keys cut from the fuzzer's
// bytes (each a length byte, mod 32, then that many bytes), with or
// without vellum's registry, and checks Get against vellum and the keys
// on every key, every prefix of a key, and each key plus a byte.
func FuzzWalker_Keys(f *testing.F) {
	f.Add([]byte("\x03cat\x04cats\x03dog\x00"), false)
	f.Add([]byte("\x02ab\x02ac\x01b\x05\xff\xfe\x00\x01\x02"), true)
	f.Fuzz(func(t *testing.T, data []byte, noRegistry bool) {
		m := map[string]uint64{}
		for i := 0; i < len(data); {
			n := int(data[i]) % 32
			i++
			k := data[i:min(i+n, len(data))]
			i += n
			m[string(k)] = uint64(len(m)) * 0x9e3779b97f4a7c15 >> (uint(len(k)) % 64)
		}
		kvs := make([]kv, 0, len(m))
		for k, v := range m {
			kvs = append(kvs, kv{[]byte(k), v})
		}
		slices.SortFunc(kvs, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
		opts := &fst.BuilderOptions{}
		if noRegistry {
			opts.RegistryTableSize = -1
		}
		file := build(t, kvs, opts)
		ff, err := fst.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		ref := vellumOf(t, file)
		for _, e := range kvs {
			for j := 0; j <= len(e.k)+1; j++ {
				k := e.k[:min(j, len(e.k))]
				if j > len(e.k) {
					k = append(bytes.Clone(e.k), 'x')
				}
				gv, gok, gerr := ff.Get(k)
				if pv, pok, perr := ff.GetPrefetch(k, data); pv != gv || pok != gok || perr != nil {
					t.Fatalf("GetPrefetch(%q) = %d, %v, %v; Get %d, %v", k, pv, pok, perr, gv, gok)
				}
				vv, vok, verr, vpanic := vellumGet(ref, k)
				wv, wok := oracleGet(kvs, k)
				if gerr != nil || verr != nil || vpanic || gv != vv || gok != vok || gv != wv || gok != wok {
					t.Fatalf("Get(%q) = %d, %v, %v; vellum %d, %v, %v (panic %v); want %d, %v", k, gv, gok, gerr, vv, vok, verr, vpanic, wv, wok)
				}
			}
		}
	})
}
