package zrec

import "testing"

// Ensure that every treeless literals header appendTreelessHeader writes
// parses back to the same type and sizes, at the edges of each Size_Format.
func TestTreelessHeader_RoundTrip(t *testing.T) {
	for _, c := range []struct {
		regen, comp int
		four        bool
		hl          int
	}{
		{1, 1, false, 3}, {1023, 1000, false, 3},
		{1023, 1023, true, 3}, {1024, 800, true, 4}, {16383, 16000, true, 4},
		{16384, 9000, true, 5}, {1<<18 - 1, 1<<18 - 1, true, 5},
	} {
		h, ok := appendTreelessHeader(nil, c.regen, c.comp, c.four)
		if !ok || len(h) != c.hl {
			t.Fatalf("%+v: header % x, ok %v; want %d bytes", c, h, ok, c.hl)
		}
		typ, regen, comp, hl, err := parseLitHeader(h)
		if err != nil || typ != litTreeless || regen != c.regen || comp != c.comp || hl != c.hl || fourStreams(h[0]) != c.four {
			t.Fatalf("%+v: parsed type %d regen %d comp %d hl %d four %v, %v", c, typ, regen, comp, hl, fourStreams(h[0]), err)
		}
	}
	for _, c := range []struct {
		regen, comp int
		four        bool
	}{{1024, 10, false}, {10, 1024, false}, {1 << 18, 10, true}} {
		if h, ok := appendTreelessHeader(nil, c.regen, c.comp, c.four); ok {
			t.Fatalf("%+v: got header % x, want none (no Size_Format holds it)", c, h)
		}
	}
}

// Ensure that blocks recode cannot rewrite are returned unchanged.
func TestRecode_LeavesOthersAlone(t *testing.T) {
	r := &litRecoder{}
	for _, body := range [][]byte{
		nil,
		{0x01, 0x00, 0x00},                   // raw last block of 0 bytes
		{0x0c, 0x00, 0x00, 0x00},             // compressed block, not last
		{0x15, 0x00, 0x00, 0x01, 0x61},       // last compressed block, RLE literals: "a"
		{0x1d, 0x00, 0x00, 0x03, 0x00, 0x00}, // treeless already (and truncated)
	} {
		got, ok := r.recode(nil, body)
		if ok || string(got) != string(body) {
			t.Fatalf("recode(% x) = % x, %v; want it unchanged", body, got, ok)
		}
	}
}
