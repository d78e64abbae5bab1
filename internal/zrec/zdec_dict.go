package zrec

import "encoding/binary"

// zdict is a dictionary parsed once for the fast decoder (zdec.go): the
// tables a frame starts with ("repeat" mode and treeless literals use
// them), the initial repeat offsets and the content that matches may
// reach into (RFC 8878 section 5).
type zdict struct {
	huff    *huffTable // nil: no dictionary, treeless literals are corrupt
	seq     [3]seqTable
	hasSeq  bool
	rep     [3]int
	content []byte
}

// noDict is the state of a frame decoded without a dictionary.
var noDict = &zdict{rep: [3]int{1, 4, 8}}

// parseZdict parses a zstd dictionary (magic and ID already checked by
// checkDict). It fails on anything the fast decoder does not take, in
// which case the Decoder keeps decoding with klauspost alone.
func parseZdict(d []byte) (*zdict, error) {
	if len(d) < 8 {
		return nil, corruptf("dictionary of %d bytes", len(d))
	}
	z := &zdict{huff: new(huffTable)}
	p := 8
	var tmp [1 << 6]fseEntry
	n, err := readHuffTree(d[p:], z.huff, &tmp)
	if err != nil {
		return nil, err
	}
	z.huff.build2()
	p += n
	// Offsets, match lengths, literal lengths, in that order.
	var norm [256]int16
	ftmp := make([]fseEntry, 1<<maxLLLog)
	for _, k := range [3]seqKind{kindOF, kindML, kindLL} {
		log, n, err := readNCount(d[p:], &norm, k.maxSymbol(), k.maxLog())
		if err != nil {
			return nil, err
		}
		p += n
		t := &z.seq[k]
		t.e = make([]seqEntry, 1<<log)
		if err := buildSeqTable(t, k, norm[:k.maxSymbol()+1], log, ftmp); err != nil {
			return nil, err
		}
	}
	z.hasSeq = true
	if len(d)-p < 12 {
		return nil, corruptf("dictionary repeat offsets truncated")
	}
	z.content = d[p+12:]
	for i := range z.rep {
		r := int(binary.LittleEndian.Uint32(d[p+4*i:]))
		if r == 0 || r > len(z.content) {
			return nil, corruptf("dictionary repeat offset %d outside its %d bytes of content", r, len(z.content))
		}
		z.rep[i] = r
	}
	return z, nil
}
