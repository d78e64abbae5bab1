package zrec

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"

	"github.com/klauspost/compress/huff0"
)

// The Encoder's own block encoder for small groups with a dictionary.
//
// klauspost/compress's zstd encoder spends most of a small group's time
// getting ready for it: per frame it resets its match state to the
// dictionary's (copying the dictionary's hash table and history) and it
// builds FSE tables that the groups then rarely use (docs/BENCHMARKS.md
// §6: ~15-20 µs of CPU per group of 8 values, 3x what a build without
// compression spends per group in all). Groups are small and all share
// one dictionary, so this encoder prepares everything once, in
// newSeqEncoder, and keeps nothing between groups: a hash table of the
// dictionary's content (read-only, shared by every goroutine), the
// dictionary's Huffman tree, its three FSE distributions as encoding
// tables and its repeat offsets.
//
// A group becomes one compressed block (RFC 8878 3.1.1.2) of a standard
// frame, the same shape the treeless rewrite gives (treeless.go):
//
//   - matches are found greedily, against the dictionary's content (through
//     the shared table) and the group's earlier bytes (a small per-call
//     table), with the first repeat offset tried first;
//   - literals are a treeless section coded with the dictionary's tree
//     (or stored raw when that is not smaller);
//   - sequences use Repeat_Mode for literal lengths, offsets and match
//     lengths alike, i.e. the dictionary's distributions, so the block
//     carries no table and a reader builds none.
//
// A group this encoder cannot code so (a symbol the dictionary's
// distributions give no slot, a payload over seqMaxPayload) is left to
// the zstd encoder (encoder.go). The frames decode with any zstd decoder
// given the dictionary: TestSeqEnc_Libzstd checks libzstd's.

// seqMinMatch is the shortest match the encoder codes: shorter ones cost
// about as much as the literals they replace (an offset into a 64 KiB
// dictionary is ~16 extra bits plus three FSE codes).
const seqMinMatch = 6

// skipShift speeds the search up through long literal runs: it steps
// 1 + run>>skipShift bytes after a miss.
const skipShift = 5

// seqMaxPayload is the largest payload the encoder codes itself, so that
// one block holds it and a uint16 table can index it.
const seqMaxPayload = 32 << 10

// dictHashBits sizes the dictionary's hash table: 64 Ki uint16 slots
// (128 KiB), one per byte of a 64 KiB dictionary. 15 bits lost 1.2% of
// pypi's compressed values to collisions, at the same encoding speed.
const dictHashBits = 16

// maxDictIndexed is how much of a dictionary's content (its end) the hash
// table indexes: positions + 1 fit in a uint16.
const maxDictIndexed = 1<<16 - 1

// Limits of the three sequence codes (RFC 8878 3.1.1.3.2.1).
const (
	maxLLCode = 35
	maxMLCode = 52
	maxOFCode = 31
)

// seqEncoder is what a dictionary gives the block encoder; read-only once
// built.
type seqEncoder struct {
	content    []byte
	reps       [3]uint32
	ll, of, ml *fseTable
	tree       []byte   // the dictionary's Huffman tree description
	dictTab    []uint16 // position+1 in content of the last dictionary position with each hash
	pool       sync.Pool
}

// seqScratch is one call's working memory.
type seqScratch struct {
	huff    *huff0.Scratch // holds the dictionary's tree
	tab     []uint16       // group positions+1 by hash
	lits    []byte
	seqs    []seqRec
	litOut  []byte
	outBody []byte
}

// seqRec is one sequence: literal length, match length, Offset_Value,
// and their codes.
type seqRec struct {
	ll, ml, ov    uint32
	llc, mlc, ofc uint8
}

