package zrec_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/kvdict/kvdict/internal/zrec"
)

// fullPyPI is the whole PyPI table of the environment, when present.
const fullPyPI = "/work/.library/env/packages/pypi.tsv"

// skipIfFastOff skips a test of the fast decoder when KVDICT_ZDEC=off
// turns it off.
func skipIfFastOff(t testing.TB) {
	if os.Getenv("KVDICT_ZDEC") == "off" {
		t.Skip("KVDICT_ZDEC=off")
	}
}

// checkSame decodes one frame body with both decoders and fails unless
// both give the same bytes. It returns whether the fast decoder took it.
func checkSame(t testing.TB, d *zrec.Decoder, body []byte, n int, what string) bool {
	t.Helper()
	want, errK := zrec.DecodeKlauspost(d, body, n)
	got, errF := zrec.DecodeFast(d, body, n)
	if errK != nil {
		t.Fatalf("%s: klauspost: %v", what, errK)
	}
	if errF != nil {
		if !errors.Is(errF, zrec.ErrCorrupt) {
			t.Fatalf("%s: fast decoder error %v does not wrap ErrCorrupt", what, errF)
		}
		return false
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: fast decoder gives %d bytes differing from klauspost's %d", what, len(got), len(want))
	}
	return true
}

// Ensure that the fast decoder decodes every group the Encoder writes from
// PyPI rows, byte for byte as klauspost does: the sample always, and every
// row of the full table when it is there (not with -short or -race).
func TestFastDecoder_PyPIGroups(t *testing.T) {
	skipIfFastOff(t)
	lines := pypiLines()
	if !testing.Short() && !raceEnabled {
		if f, err := os.Open(fullPyPI); err == nil {
			lines = nil
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				lines = append(lines, append([]byte(nil), sc.Bytes()...))
			}
			f.Close()
		}
	}
	dict := trainedDict()
	e := mustEncoder(t, dict, nil)
	d := mustDecoder(t, dict, nil)
	if !zrec.FastOK(d) {
		t.Fatal("the fast decoder does not take the trained dictionary")
	}
	for _, per := range []int{8, 16} {
		compressed, fast := 0, 0
		var g []byte
		for i, p := range groupsOf(lines, per) {
			g = e.AppendGroup(g[:0], p)
			body, n, ok := zrec.GroupBody(g, true)
			if !ok {
				continue
			}
			compressed++
			if checkSame(t, d, body, n, fmt.Sprintf("records=%d group %d", per, i)) {
				fast++
			}
		}
		t.Logf("records=%d: %d rows, %d compressed groups, %d by the fast decoder", per, len(lines), compressed, fast)
		if compressed == 0 || fast != compressed {
			t.Fatalf("records=%d: the fast decoder took %d of %d groups", per, fast, compressed)
		}
	}
}

// Ensure that the fast decoder agrees with klauspost on frames klauspost's
// own encoder writes at every level, with and without the dictionary:
// Huffman literals with their own trees in one and four streams, FSE,
// RLE and predefined sequence tables, raw and RLE blocks, multi-block
// frames (5 MB), incompressible, empty and repetitive payloads.
func TestFastDecoder_KlauspostFrames(t *testing.T) {
	skipIfFastOff(t)
	dict := trainedDict()
	rows := bytes.Join(pypiLines()[:3000], []byte("\n"))
	payloads := map[string][]byte{
		"empty":       {},
		"one":         []byte("x"),
		"rows-small":  rows[:700],
		"rows-8k":     rows[:8<<10],
		"rows-200k":   rows[:200<<10],
		"random-1k":   randBytes(1, 1<<10),
		"random-300k": randBytes(2, 300<<10),
		"zeros-1m":    make([]byte, 1<<20),
		"ab":          bytes.Repeat([]byte("ab"), 5000),
		"mixed-5m":    append(bytes.Repeat(rows[:100<<10], 40), randBytes(3, 1<<20)...),
	}
	levels := []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression}
	for _, withDict := range []bool{false, true} {
		var dd []byte
		if withDict {
			dd = dict
		}
		d := mustDecoder(t, dd, &zrec.DecoderOptions{MaxPayload: 8 << 20})
		for _, lvl := range levels {
			opts := []zstd.EOption{zstd.WithEncoderLevel(lvl), zstd.WithSingleSegment(true), zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1)}
			if withDict {
				opts = append(opts, zstd.WithEncoderDict(dd))
			}
			enc, err := zstd.NewWriter(nil, opts...)
			if err != nil {
				t.Fatal(err)
			}
			for name, p := range payloads {
				if testing.Short() && len(p) > 1<<20 {
					continue
				}
				what := fmt.Sprintf("dict=%v/level=%v/%s", withDict, lvl, name)
				body, ok := zrec.FrameBody(enc.EncodeAll(p, nil), len(p))
				if !ok {
					t.Fatalf("%s: not a single-segment frame", what)
				}
				if !checkSame(t, d, body, len(p), what) {
					_, err := zrec.DecodeFast(d, body, len(p))
					t.Fatalf("%s: fast decoder refused a valid frame: %v", what, err)
				}
			}
			enc.Close()
		}
	}
}
