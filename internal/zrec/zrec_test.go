package zrec_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
)

// roundTrip encodes the records as one group and checks every decoding path
// against them: the payload, each record, the group length, and that an
// index past the last record is ErrCorrupt. It returns the stored group.
func roundTrip(t *testing.T, e *zrec.Encoder, d *zrec.Decoder, recs [][]byte) []byte {
	t.Helper()
	var payload []byte
	for _, r := range recs {
		payload = zrec.AppendRecord(payload, r)
	}
	prefix := []byte("prefix")
	g := e.AppendGroup(append([]byte(nil), prefix...), payload)
	if !bytes.HasPrefix(g, prefix) {
		t.Fatal("AppendGroup lost dst's bytes")
	}
	g = g[len(prefix):]
	src := append(append([]byte(nil), g...), "trailing bytes of the next group"...)
	n, err := d.GroupLen(src)
	if err != nil || n != len(g) {
		t.Fatalf("GroupLen = %d, %v; want %d", n, err, len(g))
	}
	got, stored, err := d.AppendPayload([]byte("x"), src)
	if err != nil || stored != len(g) || !bytes.Equal(got[1:], payload) || got[0] != 'x' {
		t.Fatalf("AppendPayload: stored %d (want %d), err %v, payload equal %v", stored, len(g), err, bytes.Equal(got[1:], payload))
	}
	if c, err := zrec.CountRecords(got[1:]); err != nil || c != len(recs) {
		t.Fatalf("CountRecords = %d, %v; want %d", c, err, len(recs))
	}
	for i, r := range recs {
		out, err := d.AppendRecord([]byte("y"), src, i)
		if err != nil || out[0] != 'y' || !bytes.Equal(out[1:], r) {
			t.Fatalf("AppendRecord(%d): %v (len %d, want %d)", i, err, len(out)-1, len(r))
		}
	}
	if _, err := d.AppendRecord(nil, src, len(recs)); !errors.Is(err, zrec.ErrCorrupt) {
		t.Fatalf("AppendRecord past the last record: %v, want ErrCorrupt", err)
	}
	if _, err := d.AppendRecord(nil, src, -1); !errors.Is(err, zrec.ErrCorrupt) {
		t.Fatalf("AppendRecord(-1): %v, want ErrCorrupt", err)
	}
	return g
}

// Ensure that every shape of group the issue names round-trips, with and
// without a dictionary and a checksum: text, incompressible values, a 5 MB
// value, empty values, many identical values, binary records.
func TestRoundTrip(t *testing.T) {
	lines := pypiLines()
	five := bytes.Repeat([]byte("five megabytes of a repetitive document. "), 5<<20/41)
	cases := []struct {
		name string
		recs [][]byte
		raw  bool // expect the group stored raw
	}{
		{"text", lines[100:108], false},
		{"one-record", lines[7:8], false},
		{"incompressible", [][]byte{randBytes(1, 300), randBytes(2, 17)}, true},
		{"5MB", [][]byte{[]byte("k"), five, []byte("after")}, false},
		{"5MB-incompressible", [][]byte{randBytes(3, 5<<20)}, true},
		{"empty-values", [][]byte{{}, {}, {}}, true},
		{"single-empty", [][]byte{{}}, true},
		{"identical", bytes.Split(bytes.Repeat([]byte("same value\x00"), 32), []byte{0})[:32], false},
		{"binary", [][]byte{{0, 0xff, 0x80, '\t', '\n'}, {0}, bytes.Repeat([]byte{0xc0, 0x80}, 200)}, false},
	}
	if raceEnabled { // the 5 MB cases take most of a minute under -race
		cases = slices.DeleteFunc(cases, func(c struct {
			name string
			recs [][]byte
			raw  bool
		}) bool {
			return len(c.recs[0]) > 1<<20 || (len(c.recs) > 1 && len(c.recs[1]) > 1<<20)
		})
	}
	for _, dict := range []struct {
		name string
		d    []byte
	}{{"nodict", nil}, {"dict", trainedDict()}} {
		for _, sum := range []bool{true, false} {
			e := mustEncoder(t, dict.d, &zrec.EncoderOptions{NoChecksum: !sum})
			d := mustDecoder(t, dict.d, &zrec.DecoderOptions{NoChecksum: !sum})
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/checksum=%v/%s", dict.name, sum, c.name), func(t *testing.T) {
					g := roundTrip(t, e, d, c.recs)
					raw := g[0]&1 == 1
					if c.raw && !raw {
						t.Errorf("group not stored raw (%d bytes)", len(g))
					}
					if !c.raw && raw && dict.d != nil {
						t.Errorf("group stored raw, expected it to shrink")
					}
				})
			}
		}
	}
}

