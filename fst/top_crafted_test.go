package fst_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"testing"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/frame"
)

// Ensure a top file with a valid CRC but a transition address that reads
// negative (8-byte addresses, the previous input's target -10) does not
// make Get slice the FST below 0: readers check the CRC at Open, not
// Verify, so such a file reaches the walk.
func TestTop_NegativeAddress(t *testing.T) {
	file, err := os.ReadFile("testdata/golden-v1.fst")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("testdata/golden-v1.top")
	if err != nil {
		t.Fatal(err)
	}
	body := append([]byte(nil), golden[frame.HeaderLen:frame.HeaderLen+24]...) // FST length and CRC
	body[0], body[1] = 8, 1                                                    // A=8, C=1
	// The root: not final, 2 inputs "cd", output width 0, no children,
	// addresses -10 and 35 ('d', golden-v1.fst's state of "d").
	body = append(body, 0, 1, 0, 'c', 'd', 0, 0)
	body = binary.LittleEndian.AppendUint64(body, 1<<64-10)
	body = binary.LittleEndian.AppendUint64(body, 35)
	body = append(body, make([]byte, 16)...)
	b := frame.AppendHeader(nil, frame.Header{Magic: fst.TopMagic, Version: fst.TopVersion})
	b = append(b, body...)
	b = frame.AppendFooter(b, fst.TopMagic, frame.Footer{Count: 1, BodyLen: uint64(len(body)), BodyCRC: crc32.Checksum(b, frame.Table)})
	top, err := fst.LoadTop(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fst.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetTop(top); err != nil {
		t.Fatal(err)
	}
	if err := top.Verify(f); !errors.Is(err, fst.ErrCorrupt) {
		t.Fatalf("Verify: %v, want ErrCorrupt", err)
	}
	// Through 'd' the walk leaves the copy at the real state of "d" (with
	// output 0: the crafted root has none), whatever its neighbour says.
	for _, k := range []string{"dog", "do", "dogs", "d"} {
		v, ok, err := f.Get([]byte(k))
		if want := k == "dog"; ok != want || err != nil || v != 0 {
			t.Errorf("Get(%q) = %d, %v, %v", k, v, ok, err)
		}
	}
}
