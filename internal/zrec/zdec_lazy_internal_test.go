package zrec

import (
	"bytes"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Ensure that a treeless block with fewer than eight literals, which the
// lazy literals (sequences, zdec.go) decode one symbol at a time from the
// first sequence on, decodes as klauspost decodes it, lazily or not. Such
// few literals are written raw (by klauspost and by the Encoder); recode
// rewrites them treeless with the golden dictionary's tree (which codes
// every byte).
func TestLazyLiterals_Few(t *testing.T) {
	dict, err := os.ReadFile("testdata/golden-treeless.dict")
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(dict, &DecoderOptions{NoChecksum: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	zd, err := parseZdict(dict)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDict(dict), zstd.WithSingleSegment(true), zstd.WithEncoderCRC(false), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	r := newLitRecoder(dict)
	tested := 0
	for k := 1; k < 8; k++ {
		for _, n := range []int{k + 3, 40, 200} {
			// k distinct bytes, then repeats of them (offset k).
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(0x80 + 13*(i%k))
			}
			body, ok := frameBody(enc.EncodeAll(p, nil), n)
			if !ok {
				t.Fatalf("%d bytes: not a single-segment frame", n)
			}
			// Neither recode nor huff0 codes so few literals treeless
			// (raw is smaller): code them here with the tree.
			raw, seqs, err := r.get().blockLiterals(body)
			if err != nil {
				continue // RLE literals
			}
			coded := huffCode(zd.huff, raw)
			hdr, _ := appendTreelessHeader(nil, len(raw), len(coded), false)
			size := len(hdr) + len(coded) + len(seqs)
			bh := uint32(size)<<3 | blockCompressed<<1 | 1
			body = append([]byte{byte(bh), byte(bh >> 8), byte(bh >> 16)}, hdr...)
			body = append(append(body, coded...), seqs...)
			z := newZstate()
			z.curH = zd.huff
			lits, lazy, _, err := z.literals(body[3:], maxBlockSize)
			if err != nil || lazy == nil {
				t.Fatalf("%d bytes: %d literals, lazy %v, %v", n, len(lits), lazy != nil, err)
			}
			if len(lits) >= 8 {
				continue
			}
			got, errL := newZstate().decodeFrame(zd, body, n)
			ez := newZstate()
			ez.eager = true
			eager, errE := ez.decodeFrame(zd, body, n)
			if errL != nil || errE != nil || !bytes.Equal(got, p) || !bytes.Equal(eager, p) {
				t.Fatalf("%d literals, %d bytes: lazy %v, eager %v, or wrong bytes", len(lits), n, errL, errE)
			}
			want, err := d.decodeZstd(d.getScratch(), make([]byte, 0, n), body, n)
			if err != nil || !bytes.Equal(want, p) {
				t.Fatalf("%d literals, %d bytes: klauspost: %v", len(lits), n, err)
			}
			// Damaged: lazy and eager must refuse alike.
			for bit := range 8 * len(body) {
				body[bit/8] ^= 1 << (bit % 8)
				gotL, errL := newZstate().decodeFrame(zd, body, n)
				gotE, errE := ez.decodeFrame(zd, body, n)
				if (errL == nil) != (errE == nil) || !bytes.Equal(gotL, gotE) {
					t.Fatalf("%d literals, %d bytes, bit %d flipped: lazy %v, eager %v", len(lits), n, bit, errL, errE)
				}
				body[bit/8] ^= 1 << (bit % 8)
			}
			tested++
		}
	}
	t.Logf("%d treeless blocks of under 8 literals", tested)
	if tested < 10 {
		t.Fatalf("only %d treeless blocks of under 8 literals", tested)
	}
}

// huffCode codes lits as one Huffman stream with t (the backward bitstream
// decode1 reads: the first literal's code in the highest bits, then an
// end mark).
func huffCode(t *huffTable, lits []byte) []byte {
	mb := uint(t.maxBits)
	var out []byte
	var acc uint64
	var nacc uint
	put := func(v uint64, nb uint) {
		acc |= v << nacc
		nacc += nb
		for nacc >= 8 {
			out = append(out, byte(acc))
			acc >>= 8
			nacc -= 8
		}
	}
	for i := len(lits) - 1; i >= 0; i-- {
		for idx, e := range t.dt[:1<<mb] {
			if byte(e>>8) == lits[i] {
				l := uint(e & 0xff)
				put(uint64(idx)>>(mb-l), l)
				break
			}
		}
	}
	put(1, 1)
	if nacc > 0 {
		out = append(out, byte(acc))
	}
	return out
}
