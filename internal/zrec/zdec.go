package zrec

import "encoding/binary"

// The fast decoder: our own zstd block decoder for the frames zrec writes.
//
// klauspost/compress decodes a small group in its Go sequence loop (its
// assembly loop is off whenever a dictionary is used) after a per-frame
// setup. A group is one small single-segment frame whose tables mostly
// come from the dictionary (treeless literals, "repeat" sequence tables),
// so a decoder that parses the dictionary once (parseZdict) and then runs
// a plain loop over the frame's blocks, with no allocation, does the same
// work with less overhead: 1.9 µs of CPU for a group of 8 PyPI rows (272
// literals, 56 sequences) against klauspost's 2.7, 0.4 against 0.66 for
// one row (docs/BENCHMARKS.md §6, "Our own group decoder"). What remains
// is the entropy decoding itself, chains of dependent table loads.
//
// It decodes what RFC 8878 calls a frame's blocks (section 3.1.1.2): raw,
// RLE and compressed blocks; raw, RLE, Huffman-compressed (with a tree)
// and treeless literals in one or four streams; sequences with predefined,
// RLE, FSE-compressed and repeat tables; repeat offsets starting from the
// dictionary's; matches reaching into the dictionary content. Frame-level
// fields are implied by the group format (doc.go), so there is no frame
// header to parse. Every length and offset is checked before it is used:
// damaged data gives an error wrapping ErrCorrupt, never a panic, a read
// outside the input or a write outside the n-byte output. The Decoder
// then retries the group with klauspost (decoder.go), so the result of a
// damaged group is klauspost's verdict, and the fast path only ever has to
// agree with it on groups it accepts (FuzzFastDecoder checks this).

// Frame-level limits, as the reference decoders apply them, and the
// values this file adds to those of treeless.go (litRaw, blockRaw, ...).
const (
	minWindowSize  = 1 << 10   // a single-segment frame's window floor
	maxBlockOutput = 1<<21 - 1 // klauspost's limit on a block's output
	blockRLE       = 1         // Block_Type: RLE
	modePredefined = 0         // Symbol compression modes (3.1.1.3.2.1)
	modeRLE        = 1
	modeFSE        = 2
)

// zstate is one goroutine's working state for the fast decoder: storage
// for the tables a frame brings itself and the literals buffer. It lives
// in the Decoder's scratch pool.
type zstate struct {
	huff  huffTable
	seq   [3]seqTable
	store [3][1 << maxLLLog]seqEntry
	ftmp  [1 << maxLLLog]fseEntry
	wtmp  [1 << 6]fseEntry
	norm  [256]int16
	lits  []byte
	seqs  []seqVal // sequences of a block, decoded before they are executed
	// eager turns the lazy literals off (sequences): for tests, which
	// check that both ways decode and refuse the same frames.
	eager bool

	// Per frame.
	dict   *zdict
	hist   []byte // histOf's content, then the frame's output (decodeFrame)
	histOf *zdict
	curH   *huffTable
	cur    [3]*seqTable
	rep    [3]int
	window int
}

// newZstate returns an empty zstate.
func newZstate() *zstate {
	z := new(zstate)
	for k := range z.seq {
		z.seq[k].e = z.store[k][:]
	}
	return z
}

// decodeFrame decodes body, the blocks of a frame (doc.go: the header is
// implied), whose content size is n, and returns the content. It aliases
// z's history buffer, which holds the dictionary content followed by the
// frame's output, so that a match never needs to know where its bytes
// come from; the result is valid until z is used again.
func (z *zstate) decodeFrame(zd *zdict, body []byte, n int) ([]byte, error) {
	base := len(zd.content)
	if need := base + n + wildSlack; z.histOf != zd || cap(z.hist) < need {
		z.hist = make([]byte, need, max(need, base+4<<10+wildSlack))
		copy(z.hist, zd.content)
		z.histOf = zd
	}
	out := z.hist[:base+n]
	z.dict = zd
	z.curH = zd.huff
	z.cur = [3]*seqTable{}
	if zd.hasSeq {
		z.cur = [3]*seqTable{&zd.seq[0], &zd.seq[1], &zd.seq[2]}
	}
	z.rep = zd.rep
	z.window = max(n, minWindowSize)
	blockMax := min(maxBlockSize, z.window)
	n += base
	op, p := base, 0
	for {
		if len(body)-p < 3 {
			return nil, corruptf("zstd block header truncated at %d", p)
		}
		bh := uint32(body[p]) | uint32(body[p+1])<<8 | uint32(body[p+2])<<16
		p += 3
		size := int(bh >> 3)
		switch bh >> 1 & 3 {
		case blockRaw:
			if size > blockMax || size > len(body)-p || size > n-op {
				return nil, corruptf("raw block of %d bytes does not fit", size)
			}
			copy(out[op:], body[p:p+size])
			p += size
			op += size
		case blockRLE:
			if size > blockMax || len(body)-p < 1 || size > n-op {
				return nil, corruptf("RLE block of %d bytes does not fit", size)
			}
			b := body[p]
			for i := range out[op : op+size] {
				out[op+i] = b
			}
			p++
			op += size
		case blockCompressed:
			if size > blockMax || size > len(body)-p {
				return nil, corruptf("compressed block of %d bytes does not fit", size)
			}
			var err error
			if op, err = z.block(out, op, body[p:p+size], blockMax); err != nil {
				return nil, err
			}
			p += size
		default:
			return nil, corruptf("reserved block type")
		}
		if bh&1 != 0 {
			break
		}
	}
	if p != len(body) {
		return nil, corruptf("%d bytes after the last block", len(body)-p)
	}
	if op != n {
		return nil, corruptf("frame decoded to %d bytes, want %d", op-base, n-base)
	}
	return out[base:], nil
}

