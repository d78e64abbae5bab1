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
// without the golden dictionary and checksums: none may panic or hang, every
// error must wrap ErrCorrupt, and the three paths must agree with each other.
func FuzzDecode(f *testing.F) {
	dict, err := os.ReadFile(filepath.Join("testdata", "golden.dict"))
	if err != nil {
		f.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "golden.zrec"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden, uint8(3), 1)
	f.Add([]byte{0x0f, 0x05, 'h', 'e', 'l', 'l', 'o', 0x00, 0x78, 0x0f, 0x28, 0x7f}, uint8(1), 0)
	e, _ := zrec.NewEncoder(nil, &zrec.EncoderOptions{NoChecksum: true})
	f.Add(e.AppendGroup(nil, zrec.AppendRecord(nil, bytes.Repeat([]byte("ab"), 300))), uint8(0), 0)
	f.Add([]byte{0xfe, 0xff, 0xff, 0xff, 0x0f, 0x03, 0, 0, 0}, uint8(0), 0)

	decoders := make([]*zrec.Decoder, 4)
	for i := range decoders {
		var d []byte
		if i&2 != 0 {
			d = dict
		}
		dec, err := zrec.NewDecoder(d, &zrec.DecoderOptions{NoChecksum: i&1 == 0, MaxPayload: 1 << 20})
		if err != nil {
			f.Fatal(err)
		}
		decoders[i] = dec
	}
	f.Fuzz(func(t *testing.T, src []byte, which uint8, i int) {
		d := decoders[which%4]
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

// FuzzRoundTrip encodes arbitrary records (NUL-separated) as one group and
// checks that every record decodes back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("a\x00b\x00\x00ccc"), false)
	f.Add(bytes.Repeat([]byte("xyz\x00"), 100), true)
	e, _ := zrec.NewEncoder(nil, nil)
	d, _ := zrec.NewDecoder(nil, nil)
	f.Fuzz(func(t *testing.T, in []byte, _ bool) {
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
