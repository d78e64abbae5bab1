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