// block decodes one compressed block src, appending to out[:op]; it
// returns the new output length.
func (z *zstate) block(out []byte, op int, src []byte, blockMax int) (int, error) {
	lits, lazy, k, err := z.literals(src, blockMax)
	if err != nil {
		return op, err
	}
	src = src[k:]
	if len(src) == 0 {
		return op, corruptf("sequences section missing")
	}
	// Number_of_Sequences (RFC 8878 3.1.1.3.2.1).
	nseq, p := int(src[0]), 1
	switch {
	case nseq == 0:
		if len(src) != 1 {
			return op, corruptf("data after an empty sequences section")
		}
		if lazy != nil {
			if err := z.curH.decode1(lits, lazy); err != nil {
				return op, err
			}
		}
		if len(lits) > len(out)-op {
			return op, corruptf("literals overrun the frame")
		}
		return op + copy(out[op:], lits), nil
	case nseq < 128:
	case nseq < 255:
		if len(src) < 2 {
			return op, corruptf("sequences header truncated")
		}
		nseq, p = (nseq-128)<<8|int(src[1]), 2
	default:
		if len(src) < 3 {
			return op, corruptf("sequences header truncated")
		}
		nseq, p = int(src[1])|int(src[2])<<8+0x7f00, 3
	}
	if p >= len(src) {
		return op, corruptf("symbol compression modes missing")
	}
	modes := src[p]
	p++
	if modes&3 != 0 {
		return op, corruptf("reserved bits in symbol compression modes")
	}
	for i, k := range [3]seqKind{kindLL, kindOF, kindML} {
		mode := modes >> (6 - 2*i) & 3
		n, err := z.seqTable(k, mode, src[p:])
		if err != nil {
			return op, err
		}
		p += n
	}
	return z.sequences(out, op, lits, lazy, src[p:], nseq)
}

