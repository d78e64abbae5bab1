package zrec_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/kvdict/kvdict/internal/zrec"
)

// FuzzDecode feeds arbitrary bytes to every decoding entry point, with and
// without the golden dictionaries and checksums: none may panic or hang,
// every error must wrap ErrCorrupt, and the three paths must agree with
// each other.
func FuzzDecode(f *testing.F) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	dicts := [][]byte{nil, read("golden.dict"), read("golden-treeless.dict")}
	f.Add(read("golden.zrec"), uint8(3), 1)
	f.Add(read("golden-treeless.zrec"), uint8(5), 2)
	f.Add([]byte{0x0f, 0x05, 'h', 'e', 'l', 'l', 'o', 0x00, 0x78, 0x0f, 0x28, 0x7f}, uint8(1), 0)
	e, _ := zrec.NewEncoder(nil, &zrec.EncoderOptions{NoChecksum: true})
	f.Add(e.AppendGroup(nil, zrec.AppendRecord(nil, bytes.Repeat([]byte("ab"), 300))), uint8(0), 0)
	f.Add([]byte{0xfe, 0xff, 0xff, 0xff, 0x0f, 0x03, 0, 0, 0}, uint8(0), 0)

	decoders := make([]*zrec.Decoder, 2*len(dicts))
	for i := range decoders {
		dec, err := zrec.NewDecoder(dicts[i/2], &zrec.DecoderOptions{NoChecksum: i&1 == 0, MaxPayload: 1 << 20})
		if err != nil {
			f.Fatal(err)
		}
		decoders[i] = dec
	}
	f.Fuzz(func(t *testing.T, src []byte, which uint8, i int) {
		d := decoders[int(which)%len(decoders)]
		n, errLen := d.GroupLen(src)
		payload, stored, errPay := d.AppendPayload(nil, src)
		rec, errRec := d.AppendRecord(nil, src, i%20)
		for _, err := range []error{errLen, errPay, errRec} {
			if err != nil && !errors.Is(err, zrec.ErrCorrupt) {
				t.Fatalf("%v does not wrap ErrCorrupt", err)
			}
		}
		if errPay != nil {
			return
		}
		if errLen != nil || n != stored || stored > len(src) {
			t.Fatalf("GroupLen %d, %v; AppendPayload stored %d of %d", n, errLen, stored, len(src))
		}
		want, errWant := zrec.Record(payload, i%20)
		if (errWant == nil) != (errRec == nil) || !bytes.Equal(want, rec) {
			t.Fatalf("AppendRecord(%d) = %q, %v; Record on the payload = %q, %v", i%20, rec, errRec, want, errWant)
		}
	})
}

// FuzzRoundTrip encodes arbitrary records (NUL-separated) as one group,
// without a dictionary or with the treeless golden one (whose tree codes
// every byte, so the encoder rewrites literals treeless), and checks that
// every record decodes back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("a\x00b\x00\x00ccc"), false)
	f.Add(bytes.Repeat([]byte("xyz\x00"), 100), true)
	f.Add([]byte("requests\t2.31.0\t2023-05\t1\tPython HTTP for Humans.\x00numpy\t1.0\xff\x01"), true)
	dict, err := os.ReadFile(filepath.Join("testdata", "golden-treeless.dict"))
	if err != nil {
		f.Fatal(err)
	}
	encs := make([]*zrec.Encoder, 2)
	decs := make([]*zrec.Decoder, 2)
	for i, dd := range [][]byte{nil, dict} {
		encs[i], _ = zrec.NewEncoder(dd, nil)
		decs[i], _ = zrec.NewDecoder(dd, nil)
	}
	f.Fuzz(func(t *testing.T, in []byte, withDict bool) {
		e, d := encs[0], decs[0]
		if withDict {
			e, d = encs[1], decs[1]
		}
		recs := bytes.Split(in, []byte{0})
		var p []byte
		for _, r := range recs {
			p = zrec.AppendRecord(p, r)
		}
		g := e.AppendGroup(nil, p)
		for i, r := range recs {
			got, err := d.AppendRecord(nil, g, i)
			if err != nil || !bytes.Equal(got, r) {
				t.Fatalf("record %d: %q, %v; want %q", i, got, err, r)
			}
		}
	})
}

// FuzzFastDecoder feeds arbitrary frame bodies (the blocks of a group's
// zstd frame) to the fast decoder and to klauspost, without a dictionary
// and with the two golden ones. The fast decoder must never panic, must
// report damage as ErrCorrupt, and whenever it accepts a body klauspost
// must accept it too and give the same bytes (a body the fast decoder
// refuses goes to klauspost, so this makes the Decoder's answer
// klauspost's on every input). Decoding one-stream literals lazily or
// first must make no difference, on damaged bodies too.
func FuzzFastDecoder(f *testing.F) {
	skipIfFastOff(f)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	dicts := [][]byte{nil, read("golden.dict"), read("golden-treeless.dict")}
	decs := make([]*zrec.Decoder, len(dicts))
	for i, dd := range dicts {
		decs[i] = mustDecoder(f, dd, &zrec.DecoderOptions{MaxPayload: 1 << 20})
		if !zrec.FastOK(decs[i]) {
			f.Fatalf("dictionary %d: no fast decoder", i)
		}
	}
	for i, name := range []string{"golden.zrec", "golden-treeless.zrec"} {
		body, n, _ := zrec.GroupBody(read(name), true)
		f.Add(body, uint16(n), uint8(i+1))
	}
	// Frames of klauspost's own encoder: own trees, FSE tables, 4 streams.
	rows := bytes.Join(pypiLines()[:200], []byte("\n"))
	for _, p := range [][]byte{rows[:100], rows[:2000], rows, bytes.Repeat([]byte("ab"), 999), randBytes(9, 300)} {
		for i, dd := range dicts {
			opts := []zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithSingleSegment(true), zstd.WithEncoderCRC(false)}
			if dd != nil {
				opts = append(opts, zstd.WithEncoderDict(dd))
			}
			enc, _ := zstd.NewWriter(nil, opts...)
			if body, ok := zrec.FrameBody(enc.EncodeAll(p, nil), len(p)); ok && len(p) < 1<<16 {
				f.Add(body, uint16(len(p)), uint8(i))
			}
			enc.Close()
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, n uint16, which uint8) {
		d := decs[int(which)%len(decs)]
		got, errF := zrec.DecodeFast(d, body, int(n))
		eager, errE := zrec.DecodeEager(d, body, int(n))
		if (errF == nil) != (errE == nil) || !bytes.Equal(got, eager) {
			t.Fatalf("lazy literals give %x, %v; eager %x, %v", got, errF, eager, errE)
		}
		if errF != nil {
			if !errors.Is(errF, zrec.ErrCorrupt) {
				t.Fatalf("%v does not wrap ErrCorrupt", errF)
			}
			return
		}
		want, errK := zrec.DecodeKlauspost(d, body, int(n))
		if errK != nil {
			t.Fatalf("fast decoder accepts what klauspost refuses (%v)", errK)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("fast decoder gives %x, klauspost %x", got, want)
		}
	})
}