// Ensure that the trained dictionary pays: groups of 8 PyPI rows shrink at
// least 1.5x with it (measured ~2.1x) and more than without it.
func TestDictionaryHelps(t *testing.T) {
	groups := groupsOf(pypiLines()[20000:24000], 8)
	size := func(dict []byte) (raw, stored int) {
		e := mustEncoder(t, dict, nil)
		for _, g := range groups {
			raw += len(g)
			stored += len(e.AppendGroup(nil, g))
		}
		return
	}
	raw, with := size(trainedDict())
	_, without := size(nil)
	t.Logf("%d bytes raw: %d with the dictionary (%.2fx), %d without (%.2fx)", raw, with, float64(raw)/float64(with), without, float64(raw)/float64(without))
	if float64(raw)/float64(with) < 1.5 || with >= without {
		t.Fatalf("dictionary does not help: raw %d, with %d, without %d", raw, with, without)
	}
}

// Ensure that a decoder refuses, before allocating, a payload longer than
// its bound, and that the encoder reports the bound to record.
func TestMaxPayload(t *testing.T) {
	e := mustEncoder(t, nil, nil)
	payload := zrec.AppendRecord(nil, bytes.Repeat([]byte("a"), 10000))
	g := e.AppendGroup(nil, payload)
	if e.MaxPayload() != len(payload) {
		t.Fatalf("MaxPayload = %d, want %d", e.MaxPayload(), len(payload))
	}
	d := mustDecoder(t, nil, &zrec.DecoderOptions{MaxPayload: len(payload) - 1})
	if _, _, err := d.AppendPayload(nil, g); !errors.Is(err, zrec.ErrCorrupt) {
		t.Fatalf("over the bound: %v, want ErrCorrupt", err)
	}
	if _, err := d.AppendRecord(nil, g, 0); !errors.Is(err, zrec.ErrCorrupt) {
		t.Fatalf("over the bound: %v, want ErrCorrupt", err)
	}
	// A header claiming 2^60 bytes in a 12-byte group.
	huge := []byte{0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f, 3, 1, 2}
	d = mustDecoder(t, nil, nil)
	if _, _, err := d.AppendPayload(nil, huge); !errors.Is(err, zrec.ErrCorrupt) {
		t.Fatalf("huge claim: %v, want ErrCorrupt", err)
	}
}

// Ensure that every single-byte change and every truncation of a
// checksummed group is either detected (ErrCorrupt) or harmless (the same
// payload, e.g. when only the checksum flag was cleared), never a
// different payload and never a panic.
func TestDamage(t *testing.T) {
	for _, dict := range [][]byte{nil, trainedDict()} {
		e := mustEncoder(t, dict, nil)
		d := mustDecoder(t, dict, nil)
		for _, recs := range [][][]byte{pypiLines()[300:308], {randBytes(9, 40), []byte("x")}} {
			var payload []byte
			for _, r := range recs {
				payload = zrec.AppendRecord(payload, r)
			}
			g := e.AppendGroup(nil, payload)
			for i := range g {
				for _, x := range []byte{0x01, 0x80, 0xff} {
					b := bytes.Clone(g)
					b[i] ^= x
					got, _, err := d.AppendPayload(nil, b)
					if err != nil {
						if !errors.Is(err, zrec.ErrCorrupt) {
							t.Fatalf("byte %d ^ %#x: %v does not wrap ErrCorrupt", i, x, err)
						}
						continue
					}
					if !bytes.Equal(got, payload) {
						t.Fatalf("byte %d ^ %#x of %d: a different payload, undetected", i, x, len(g))
					}
				}
			}
			for n := range len(g) {
				if _, _, err := d.AppendPayload(nil, g[:n]); !errors.Is(err, zrec.ErrCorrupt) {
					t.Fatalf("truncated to %d of %d: %v, want ErrCorrupt", n, len(g), err)
				}
				if _, err := d.AppendRecord(nil, g[:n], 0); !errors.Is(err, zrec.ErrCorrupt) {
					t.Fatalf("AppendRecord truncated to %d of %d: %v, want ErrCorrupt", n, len(g), err)
				}
			}
		}
	}
}

