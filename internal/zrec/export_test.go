package zrec

// Hooks for the external tests of the fast decoder (zdec.go).

// FastOK reports whether d decodes with the fast decoder at all (its
// dictionary parsed).
func FastOK(d *Decoder) bool { return d.zd != nil }

// SetFast turns d's fast decoder off (klauspost alone, as before it) or
// back on. Not safe while d is in use.
func SetFast(d *Decoder, on bool, dictionary []byte) {
	d.zd = nil
	if on {
		d.zd = noDict
		if len(dictionary) > 0 {
			d.zd, _ = parseZdict(dictionary)
		}
	}
}

// DecodeFast decodes body, a frame's blocks, to n bytes with the fast
// decoder alone.
func DecodeFast(d *Decoder, body []byte, n int) ([]byte, error) {
	return newZstate().decodeFrame(d.zd, body, n)
}

// DecodeKlauspost decodes body to n bytes with klauspost alone.
func DecodeKlauspost(d *Decoder, body []byte, n int) ([]byte, error) {
	return d.decodeZstd(d.getScratch(), make([]byte, 0, n), body, n)
}

// GroupBody returns the zstd blocks of a compressed group and its payload
// length; ok is false for a raw group.
func GroupBody(src []byte, checksum bool) (body []byte, n int, ok bool) {
	h, err := parseHeader(src, DefaultMaxPayload, checksum)
	if err != nil || h.raw {
		return nil, 0, false
	}
	return src[h.dataOff : h.dataOff+h.m], h.n, true
}

// FrameBody strips the header off a frame written by klauspost's encoder,
// as the Encoder does (ok false if it is not a single-segment frame of n).
func FrameBody(frame []byte, n int) ([]byte, bool) { return frameBody(frame, n) }

// DisableSeq makes e send every group through the zstd encoder, as before
// seqenc.go, for comparisons.
func DisableSeq(e *Encoder) { e.seq = nil }

// DecodeEager is DecodeFast with the lazy literals off: every literals
// section decoded before its sequences, as before zdec.go decoded them
// lazily.
func DecodeEager(d *Decoder, body []byte, n int) ([]byte, error) {
	z := newZstate()
	z.eager = true
	return z.decodeFrame(d.zd, body, n)
}

// BlockShape describes the first block of a frame body as the fast
// decoder sees it.
type BlockShape struct {
	LitType int  // 0 raw, 1 RLE, 2 Huffman with its own tree, 3 treeless
	Four    bool // Huffman literals in four streams
	Lazy    bool // decoded lazily by the sequences (zdec.go)
	Lits    int  // literals in the block
	Seqs    int  // sequences in the block
}

// FirstBlockShape returns the shape of the first block of body, which
// must be a compressed block.
func FirstBlockShape(d *Decoder, body []byte) (BlockShape, error) {
	if len(body) < 4 || body[0]>>1&3 != blockCompressed {
		return BlockShape{}, corruptf("not a compressed block")
	}
	src := body[3:]
	z := newZstate()
	z.curH = d.zd.huff
	lits, lazy, k, err := z.literals(src, maxBlockSize)
	if err != nil {
		return BlockShape{}, err
	}
	sh := BlockShape{LitType: int(src[0] & 3), Lazy: lazy != nil, Lits: len(lits)}
	sh.Four = sh.LitType >= litCompressed && src[0]>>2&3 != 0
	if k >= len(src) {
		return BlockShape{}, corruptf("sequences section missing")
	}
	switch b := int(src[k]); {
	case b < 128:
		sh.Seqs = b
	case b < 255 && k+1 < len(src):
		sh.Seqs = (b-128)<<8 | int(src[k+1])
	case k+2 < len(src):
		sh.Seqs = int(src[k+1]) | int(src[k+2])<<8 + 0x7f00
	}
	return sh, nil
}

// FastState is a reusable fast-decoder state, for tests that decode many
// frames (a fresh state copies the dictionary content).
type FastState struct{ lazy, eager *zstate }

// NewFastState returns a FastState.
func NewFastState() *FastState {
	s := &FastState{lazy: newZstate(), eager: newZstate()}
	s.eager.eager = true
	return s
}

// Decode is DecodeFast (eager false) or DecodeEager (eager true) with s's
// state; the result is valid until s decodes again.
func (s *FastState) Decode(d *Decoder, body []byte, n int, eager bool) ([]byte, error) {
	if eager {
		return s.eager.decodeFrame(d.zd, body, n)
	}
	return s.lazy.decodeFrame(d.zd, body, n)
}