// newSeqEncoder parses dictionary d (a checked zstd dictionary whose tree
// codes every byte) into a seqEncoder, or returns nil when some part of it
// is not usable.
func newSeqEncoder(d []byte) *seqEncoder {
	_, rest, err := huff0.ReadTable(d[8:], nil)
	if err != nil {
		return nil
	}
	e := &seqEncoder{tree: d[8 : len(d)-len(rest)]}
	var norms [3][]int16
	var logs [3]int
	for i, lim := range [3][2]int{{maxOFCode, 8}, {maxMLCode, 9}, {maxLLCode, 9}} {
		norm, log, n, err := readFSETable(rest, lim[0], lim[1])
		if err != nil {
			return nil
		}
		norms[i], logs[i], rest = norm, log, rest[n:]
	}
	if e.of, err = newFSETable(norms[0], logs[0]); err != nil {
		return nil
	}
	if e.ml, err = newFSETable(norms[1], logs[1]); err != nil {
		return nil
	}
	if e.ll, err = newFSETable(norms[2], logs[2]); err != nil {
		return nil
	}
	if len(rest) < 12 {
		return nil
	}
	e.content = rest[12:]
	for i := range 3 {
		r := binary.LittleEndian.Uint32(rest[4*i:])
		if r == 0 || int64(r) > int64(len(e.content)) {
			return nil
		}
		e.reps[i] = r
	}
	if len(e.content) > maxDictIndexed {
		e.content = e.content[len(e.content)-maxDictIndexed:]
	}
	e.dictTab = make([]uint16, 1<<dictHashBits)
	for i := 0; i+8 <= len(e.content); i++ {
		e.dictTab[hash6(load64(e.content, i), dictHashBits)] = uint16(i + 1)
	}
	return e
}

func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }

// hash6 hashes the low 6 bytes of v into nb bits.
func hash6(v uint64, nb uint) uint32 {
	return uint32(((v << 16) * 0xcf1bbcdcb7a56463) >> (64 - nb))
}

func (e *seqEncoder) get() *seqScratch {
	if s, _ := e.pool.Get().(*seqScratch); s != nil {
		return s
	}
	h, _, err := huff0.ReadTable(e.tree, nil)
	if err != nil {
		return nil // cannot happen: newSeqEncoder read the same bytes
	}
	h.Reuse = huff0.ReusePolicyMust
	return &seqScratch{huff: h}
}

// appendBlock appends to dst the blocks of a frame holding payload (the
// frame minus its header, as frameBody returns it) and reports whether it
// could code the group and whether its literals are treeless (else raw).
func (e *seqEncoder) appendBlock(dst, payload []byte) (out []byte, ok, treeless bool) {
	if len(payload) == 0 || len(payload) > seqMaxPayload {
		return dst, false, false
	}
	s := e.get()
	if s == nil {
		return dst, false, false
	}
	defer func() {
		if cap(s.lits) > 1<<20 || cap(s.litOut) > 1<<20 {
			s.lits, s.litOut = nil, nil
		}
		e.pool.Put(s)
	}()
	e.parse(s, payload)
	start := len(dst)
	dst = append(dst, 0, 0, 0) // block header, below
	if dst, ok = s.appendLiterals(dst); !ok {
		return dst[:start], false, false
	}
	treeless = dst[start+3]&3 == litTreeless
	if dst, ok = e.appendSequences(s, dst); !ok {
		return dst[:start], false, false
	}
	size := len(dst) - start - 3
	if size >= maxBlockSize {
		return dst[:start], false, false
	}
	bh := uint32(size)<<3 | blockCompressed<<1 | 1
	dst[start], dst[start+1], dst[start+2] = byte(bh), byte(bh>>8), byte(bh>>16)
	return dst, true, treeless
}