// Ensure that a damaged dictionary is refused or, if zstd accepts it,
// makes decoding fail or differ only with an error: never a panic.
func TestDamagedDictionary(t *testing.T) {
	dict := trainedDict()
	e := mustEncoder(t, dict, nil)
	payload := groupsOf(pypiLines()[500:508], 8)[0]
	g := e.AppendGroup(nil, payload)
	step := max(1, len(dict)/300)
	for i := 0; i < len(dict); i += step {
		b := bytes.Clone(dict)
		b[i] ^= 0x55
		d, err := zrec.NewDecoder(b, nil)
		if err != nil {
			if !errors.Is(err, zrec.ErrCorrupt) {
				t.Fatalf("dict byte %d: %v does not wrap ErrCorrupt", i, err)
			}
			continue
		}
		got, _, err := d.AppendPayload(nil, g)
		if err == nil && !bytes.Equal(got, payload) {
			t.Fatalf("dict byte %d: different payload passed the checksum", i)
		}
		if err != nil && !errors.Is(err, zrec.ErrCorrupt) {
			t.Fatalf("dict byte %d: %v does not wrap ErrCorrupt", i, err)
		}
		d.Close()
	}
	if _, err := zrec.NewDecoder([]byte("not a dictionary"), nil); !errors.Is(err, zrec.ErrCorrupt) {
		t.Fatalf("garbage dictionary: %v, want ErrCorrupt", err)
	}
	// Groups written with a dictionary do not decode without it.
	d := mustDecoder(t, nil, nil)
	if _, _, err := d.AppendPayload(nil, g); !errors.Is(err, zrec.ErrCorrupt) {
		t.Fatalf("missing dictionary: %v, want ErrCorrupt", err)
	}
}

// Ensure that the Trainer stays within its memory bound however much it is
// fed, keeps a reproducible sample for a seed, and declines to train on
// too little data.
func TestTrainer(t *testing.T) {
	o := &zrec.TrainOptions{SampleBytes: 64 << 10, MaxSample: 1000, Seed: 7}
	a, b := zrec.NewTrainer(o), zrec.NewTrainer(o)
	for i, l := range pypiLines() {
		a.Add(l)
		b.Add(l)
		if _, kept := a.Sampled(); kept > o.SampleBytes {
			t.Fatalf("after %d samples: %d bytes kept > bound %d", i+1, kept, o.SampleBytes)
		}
	}
	offered, kept := a.Sampled()
	if offered != int64(len(pypiLines())) || kept < o.SampleBytes*9/10 {
		t.Fatalf("Sampled = %d, %d", offered, kept)
	}
	da, err := a.Train()
	if err != nil || da == nil {
		t.Fatalf("Train: %v", err)
	}
	if len(da) > o.SampleBytes/8+1024 { // content bound + entropy tables
		t.Fatalf("dictionary of %d bytes > an eighth of the %d sampled", len(da), kept)
	}
	small := zrec.NewTrainer(nil)
	small.Add([]byte("tiny"))
	if d, err := small.Train(); d != nil || err != nil {
		t.Fatalf("Train on 4 bytes = %d bytes, %v; want no dictionary", len(d), err)
	}
}

// Ensure that Record walks a payload exactly and reports damage.
func TestRecord(t *testing.T) {
	p := zrec.AppendRecord(zrec.AppendRecord(zrec.AppendRecord(nil, []byte("a")), nil), []byte("ccc"))
	for i, want := range []string{"a", "", "ccc"} {
		r, err := zrec.Record(p, i)
		if err != nil || string(r) != want || cap(r) != len(r) {
			t.Fatalf("Record(%d) = %q, %v", i, r, err)
		}
	}
	for _, bad := range [][]byte{nil, {0x05, 'a'}, {0x80}} {
		if _, err := zrec.Record(bad, 0); !errors.Is(err, zrec.ErrCorrupt) {
			t.Fatalf("Record(%x): %v, want ErrCorrupt", bad, err)
		}
	}
	if _, err := zrec.CountRecords([]byte{0x01, 'a', 0x03}); !errors.Is(err, zrec.ErrCorrupt) {
		t.Fatalf("CountRecords with a truncated last record: %v", err)
	}
}
