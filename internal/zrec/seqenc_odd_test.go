package zrec_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/kvdict/kvdict/internal/zrec"
)

// oddPayloads returns n group payloads of random shapes that the PyPI
// tests do not reach: runs of one byte, small alphabets, copies at random
// offsets of earlier bytes and of PyPI rows (the dictionary's content),
// incompressible stretches, records up to the encoder's payload limit.
func oddPayloads(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 77))
	rows := pypiLines()
	var out [][]byte
	for range n {
		size := 1 + r.IntN(40<<10)
		if r.IntN(3) == 0 {
			size = 1 + r.IntN(200)
		}
		var v []byte
		for len(v) < size {
			switch r.IntN(6) {
			case 0: // one byte repeated
				v = append(v, bytes.Repeat([]byte{byte(r.IntN(256))}, 1+r.IntN(3000))...)
			case 1: // small alphabet
				k := 1 + r.IntN(4)
				for range 1 + r.IntN(500) {
					v = append(v, 'a'+byte(r.IntN(k)))
				}
			case 2: // a copy of earlier bytes
				if len(v) > 0 {
					o := r.IntN(len(v))
					l := min(1+r.IntN(300), len(v)-o)
					v = append(v, v[o:o+l]...)
				}
			case 3: // a PyPI row, or part of one
				row := rows[r.IntN(len(rows))]
				v = append(v, row[r.IntN(len(row)):]...)
			case 4: // incompressible
				for range 1 + r.IntN(400) {
					v = append(v, byte(r.Uint32()))
				}
			case 5: // a repeat of a short period
				p := make([]byte, 1+r.IntN(12))
				for i := range p {
					p[i] = byte(r.Uint32())
				}
				for range 1 + r.IntN(200) {
					v = append(v, p...)
				}
			}
		}
		out = append(out, zrec.AppendRecord(nil, v[:size]))
	}
	return out
}

// Ensure that every group the encoder writes for odd payloads, with no
// dictionary, with a PyPI dictionary and with one trained on odd payloads,
// decodes to the payload with klauspost's decoder and with libzstd (the
// zstd command) on their standard frames: the encoder's own block coding
// (seqenc.go, its 8-byte bit-stream writes) stays inside the format.
func TestSeqEnc_OddPayloadsDecodeElsewhere(t *testing.T) {
	tr := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: 16 << 10, SampleBytes: 512 << 10, Seed: 4})
	for _, p := range oddPayloads(1, 200) {
		tr.Add(p)
	}
	oddDict, err := tr.Train()
	if err != nil || oddDict == nil {
		t.Fatalf("no dictionary trained on odd payloads: %v", err)
	}
	zstdBin, _ := exec.LookPath("zstd")
	for _, tc := range []struct {
		name string
		dict []byte
	}{{"none", nil}, {"pypi", treelessDict(t)}, {"odd", oddDict}} {
		t.Run("dict="+tc.name, func(t *testing.T) {
			e := mustEncoder(t, tc.dict, nil)
			var opts []zstd.DOption
			if len(tc.dict) > 0 {
				opts = append(opts, zstd.WithDecoderDicts(tc.dict))
			}
			kd, err := zstd.NewReader(nil, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer kd.Close()
			var frames, want []byte
			for i, p := range oddPayloads(2, 300) {
				g := e.AppendGroup(nil, p)
				h, a := binary.Uvarint(g)
				if h&1 != 0 {
					continue // stored raw
				}
				m, b := binary.Uvarint(g[a:])
				var f []byte
				if len(tc.dict) > 0 {
					f = append(f, 0x28, 0xb5, 0x2f, 0xfd, 0xe3, 1, 0, 0, 0)
				} else {
					f = append(f, 0x28, 0xb5, 0x2f, 0xfd, 0xe0)
				}
				f = binary.LittleEndian.AppendUint64(f, h>>1)
				f = append(f, g[a+b:a+b+int(m)]...)
				got, err := kd.DecodeAll(f, nil)
				if err != nil || !bytes.Equal(got, p) {
					t.Fatalf("group %d (%d bytes): klauspost decoded %d bytes, %v", i, len(p), len(got), err)
				}
				frames = append(frames, f...)
				want = append(want, p...)
			}
			if len(tc.dict) > 0 && e.SeqCoded() == 0 {
				t.Fatal("the encoder coded no group itself: seqenc.go not tested")
			}
			if zstdBin == "" {
				t.Skip("zstd command not installed: libzstd not checked")
			}
			dir := t.TempDir()
			args := []string{"-q", "-d", "-c"}
			if len(tc.dict) > 0 {
				dictPath := filepath.Join(dir, "dict")
				if err := os.WriteFile(dictPath, tc.dict, 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-D", dictPath)
			}
			framesPath := filepath.Join(dir, "frames.zst")
			if err := os.WriteFile(framesPath, frames, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := exec.Command(zstdBin, append(args, framesPath)...).Output()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("libzstd decoded %d bytes, want %d equal bytes: %v", len(got), len(want), err)
			}
			t.Logf("%d bytes of frames checked", len(frames))
		})
	}
}

// Ensure that a long run of one byte, whose matches are longer than the
// PyPI dictionary's match-length codes reach, costs the encoder linear
// time: after a match it could not code, it went on one byte at a time
// and extended each try backwards to the anchor again (0.5 CPU-s for a
// 30 KB run, so kvbuild spent minutes on a file of such values). It must
// still decode, and stay as small as the zstd encoder makes it.
func TestSeqEnc_LongRunNotQuadratic(t *testing.T) {
	if raceEnabled {
		t.Skip("timed: not under the race detector")
	}
	e := mustEncoder(t, treelessDict(t), nil)
	d := mustDecoder(t, treelessDict(t), nil)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, v := range [][]byte{
		bytes.Repeat([]byte{'z'}, 30_000),
		append(randBytes(3, 100), bytes.Repeat([]byte{0}, 30_000)...),
	} {
		p := zrec.AppendRecord(nil, v)
		cpu0 := threadCPU()
		g := e.AppendGroup(nil, p)
		cpu := time.Duration(threadCPU() - cpu0)
		if got, _, err := d.AppendPayload(nil, g); err != nil || !bytes.Equal(got, p) {
			t.Fatalf("a %d-byte run: %v", len(v), err)
		}
		t.Logf("a %d-byte run: %d bytes, %v CPU", len(v), len(g), cpu)
		if cpu > 100*time.Millisecond || len(g) > 200 {
			t.Errorf("a %d-byte run: %d bytes in %v CPU, want under 200 bytes and 100 ms", len(v), len(g), cpu)
		}
	}
}