// parse finds the group's sequences (s.seqs) and literals (s.lits).
func (e *seqEncoder) parse(s *seqScratch, p []byte) {
	n := len(p)
	tb := uint(bits.Len(uint(n))) + 1
	tb = min(max(tb, 8), 15)
	if cap(s.tab) < 1<<tb {
		s.tab = make([]uint16, 1<<15)
	}
	tab := s.tab[:1<<tb]
	clear(tab)
	s.lits, s.seqs = s.lits[:0], s.seqs[:0]
	reps := e.reps
	d := e.content
	dl := len(d)
	anchor := 0
	for i := 0; i+8 <= n; {
		v := load64(p, i)
		hd := hash6(v, dictHashBits)
		hg := hd >> (dictHashBits - tb)
		// The first repeat offset, when there are literals before the
		// match (otherwise Offset_Value 1 means another offset).
		bestLen, bestOff := 0, 0
		if i > anchor {
			r := int(reps[0])
			if r <= i {
				if load32(p, i-r) == uint32(v) {
					bestLen = 4 + matchLen(p[i+4:], p[i-r+4:])
				}
			} else if j := dl + i - r; j >= 0 && j+4 <= dl && load32(d, j) == uint32(v) {
				bestLen = 4 + matchLen(p[i+4:], d[j+4:])
			}
			bestOff = r
		}
		if c := int(tab[hg]) - 1; c >= 0 && load32(p, c) == uint32(v) {
			if l := 4 + matchLen(p[i+4:], p[c+4:]); l > bestLen && l >= seqMinMatch {
				bestLen, bestOff = l, i-c
			}
		}
		tab[hg] = uint16(i + 1)
		if c := int(e.dictTab[hd]) - 1; c >= 0 && load32(d, c) == uint32(v) {
			if l := 4 + matchLen(p[i+4:], d[c+4:]); l > bestLen && l >= seqMinMatch {
				bestLen, bestOff = l, dl-c+i
			}
		}
		if bestLen == 0 {
			i += 1 + (i-anchor)>>skipShift
			continue
		}
		// Extend backwards over equal literals.
		i0 := i
		for i > anchor && bestOff < i+dl {
			var b byte
			if j := i - 1 - bestOff; j >= 0 {
				b = p[j]
			} else {
				b = d[dl+j]
			}
			if b != p[i-1] {
				break
			}
			i--
			bestLen++
		}
		ll := i - anchor
		ov, nreps := offsetValue(reps, uint32(bestOff), ll > 0)
		if !e.of.codes(ofCode(ov)) && ov <= 3 {
			// A repeat code the dictionary's distribution lacks: the
			// offset itself may have a code.
			ov, nreps = uint32(bestOff)+3, [3]uint32{uint32(bestOff), reps[0], reps[1]}
		}
		ofc, mlc := ofCode(ov), mlCode(uint32(bestLen))
		if !e.of.codes(ofc) || !e.ml.codes(mlc) {
			// Go on as after a miss: one byte on, each try would extend
			// backwards to the anchor again, quadratic in long runs.
			i = i0 + 1 + (i0-anchor)>>skipShift
			continue
		}
		reps = nreps
		s.lits = append(s.lits, p[anchor:i]...)
		s.seqs = append(s.seqs, seqRec{ll: uint32(ll), ml: uint32(bestLen), ov: ov, llc: llCode(uint32(ll)), mlc: mlc, ofc: ofc})
		// Index a position inside the match, then go on after it.
		if j := i + bestLen - 2; j > i && j+8 <= n {
			tab[hash6(load64(p, j), dictHashBits)>>(dictHashBits-tb)] = uint16(j + 1)
		}
		i += bestLen
		anchor = i
	}
	s.lits = append(s.lits, p[anchor:]...)
}

// matchLen returns how many leading bytes a and b share.
func matchLen(a, b []byte) int {
	n := 0
	for len(a) >= 8 && len(b) >= 8 {
		x := load64(a, 0) ^ load64(b, 0)
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		a, b, n = a[8:], b[8:], n+8
	}
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b, n = a[1:], b[1:], n+1
	}
	return n
}

// offsetValue returns the Offset_Value that codes offset off after a
// literal run that is empty or not (lits), and the repeat offsets after
// it, as the decoder will update them (RFC 8878 3.1.2.5).
func offsetValue(r [3]uint32, off uint32, lits bool) (uint32, [3]uint32) {
	switch {
	case lits && off == r[0]:
		return 1, r
	case off == r[1]:
		if lits {
			return 2, [3]uint32{r[1], r[0], r[2]}
		}
		return 1, [3]uint32{r[1], r[0], r[2]}
	case off == r[2]:
		if lits {
			return 3, [3]uint32{r[2], r[0], r[1]}
		}
		return 2, [3]uint32{r[2], r[0], r[1]}
	case !lits && r[0] > 1 && off == r[0]-1:
		return 3, [3]uint32{off, r[0], r[1]}
	}
	return off + 3, [3]uint32{off, r[0], r[1]}
}

// appendLiterals appends the literals section: treeless with the
// dictionary's tree, or raw when that is not smaller.
func (s *seqScratch) appendLiterals(dst []byte) ([]byte, bool) {
	lits := s.lits
	if len(lits) >= 32 {
		four := len(lits) >= 1024
		var coded []byte
		var reused bool
		var err error
		if four {
			coded, reused, err = huff0.Compress4X(lits, s.huff)
		} else {
			coded, reused, err = huff0.Compress1X(lits, s.huff)
		}
		if err == nil && reused && len(coded) < len(lits) {
			start := len(dst)
			if dst, ok := appendTreelessHeader(dst, len(lits), len(coded), four); ok {
				return append(dst, coded...), true
			}
			dst = dst[:start]
		}
	}
	// Raw_Literals_Block (RFC 8878 3.1.1.3.1.1).
	switch n := len(lits); {
	case n < 32:
		dst = append(dst, byte(n<<3|litRaw))
	case n < 4096:
		dst = append(dst, byte(n<<4|1<<2|litRaw), byte(n>>4))
	case n < 1<<20:
		dst = append(dst, byte(n<<4|3<<2|litRaw), byte(n>>4), byte(n>>12))
	default:
		return dst, false
	}
	return append(dst, lits...), true
}

