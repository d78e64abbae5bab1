package frame

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// Ensure the framing of an empty value log is byte for byte what the
// package doc's worked example shows (the format cannot drift silently).
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Magic: "kvdVLOG\x00", Version: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(0); err != nil {
		t.Fatal(err)
	}
	want := "6b7664564c4f4700" + "01000000" + "00000000" + // header
		"0000000000000000" + "0000000000000000" + // count, body length
		"d33bfcc6" + "fccd34ff" + // body CRC, footer CRC
		"6b7664564c4f4700"
	if got := hex.EncodeToString(buf.Bytes()); got != want {
		t.Fatalf("empty file:\n got %s\nwant %s", got, want)
	}
}

func frameOf(t *testing.T, body string) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Magic: "testMAGC", Version: 2, Flags: 7}, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if w.Len() != uint64(len(body)) {
		t.Fatalf("Len = %d", w.Len())
	}
	if _, err := w.Finish(42); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Ensure a written frame decodes to what was written.
func TestRoundTrip(t *testing.T) {
	data := frameOf(t, "hello, body")
	f, err := Decode(data, "testMAGC", 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(f.Body) != "hello, body" || f.Footer.Count != 42 || f.Header.Flags != 7 || f.Header.Version != 2 {
		t.Fatalf("decoded %+v %+v %q", f.Header, f.Footer, f.Body)
	}
	if err := f.VerifyBody(); err != nil {
		t.Fatal(err)
	}
}

// Ensure every kind of damage maps to its sentinel, checked in the
// documented order, and never panics.
func TestDecode_Errors(t *testing.T) {
	good := frameOf(t, "some body bytes")
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		data []byte
		max  uint32
		want error
	}{
		{"empty", nil, 2, ErrCorrupt},
		{"short", good[:HeaderLen+FooterLen-1], 2, ErrCorrupt},
		{"magic", mut(func(b []byte) []byte { b[0] = 'X'; return b }), 2, ErrMagic},
		{"future version", good, 1, ErrVersion},
		{"version zero", mut(func(b []byte) []byte { b[8] = 0; return b }), 2, ErrVersion},
		{"truncated", good[:len(good)-1], 2, ErrCorrupt},
		{"trailing byte", append(append([]byte(nil), good...), 0), 2, ErrCorrupt},
		{"footer crc", mut(func(b []byte) []byte { b[len(b)-FooterLen] ^= 1; return b }), 2, ErrCorrupt},
		{"footer magic", mut(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), 2, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.data, "testMAGC", tt.max); !errors.Is(err, tt.want) {
				t.Fatalf("Decode: %v, want %v", err, tt.want)
			}
		})
	}
	// A flipped body byte passes Decode (O(1)) and fails VerifyBody.
	for pos := HeaderLen; pos < len(good)-FooterLen; pos++ {
		b := append([]byte(nil), good...)
		b[pos] ^= 0x80
		f, err := Decode(b, "testMAGC", 2)
		if err != nil {
			t.Fatalf("byte %d: Decode: %v", pos, err)
		}
		if err := f.VerifyBody(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d: VerifyBody: %v", pos, err)
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

// Ensure a write error is sticky and surfaces from Write and Finish.
func TestWriter_StickyError(t *testing.T) {
	w, err := NewWriter(&failWriter{n: 100}, Header{Magic: "testMAGC", Version: 1}, 16)
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for range 100 {
		if _, werr = w.Write([]byte("0123456789")); werr != nil {
			break
		}
	}
	if werr == nil || w.Err() == nil {
		t.Fatal("write error not reported")
	}
	if _, err := w.Finish(0); err == nil {
		t.Fatal("Finish after a write error succeeded")
	}
}

// writeRecorder records the length of every Write it receives.
type writeRecorder struct {
	bytes.Buffer
	sizes []int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// Ensure the Writer hands the file writes of exactly its buffer size (the
// last excepted), whatever the sizes written to it, including writes
// larger than the buffer: that keeps every write at a multiple of
// DefaultBufSize in the file, which is what lets Linux cache it in 2 MiB
// folios. The bytes must be exactly those written.
func TestWriter_WholeChunks(t *testing.T) {
	const chunk = 4096
	rec := &writeRecorder{}
	w, err := NewWriter(rec, Header{Magic: "testMAGC", Version: 1}, chunk)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	want.Write(AppendHeader(nil, Header{Magic: "testMAGC", Version: 1}))
	for i, n := range []int{1, 100, 3 * chunk, chunk - 117, 0, 5, 2*chunk + 1, 7} {
		p := bytes.Repeat([]byte{byte(i + 'a')}, n)
		if m, err := w.Write(p); m != n || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", n, m, err)
		}
		want.Write(p)
	}
	f, err := w.Finish(8)
	if err != nil {
		t.Fatal(err)
	}
	want.Write(AppendFooter(nil, "testMAGC", f))
	if !bytes.Equal(rec.Bytes(), want.Bytes()) {
		t.Fatalf("file differs from the bytes written (%d vs %d bytes)", rec.Len(), want.Len())
	}
	for i, n := range rec.sizes {
		if n != chunk && i != len(rec.sizes)-1 {
			t.Fatalf("write %d of %d is %d bytes, want %d: %v", i, len(rec.sizes), n, chunk, rec.sizes)
		}
	}
	if len(rec.sizes) != (want.Len()+chunk-1)/chunk {
		t.Fatalf("%d writes for %d bytes", len(rec.sizes), want.Len())
	}
}
