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

// lower returns n deterministic pseudo-random lowercase letters: text that
// Huffman coding shrinks but that holds no repeats for matches.
func lower(seed uint64, n int) []byte {
	b := randBytes(seed, n)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return b
}

// checkFlips flips every bit of body in turn (every 13th of a body over
// 1 KiB) and checks that the fast
// decoder, lazy and eager, refuses or accepts each damaged body alike,
// with the same bytes, and that what it accepts klauspost decodes the
// same way.
func checkFlips(t *testing.T, d *zrec.Decoder, body []byte, n int, what string) {
	t.Helper()
	bad := append([]byte(nil), body...)
	step := 1
	if len(bad) > 1<<10 {
		step = 13
	}
	fs := zrec.NewFastState()
	for bit := 0; bit < 8*len(bad); bit += step {
		bad[bit/8] ^= 1 << (bit % 8)
		gotL, errL := fs.Decode(d, bad, n, false)
		gotE, errE := fs.Decode(d, bad, n, true)
		switch {
		case (errL == nil) != (errE == nil):
			t.Fatalf("%s, bit %d flipped: lazy literals give error %v, eager %v", what, bit, errL, errE)
		case errL != nil && (!errors.Is(errL, zrec.ErrCorrupt) || !errors.Is(errE, zrec.ErrCorrupt)):
			t.Fatalf("%s, bit %d flipped: errors %v, %v do not wrap ErrCorrupt", what, bit, errL, errE)
		case errL == nil && !bytes.Equal(gotL, gotE):
			t.Fatalf("%s, bit %d flipped: lazy and eager literals decode differently", what, bit)
		case errL == nil:
			want, errK := zrec.DecodeKlauspost(d, bad, n)
			if errK != nil || !bytes.Equal(gotL, want) {
				t.Fatalf("%s, bit %d flipped: the fast decoder accepts what klauspost decodes otherwise (%v)", what, bit, errK)
			}
		}
		bad[bit/8] ^= 1 << (bit % 8)
	}
}

// Ensure that decoding one-stream literals lazily, as the sequences
// consume them (zdec.go), gives what decoding them first gives and what
// klauspost gives, on the shapes where a lazy decoder could slip: a
// sequence with no literals (a match right after a match), literals left
// after the last sequence, a block that ends on a match, a block without
// sequences, and four streams (which stay eager); and that both ways
// refuse the same damaged groups. (The Encoder writes raw literals when
// they are few; TestLazyLiterals_Few crafts treeless ones.)
func TestFastDecoder_LazyLiterals(t *testing.T) {
	skipIfFastOff(t)
	dict := trainedDict()
	e := mustEncoder(t, dict, nil)
	d := mustDecoder(t, dict, nil)
	a, b, c := lower(1, 20), lower(2, 17), lower(3, 23)
	rows := pypiLines()
	content := dict[len(dict)-300 : len(dict)-40] // matches into the dictionary
	type want struct {
		seqs bool // has sequences
		lazy bool // one stream, decoded lazily
		four bool
	}
	cases := []struct {
		name    string
		payload []byte
		want    want
	}{
		// After "a b c", "b a c" matches b, a and c at three distances
		// with no literal between them.
		{"no-literals-between", bytes.Join([][]byte{a, b, c, b, a, c}, nil), want{seqs: true, lazy: true}},
		{"trailing-literals", append(bytes.Join([][]byte{rows[5], rows[6], rows[5]}, nil), lower(4, 40)...), want{seqs: true, lazy: true}},
		{"ends-on-match", bytes.Join([][]byte{rows[7], lower(5, 30), rows[7]}, nil), want{seqs: true, lazy: true}},
		{"dictionary-matches", append(lower(6, 5), content...), want{seqs: true, lazy: true}},
		{"no-sequences", lower(7, 300), want{lazy: false}},
		{"four-streams", bytes.Join(rows[100:160], nil), want{seqs: true, four: true}},
	}
	// Many short literal runs between repeats of a, b and c.
	var mix []byte
	for i := range 30 {
		mix = append(mix, lower(uint64(10+i), 1+i%9)...)
		mix = append(mix, [][]byte{a, b, c}[i%3]...)
	}
	cases = append(cases, struct {
		name    string
		payload []byte
		want    want
	}{"short-runs", mix, want{seqs: true, lazy: true}})
	for _, tc := range cases {
		g := e.AppendGroup(nil, zrec.AppendRecord(nil, tc.payload))
		body, n, ok := zrec.GroupBody(g, true)
		if !ok {
			t.Fatalf("%s: stored raw", tc.name)
		}
		sh, err := zrec.FirstBlockShape(d, body)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		t.Logf("%s: %+v", tc.name, sh)
		if sh.LitType != 3 {
			t.Fatalf("%s: literals type %d, want treeless", tc.name, sh.LitType)
		}
		if (sh.Seqs > 0) != tc.want.seqs || (tc.want.seqs && sh.Lazy != tc.want.lazy) || sh.Four != tc.want.four {
			t.Fatalf("%s: block shape %+v, want %+v", tc.name, sh, tc.want)
		}
		if !checkSame(t, d, body, n, tc.name) {
			t.Fatalf("%s: the fast decoder refused a valid group", tc.name)
		}
		got, err := zrec.DecodeEager(d, body, n)
		want, _ := zrec.DecodeFast(d, body, n)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: eager literals: %v", tc.name, err)
		}
		if !raceEnabled {
			checkFlips(t, d, body, n, tc.name)
		}
	}
	// PyPI groups, the shape the lazy path is for.
	lazy := 0
	for i, p := range groupsOf(rows[20000:], 8)[:40] {
		g := e.AppendGroup(nil, p)
		body, n, ok := zrec.GroupBody(g, true)
		if !ok {
			continue
		}
		if sh, err := zrec.FirstBlockShape(d, body); err == nil && sh.Lazy {
			lazy++
		}
		if !checkSame(t, d, body, n, fmt.Sprintf("pypi group %d", i)) {
			t.Fatalf("pypi group %d: the fast decoder refused it", i)
		}
		if !raceEnabled && i < 8 && (!testing.Short() || i < 2) {
			checkFlips(t, d, body, n, fmt.Sprintf("pypi group %d", i))
		}
	}
	if lazy < 30 {
		t.Fatalf("only %d of 40 PyPI groups decode their literals lazily", lazy)
	}
}