// literals decodes the literals section at the start of src and returns
// the literals (aliasing src or z.lits) and the section's length. One
// Huffman stream coded with a two-symbol table (the dictionary's: every
// treeless group) is left to the sequences to decode as they consume it
// (see sequences): then lits is z.lits sized for the literals but not yet
// filled, and lazy is the stream.
func (z *zstate) literals(src []byte, blockMax int) (lits, lazy []byte, k int, err error) {
	if len(src) == 0 {
		return nil, nil, 0, corruptf("literals section missing")
	}
	b0 := src[0]
	typ := b0 & 3
	sf := b0 >> 2 & 3
	var regen, comp, hl int
	if typ == litRaw || typ == litRLE {
		switch sf {
		case 0, 2:
			regen, hl = int(b0>>3), 1
		case 1:
			if len(src) < 2 {
				return nil, nil, 0, corruptf("literals header truncated")
			}
			regen, hl = int(b0>>4)|int(src[1])<<4, 2
		default:
			if len(src) < 3 {
				return nil, nil, 0, corruptf("literals header truncated")
			}
			regen, hl = int(b0>>4)|int(src[1])<<4|int(src[2])<<12, 3
		}
		if regen > blockMax {
			return nil, nil, 0, corruptf("%d literals in a block", regen)
		}
		if typ == litRaw {
			if regen > len(src)-hl {
				return nil, nil, 0, corruptf("raw literals truncated")
			}
			return src[hl : hl+regen], nil, hl + regen, nil
		}
		if len(src) < hl+1 {
			return nil, nil, 0, corruptf("RLE literals truncated")
		}
		lits := z.litBuf(regen)
		for i := range lits {
			lits[i] = src[hl]
		}
		return lits, nil, hl + 1, nil
	}
	switch sf {
	case 0, 1:
		if len(src) < 3 {
			return nil, nil, 0, corruptf("literals header truncated")
		}
		v := uint32(b0) | uint32(src[1])<<8 | uint32(src[2])<<16
		regen, comp, hl = int(v>>4&0x3ff), int(v>>14&0x3ff), 3
	case 2:
		if len(src) < 4 {
			return nil, nil, 0, corruptf("literals header truncated")
		}
		v := binary.LittleEndian.Uint32(src)
		regen, comp, hl = int(v>>4&0x3fff), int(v>>18&0x3fff), 4
	default:
		if len(src) < 5 {
			return nil, nil, 0, corruptf("literals header truncated")
		}
		v := uint64(binary.LittleEndian.Uint32(src)) | uint64(src[4])<<32
		regen, comp, hl = int(v>>4&0x3ffff), int(v>>22&0x3ffff), 5
	}
	if regen > blockMax || comp > len(src)-hl {
		return nil, nil, 0, corruptf("Huffman literals (%d from %d bytes) do not fit", regen, comp)
	}
	data := src[hl : hl+comp]
	if typ == litCompressed {
		n, err := readHuffTree(data, &z.huff, &z.wtmp)
		if err != nil {
			return nil, nil, 0, err
		}
		data = data[n:]
		z.curH = &z.huff
	} else if z.curH == nil {
		return nil, nil, 0, corruptf("treeless literals without a previous tree")
	}
	lits = z.litBuf(regen)
	if sf == 0 && z.curH.has2 && !z.eager {
		return lits, data, hl + comp, nil
	}
	if sf == 0 {
		err = z.curH.decode1(lits, data)
	} else {
		err = z.curH.decode4(lits, data)
	}
	if err != nil {
		return nil, nil, 0, err
	}
	return lits, nil, hl + comp, nil
}

// litBuf returns z.lits resized to n bytes.
func (z *zstate) litBuf(n int) []byte {
	if cap(z.lits) < n+wildSlack {
		z.lits = make([]byte, n, max(n+wildSlack, 4<<10))
	}
	return z.lits[:n]
}

// seqTable sets the current table of kind k for a block from its mode and
// the table description at the start of src; it returns the bytes used.
func (z *zstate) seqTable(k seqKind, mode byte, src []byte) (int, error) {
	switch mode {
	case modePredefined:
		z.cur[k] = &predefined[k]
		return 0, nil
	case modeRLE:
		if len(src) < 1 {
			return 0, corruptf("RLE sequence symbol missing")
		}
		if int(src[0]) > k.maxSymbol() {
			return 0, corruptf("RLE sequence symbol %d over %d", src[0], k.maxSymbol())
		}
		t := &z.seq[k]
		t.e = z.store[k][:]
		rleSeqTable(t, k, src[0])
		z.cur[k] = t
		return 1, nil
	case modeFSE:
		log, n, err := readNCount(src, &z.norm, k.maxSymbol(), k.maxLog())
		if err != nil {
			return 0, err
		}
		t := &z.seq[k]
		t.e = z.store[k][:]
		if err := buildSeqTable(t, k, z.norm[:k.maxSymbol()+1], log, z.ftmp[:]); err != nil {
			return 0, err
		}
		z.cur[k] = t
		return n, nil
	default:
		if z.cur[k] == nil {
			return 0, corruptf("repeat sequence table without a previous table")
		}
		return 0, nil
	}
}

// wildSlack is how far past a copy's end the fast copies of sequences
// may read or write: they move 8 bytes at a time, so a copy of k bytes
// touches up to k+7 (copies of up to 16 bytes always move 16). They are
// used only where that many bytes exist in the source's and the output's
// capacity (spare capacity of out beyond the frame's n bytes is scratch
// the caller gave up: append semantics).
const wildSlack = 16

// copy8 copies 8-byte words from src[s:] to dst[d:] until k bytes are
// done (it may move up to 7 more). The caller ensures both ranges, with
// the overshoot, are in bounds, and that a copy within one buffer has
// d - s >= 8 (so every word read is already final).
func copy8(dst []byte, d int, src []byte, s int, k int) {
	for j := 0; j < k; j += 8 {
		binary.LittleEndian.PutUint64(dst[d+j:], binary.LittleEndian.Uint64(src[s+j:]))
	}
}

