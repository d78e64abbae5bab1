package zrec

import "math/bits"

// FSE tables for the fast decoder (zdec.go): parsing a table description
// (RFC 8878 section 4.1.1), building its decoding table, and the sequence
// codes' baselines and predefined distributions (section 3.1.1.3.2).

// Sequence symbol limits (RFC 8878 3.1.1.3.2.2).
const (
	maxLLSymbol = 35
	maxMLSymbol = 52
	maxOFSymbol = 31
	maxLLLog    = 9
	maxMLLog    = 9
	maxOFLog    = 8
)

// fseEntry is one state of an FSE decoding table: the symbol it decodes,
// and the next state: next + (nb bits read from the stream).
type fseEntry struct {
	sym  uint8
	nb   uint8
	next uint16
}

// seqEntry is an fseEntry of a sequences table with the symbol already
// turned into its value: base + (extra bits read from the stream). For
// offsets base is 1<<code and extra is the code (Offset_Value).
type seqEntry struct {
	base  uint32
	extra uint8
	nb    uint8
	next  uint16
}

// seqTable is a sequences decoding table: 1<<log entries (log 0: RLE).
type seqTable struct {
	log uint8
	e   []seqEntry
}

// readNCount parses an FSE table description at the start of src for
// symbols 0..maxSym with an accuracy log of at most maxLog. It fills
// norm[0:maxSym+1] (-1: "less than one") and returns the accuracy log and
// the bytes the description took.
func readNCount(src []byte, norm *[256]int16, maxSym int, maxLog uint8) (log uint8, n int, err error) {
	if len(src) == 0 {
		return 0, 0, corruptf("FSE table description missing")
	}
	pos := 0
	log = uint8(fwdBits(src, 0)&15) + 5
	pos += 4
	if log > maxLog {
		return 0, 0, corruptf("FSE accuracy log %d over %d", log, maxLog)
	}
	remaining := int32(1)<<log + 1
	threshold := int32(1) << log
	nbBits := uint(log) + 1
	sym := 0
	prev0 := false
	for remaining > 1 && sym <= maxSym {
		if prev0 {
			// Zero-probability repeat flags: 2 bits each, 3 = "and more".
			for {
				if pos > len(src)*8 {
					return 0, 0, corruptf("FSE table description truncated")
				}
				r := int(fwdBits(src, pos) & 3)
				pos += 2
				for k := 0; k < r && sym <= maxSym; k++ {
					norm[sym] = 0
					sym++
				}
				if r != 3 {
					break
				}
			}
			if sym > maxSym {
				return 0, 0, corruptf("FSE table description: symbol %d over %d", sym, maxSym)
			}
		}
		v := int32(fwdBits(src, pos))
		max := 2*threshold - 1 - remaining
		var count int32
		if v&(threshold-1) < max {
			count = v & (threshold - 1)
			pos += int(nbBits) - 1
		} else {
			count = v & (2*threshold - 1)
			if count >= threshold {
				count -= max
			}
			pos += int(nbBits)
		}
		count--
		if count < 0 {
			remaining--
		} else {
			remaining -= count
		}
		norm[sym] = int16(count)
		sym++
		prev0 = count == 0
		for remaining < threshold && threshold > 1 {
			nbBits--
			threshold >>= 1
		}
	}
	if remaining != 1 || pos > len(src)*8 {
		return 0, 0, corruptf("FSE table description inconsistent or truncated")
	}
	for ; sym <= maxSym; sym++ {
		norm[sym] = 0
	}
	return log, (pos + 7) >> 3, nil
}

// buildFSE builds the decoding table of normalized counts norm[0:nsym]
// with accuracy log log into t, which must have room for 1<<log entries.
func buildFSE(t []fseEntry, norm []int16, log uint8) error {
	size := 1 << log
	t = t[:size]
	high := size - 1
	var next [256]uint16
	for s, c := range norm {
		switch {
		case c == -1:
			t[high].sym = uint8(s)
			high--
			next[s] = 1
		default:
			next[s] = uint16(c)
		}
	}
	step := size>>1 + size>>3 + 3
	mask := size - 1
	pos := 0
	for s, c := range norm {
		for i := 0; i < int(c); i++ {
			t[pos].sym = uint8(s)
			pos = (pos + step) & mask
			for pos > high {
				pos = (pos + step) & mask
			}
		}
	}
	if pos != 0 {
		return corruptf("FSE table does not spread evenly")
	}
	for u := range t {
		s := t[u].sym
		x := next[s]
		next[s]++
		if x == 0 {
			return corruptf("FSE table: symbol %d over its count", s)
		}
		nb := log - uint8(bits.Len16(x)-1)
		t[u].nb = nb
		t[u].next = x<<nb - uint16(size)
	}
	return nil
}

// seqKind names one of the three sequence streams.
type seqKind uint8

const (
	kindLL seqKind = iota
	kindOF
	kindML
)

// maxSymbol and maxLog return the limits of a kind.
func (k seqKind) maxSymbol() int {
	return [3]int{maxLLSymbol, maxOFSymbol, maxMLSymbol}[k]
}

func (k seqKind) maxLog() uint8 { return [3]uint8{maxLLLog, maxOFLog, maxMLLog}[k] }

// value returns the baseline and extra bits of symbol s.
func (k seqKind) value(s uint8) (base uint32, extra uint8) {
	switch k {
	case kindLL:
		return llBase[s], llExtra[s]
	case kindML:
		return mlBase[s], mlExtra[s]
	default:
		return 1 << s, s
	}
}

// Literals length and match length codes (RFC 8878 3.1.1.3.2.1.1).
var (
	llBase = [maxLLSymbol + 1]uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096,
		8192, 16384, 32768, 65536}
	llExtra = [maxLLSymbol + 1]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	mlBase = [maxMLSymbol + 1]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
		19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
		35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
		4099, 8195, 16387, 32771, 65539}
	mlExtra = [maxMLSymbol + 1]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11,
		12, 13, 14, 15, 16}
)

// Predefined distributions (RFC 8878 3.1.1.3.2.2).
var (
	llDefault = []int16{4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
		2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1}
	mlDefault = []int16{1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1}
	ofDefault = []int16{1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1}
)

// predefined holds the predefined tables, built once.
var predefined = func() (t [3]seqTable) {
	for k, d := range [3][]int16{llDefault, ofDefault, mlDefault} {
		log := uint8(6)
		if seqKind(k) == kindOF {
			log = 5
		}
		t[k].e = make([]seqEntry, 1<<log)
		if err := buildSeqTable(&t[k], seqKind(k), d, log, make([]fseEntry, 1<<log)); err != nil {
			panic("zrec: predefined FSE table: " + err.Error())
		}
	}
	return t
}()

// buildSeqTable builds t (whose e has room for 1<<log entries) from
// normalized counts, using tmp (same room) as scratch.
func buildSeqTable(t *seqTable, k seqKind, norm []int16, log uint8, tmp []fseEntry) error {
	if err := buildFSE(tmp, norm, log); err != nil {
		return err
	}
	t.log = log
	t.e = t.e[:1<<log]
	for i, f := range tmp[:1<<log] {
		base, extra := k.value(f.sym)
		t.e[i] = seqEntry{base: base, extra: extra, nb: f.nb, next: f.next}
	}
	return nil
}

// rleSeqTable makes t a one-state table that always decodes symbol s.
func rleSeqTable(t *seqTable, k seqKind, s uint8) {
	base, extra := k.value(s)
	t.log = 0
	t.e = t.e[:1]
	t.e[0] = seqEntry{base: base, extra: extra}
}