// appendSequences appends the sequences section: the count, the modes
// byte (Repeat_Mode for all three: the dictionary's distributions) and the
// backward bit stream. It fails when a code has no slot in its
// distribution.
func (e *seqEncoder) appendSequences(s *seqScratch, dst []byte) ([]byte, bool) {
	seqs := s.seqs
	n := len(seqs)
	switch {
	case n < 128:
		dst = append(dst, byte(n))
	case n < 0x7f00:
		dst = append(dst, byte(n>>8+128), byte(n))
	default:
		dst = append(dst, 0xff, byte(n-0x7f00), byte((n-0x7f00)>>8))
	}
	if n == 0 {
		return dst, true
	}
	dst = append(dst, 3<<6|3<<4|3<<2) // Repeat_Mode x3
	// parse chose only offsets and match lengths the distributions code;
	// a literal length may still lack a slot.
	for _, q := range seqs {
		if !e.ll.codes(q.llc) {
			return dst, false
		}
	}
	// The bit stream goes straight into dst, 8 bytes at a time (a
	// bufWriter, fse.go): per sequence at most 26 state bits and 63 extra
	// bits, then three final states and the end mark.
	w := bufWriter{b: slices.Grow(dst, 12*n+24+8)}
	w.pos = len(dst)
	w.b = w.b[:cap(w.b)]
	last := seqs[n-1]
	xll, xml, xof := e.ll.init(last.llc), e.ml.init(last.mlc), e.of.init(last.ofc)
	w.extra(last)
	for i := n - 2; i >= 0; i-- {
		q := &seqs[i]
		var v uint64
		var nb uint
		v, nb, xof = e.of.step(xof, q.ofc)
		w.add(v, nb)
		v, nb, xml = e.ml.step(xml, q.mlc)
		w.add(v, nb)
		v, nb, xll = e.ll.step(xll, q.llc)
		w.add(v, nb)
		w.flush()
		w.extra(*q)
	}
	w.add(uint64(xml)&(1<<e.ml.log-1), uint(e.ml.log))
	w.add(uint64(xof)&(1<<e.of.log-1), uint(e.of.log))
	w.flush()
	w.add(uint64(xll)&(1<<e.ll.log-1), uint(e.ll.log))
	w.add(1, 1) // the end mark
	w.flush()
	if w.n > 0 {
		w.pos++ // the last, partial byte (flush stored it)
	}
	return w.b[:w.pos], true
}

// extra writes a sequence's extra bits in the order the decoder reads
// them backwards: offset, match length, literal length (at most 16 + 16
// and 31 bits).
func (w *bufWriter) extra(q seqRec) {
	w.add(uint64(q.ll-llBase[q.llc]), uint(llExtra[q.llc]))
	w.add(uint64(q.ml-mlBase[q.mlc]), uint(mlExtra[q.mlc]))
	w.flush()
	w.add(uint64(q.ov)-1<<q.ofc, uint(q.ofc))
	w.flush()
}

// The codes' baselines and extra bits are llBase, llExtra, mlBase and
// mlExtra (zdec_fse.go).

// llCode returns the code of literal length ll (< 1<<17).
func llCode(ll uint32) uint8 {
	if ll >= 64 {
		return uint8(highBit(ll) + 19)
	}
	return llCodes[ll]
}

// mlCode returns the code of match length ml (3 <= ml < 1<<17).
func mlCode(ml uint32) uint8 {
	if ml-3 >= 128 {
		return uint8(highBit(ml-3) + 36)
	}
	return mlCodes[ml-3]
}

// llCodes and mlCodes map short lengths to their codes: the largest code
// whose baseline is not above the length.
var llCodes, mlCodes = func() (ll [64]uint8, ml [128]uint8) {
	for v := range ll {
		c := maxLLCode
		for llBase[c] > uint32(v) {
			c--
		}
		ll[v] = uint8(c)
	}
	for v := range ml {
		c := maxMLCode
		for mlBase[c] > uint32(v+3) {
			c--
		}
		ml[v] = uint8(c)
	}
	return ll, ml
}()

// ofCode returns the code of Offset_Value ov.
func ofCode(ov uint32) uint8 { return uint8(highBit(ov)) }