// copy16 is copy8 of 16 bytes, for the short copies of a sequence: two
// words whatever the length, so no loop exit for the CPU to mispredict.
// The same conditions hold (the second word is read after the first is
// written).
func copy16(dst []byte, d int, src []byte, s int) {
	binary.LittleEndian.PutUint64(dst[d:], binary.LittleEndian.Uint64(src[s:]))
	binary.LittleEndian.PutUint64(dst[d+8:], binary.LittleEndian.Uint64(src[s+8:]))
}

// seqVal is one decoded sequence: literals length, match length, offset
// (each checked against the frame first, so far under 2^31).
type seqVal struct{ ll, ml, off int32 }

// maxKeptSeqs bounds the sequences buffer a zstate keeps (12 KiB): a
// group of 8 rows has ~60 sequences, and a rare large frame must not pin
// a large buffer in the Decoder's pool.
const maxKeptSeqs = 1024

// sequences decodes and executes nseq sequences from the backward stream
// src over lits, appending to out[:op]; then the remaining literals. See
// decode1 (zdec_huff.go) on the masked shift counts: they are safe here
// too, since a state is always next + at most nb bits (below the table
// size) and an overread stream fails the final check.
//
// It runs in two passes. The first decodes the sequences into z.seqs
// and checks each against the frame (literals left, output room, offset
// within the history); the second copies. The first pass is then two
// chains of dependent table loads and bit arithmetic, with no stores to
// wait on, and the copies, whose loads often wait on the stores just
// before them, no longer hold it up.
//
// With lazy set (see literals), lits is still to be decoded from the
// Huffman stream lazy with z.curH's two-symbol table: the first pass
// also decodes it, one step of four lookups (4 to 8 literals) per
// sequence, and what is left after the last sequence. Decoding every
// literal first made the two chains (Huffman, then FSE) run one after the
// other; here they are independent instructions of the same loop, which
// the CPU overlaps. The lookups are those of decode1 in the same order,
// so the same literals come out, and the stream must still end exactly at
// its last bit.
func (z *zstate) sequences(out []byte, op int, lits, lazy, src []byte, nseq int) (int, error) {
	llT, ofT, mlT := z.cur[kindLL], z.cur[kindOF], z.cur[kindML]
	var br backReader
	if err := br.init(src); err != nil {
		return op, err
	}
	nlit := len(lits)
	litc := lits[:cap(lits)]
	ld := nlit // literals decoded so far
	var hr backReader
	ht := z.curH
	var hs uint
	var dt2 *[1 << maxHuffBits]uint32
	if lazy != nil {
		if err := hr.init(lazy); err != nil {
			return op, err
		}
		ld = 0
		hs = (64 - uint(ht.maxBits)) & 63
		dt2 = &ht.dt2
	}
	hin, hp, hc, hused := hr.in, hr.p, hr.c, hr.used
	// Every sequence writes at least 3 bytes (the smallest match): a
	// count beyond that is damage, refused before it sizes anything.
	if nseq > (len(out)-op)/3 {
		return op, corruptf("%d sequences for %d bytes", nseq, len(out)-op)
	}
	seqs := z.seqs
	if cap(seqs) < nseq {
		seqs = make([]seqVal, nseq, max(nseq, 256))
		if nseq <= maxKeptSeqs {
			z.seqs = seqs
		}
	}
	seqs = seqs[:nseq]
	llS := int(br.get(llT.log))
	ofS := int(br.get(ofT.log))
	mlS := int(br.get(mlT.log))
	in, p, c, used := br.in, br.p, br.c, br.used
	llE, ofE, mlE := llT.e, ofT.e, mlT.e
	rep0, rep1, rep2 := z.rep[0], z.rep[1], z.rep[2]
	blockStart := op
	n := len(out)
	lp, vop := 0, op // literals used and output length after each sequence
	for i := range seqs {
		if llS >= len(llE) || ofS >= len(ofE) || mlS >= len(mlE) {
			return op, corruptf("FSE state out of range")
		}
		ll, of, ml := llE[llS], ofE[ofS], mlE[mlS]
		// Extra bits: offset, match length, literals length (at most
		// 31 + 16 + 16); then the states (at most 9 + 9 + 8 bits). One
		// refill (used <= 7 after it) covers them all unless they pass
		// 56 bits, which takes long offsets or long lengths.
		p, c, used = refill(in, p, c, used)
		long := uint(of.extra)+uint(ml.extra)+uint(ll.extra)+uint(ll.nb)+uint(ml.nb)+uint(of.nb) > 56
		ofv := int(of.base) + int(c<<(used&63)>>1>>((63-of.extra)&63))
		used += uint(of.extra)
		if long {
			p, c, used = refill(in, p, c, used)
		}
		mlv := int(ml.base) + int(c<<(used&63)>>1>>((63-ml.extra)&63))
		used += uint(ml.extra)
		llv := int(ll.base) + int(c<<(used&63)>>1>>((63-ll.extra)&63))
		used += uint(ll.extra)
		if long {
			p, c, used = refill(in, p, c, used)
		}
		if i < nseq-1 {
			llS = int(ll.next) + int(c<<(used&63)>>1>>((63-ll.nb)&63))
			used += uint(ll.nb)
			mlS = int(ml.next) + int(c<<(used&63)>>1>>((63-ml.nb)&63))
			used += uint(ml.nb)
			ofS = int(of.next) + int(c<<(used&63)>>1>>((63-of.nb)&63))
			used += uint(of.nb)
		}
		// Offset_Value to offset, with the repeat offsets (RFC 8878
		// 3.1.1.5): a new offset (Offset_Value > 3, idx 4) or repeat
		// offset idx (0-2, shifted by one when the literals length is
		// 0; 3 is the first repeat offset minus one, where 0 becomes
		// 1, as both libzstd and klauspost do). Written as selects
		// rather than a switch: which case a sequence takes is data,
		// and a mispredicted branch costs more than computing every
		// candidate.
		idx := ofv - 1
		if llv == 0 {
			idx++
		}
		if ofv > 3 {
			idx = 4
		}
		off := ofv - 3
		dec := max(rep0-1, 1)
		if idx == 0 {
			off = rep0
		}
		if idx == 1 {
			off = rep1
		}
		if idx == 2 {
			off = rep2
		}
		if idx == 3 {
			off = dec
		}
		n1, n2 := rep1, rep2
		if idx >= 1 {
			n1 = rep0
		}
		if idx >= 2 {
			n2 = rep1
		}
		rep0, rep1, rep2 = off, n1, n2
		if llv > nlit-lp {
			return op, corruptf("sequence wants %d literals, %d left", llv, nlit-lp)
		}
		if llv+mlv > n-vop || vop+llv+mlv-blockStart > maxBlockOutput {
			return op, corruptf("sequence overruns the frame")
		}
		if off > vop+llv {
			return op, corruptf("match offset %d beyond the history", off)
		}
		lp += llv
		vop += llv + mlv
		seqs[i] = seqVal{int32(llv), int32(mlv), int32(off)}
		// Lazy literals: one step per sequence while 8 or more remain.
		if nlit-ld >= 8 {
			var j int
			hp, hc, hused, j = huffStep(dt2, hs, litc[ld:ld+8:ld+8], hin, hp, hc, hused)
			ld += j
		}
	}
	if p != 0 || used != 64 {
		return op, corruptf("sequences stream not consumed exactly")
	}
	if lazy != nil {
		if ld < nlit {
			hp, hc, hused = ht.decodeRun(litc[ld:nlit], hin, hp, hc, hused)
		}
		if hp != 0 || hused != 64 {
			return op, corruptf("Huffman stream not consumed exactly")
		}
	}
	// Execute: literals, then the match, for each sequence; all checked
	// above.
	buf := out[:cap(out)]
	lp = 0
	for _, sq := range seqs {
		llv, mlv, off := int(sq.ll), int(sq.ml), int(sq.off)
		if llv <= 16 && lp+16 <= len(litc) && op+16 <= len(buf) {
			copy16(buf, op, litc, lp)
		} else {
			copy(out[op:op+llv], lits[lp:lp+llv])
		}
		lp += llv
		op += llv
		// mlv >= 3 (the smallest Baseline).
		s := op - off
		switch {
		case off >= 8 && mlv <= 16 && op+16 <= len(buf):
			copy16(buf, op, buf, s)
		case off >= 8 && op+mlv+7 < len(buf):
			copy8(buf, op, buf, s, mlv)
		case off >= mlv:
			copy(out[op:op+mlv], out[s:s+mlv])
		default:
			m := out[s : op+mlv]
			for j := range mlv {
				m[off+j] = m[j]
			}
		}
		op += mlv
	}
	rest := lits[lp:]
	if len(rest) > n-op {
		return op, corruptf("literals overrun the frame")
	}
	op += copy(out[op:], rest)
	z.rep = [3]int{rep0, rep1, rep2}
	return op, nil
}
