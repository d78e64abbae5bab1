package zrec_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
