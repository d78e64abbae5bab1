package zrec_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
)

// seqShapes returns group payloads that reach every corner of the
// encoder's own block coding (seqenc.go): PyPI rows, literal runs over 64
// and over 1024 bytes (four Huffman streams), long matches (match length
// codes with extra bits), overlapping matches (offsets shorter than the
// match), repeat offsets, groups near seqMaxPayload and bytes the sample
// never had.
func seqShapes() [][]byte {
	rows := pypiLines()[30000:31600]
	payloads := groupsOf(rows, 8)
	letters := randBytes(21, 3000)
	for i := range letters {
		letters[i] = 'a' + letters[i]%26
	}
	var long, rep, odd, big []byte
	for i := range 40 {
		long = append(long, rows[i]...)
		long = append(long, letters[i*50:i*50+70]...) // 70 fresh bytes between known rows
	}
	for i := range 30 {
		rep = fmt.Appendf(rep, "field-%d=alpha;field-%d=beta;field-%d=alpha;", i, i+1, i)
	}
	for _, r := range rows[40:48] {
		odd = append(append(odd, r...), 0x00, 0x01, 0xfe, 0xff, 0x80)
	}
	for len(big) < 30<<10 {
		big = append(big, rows[len(big)%1000]...)
		big = append(big, '\n')
	}
	for _, v := range [][]byte{
		letters[:1500],                         // literals only, four streams
		letters[:100],                          // literals only, one stream
		long,                                   // long literal runs between matches
		bytes.Repeat([]byte("ab"), 2000),       // overlapping match, long length
		bytes.Repeat([]byte("abcdefgh"), 1000), // longer period
		rep,                                    // repeat offsets
		odd,                                    // bytes no sample had
		big,                                    // near seqMaxPayload
		append(bytes.Repeat([]byte{0}, 5000), letters[:200]...),
	} {
		payloads = append(payloads, zrec.AppendRecord(nil, v))
	}
	return payloads
}

// Ensure that the groups the encoder codes itself decode to their payloads
// with klauspost's decoder and with libzstd (the zstd command), and that it
// codes nearly every group.
func TestSeqEnc_RoundTrip(t *testing.T) {
	dict := treelessDict(t)
	e := mustEncoder(t, dict, nil)
	d := mustDecoder(t, dict, nil)
	payloads := seqShapes()
	var frames, want []byte
	compressed := 0
	for i, p := range payloads {
		g := e.AppendGroup(nil, p)
		got, _, err := d.AppendPayload(nil, g)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("group %d: decoded %d bytes, %v; want the %d-byte payload", i, len(got), err, len(p))
		}
		h, a := binary.Uvarint(g)
		if h&1 != 0 {
			continue // stored raw
		}
		m, b := binary.Uvarint(g[a:])
		frames = append(frames, 0x28, 0xb5, 0x2f, 0xfd, 0xe3, 1, 0, 0, 0)
		frames = binary.LittleEndian.AppendUint64(frames, h>>1)
		frames = append(frames, g[a+b:a+b+int(m)]...)
		want = append(want, p...)
		compressed++
	}
	groups, _ := e.Stats()
	if n := e.SeqCoded(); n < groups*9/10 {
		t.Errorf("the encoder coded %d of %d groups itself, want at least 90%%", n, groups)
	}
	if compressed < len(payloads)*9/10 {
		t.Errorf("only %d of %d groups compressed", compressed, len(payloads))
	}
	zstdBin, err := exec.LookPath("zstd")
	if err != nil {
		t.Skip("zstd command not installed (apt-get install zstd): libzstd not checked")
	}
	dir := t.TempDir()
	dictPath, framesPath := filepath.Join(dir, "dict"), filepath.Join(dir, "frames.zst")
	if err := os.WriteFile(dictPath, dict, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(framesPath, frames, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(zstdBin, "-q", "-d", "-c", "-D", dictPath, framesPath).Output()
	if err != nil {
		t.Fatalf("zstd -d: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("libzstd decoded %d bytes from %d groups, want %d equal bytes", len(got), compressed, len(want))
	}
}

// Ensure that the encoder's own blocks are no bigger than the zstd
// encoder's: the whole sample's groups take at most 1% more.
func TestSeqEnc_Size(t *testing.T) {
	dict := treelessDict(t)
	var sizes [2]int
	for i, seq := range []bool{true, false} {
		e := mustEncoder(t, dict, nil)
		if !seq {
			zrec.DisableSeq(e)
		}
		for _, p := range groupsOf(pypiLines()[20000:], 8) {
			sizes[i] += len(e.AppendGroup(nil, p))
		}
	}
	t.Logf("own blocks %d bytes, zstd encoder's %d (%.3f)", sizes[0], sizes[1], float64(sizes[0])/float64(sizes[1]))
	if sizes[0] > sizes[1]*101/100 {
		t.Fatalf("own blocks take %d bytes, the zstd encoder's %d", sizes[0], sizes[1])
	}
}

// Ensure that a damaged dictionary (a base dictionary read back from disk
// may be) never makes the encoder panic or write a group that decodes,
// with the same dictionary, to other bytes: each flipped byte of the
// entropy tables and repeat offsets either fails NewEncoder or NewDecoder,
// or round-trips.
func TestSeqEnc_DamagedDictionary(t *testing.T) {
	dict := treelessDict(t)
	payloads := groupsOf(pypiLines()[30000:30400], 8)
	tables := min(len(dict), 600) // the Huffman tree, FSE tables and repeat offsets come first
	coded := 0
	for i := 8; i < tables; i += 3 {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			d := append([]byte(nil), dict...)
			d[i] ^= x
			// No checksum: it would turn a wrong decode into an error.
			e, err := zrec.NewEncoder(d, &zrec.EncoderOptions{NoChecksum: true})
			if err != nil {
				continue
			}
			dec, err := zrec.NewDecoder(d, &zrec.DecoderOptions{NoChecksum: true})
			if err != nil {
				e.Close()
				continue
			}
			for _, p := range payloads {
				got, _, err := dec.AppendPayload(nil, e.AppendGroup(nil, p))
				if err == nil && !bytes.Equal(got, p) {
					t.Fatalf("byte %d ^ %#x: a group decodes to other bytes without an error", i, x)
				}
			}
			if e.SeqCoded() > 0 {
				coded++
			}
			e.Close()
			dec.Close()
		}
	}
	if coded == 0 {
		t.Fatal("no damaged dictionary reached the encoder's own block coding")
	}
}
