package fst

import (
	"encoding/binary"
	"fmt"

	"github.com/kvdict/kvdict/internal/frame"
)

// A top file (part-NNNNN.top, manifest feature "fst-top", optional) is a
// compact copy of an FST's upper states: those whose subtree, as the
// walker bounds it (walker.go, "Prefetching"), spans more than Limit bytes
// of states. At 10M keys those are the states a lookup misses the cache
// on: below them the walker prefetches the whole subtree it enters. The
// copy packs them into about 1 byte per key (vellum spreads them over the
// whole FST, one cache line each), so they stay in the cache, and codes a
// run of one-transition states as one node whose label is compared 8
// bytes at a time. [FST.Get] starts there, and continues in the FST at the
// state where the copy ends, with the sum of outputs so far. An FST
// without its top file answers the same; a reader that does not know the
// feature ignores the file.
//
//	+------------------+------------------------------------------+------------------+
//	| frame header 16B | body (BodyLen bytes)                     | frame footer 32B |
//	+------------------+------------------------------------------+------------------+
//	                   | top header 24 | nodes ... | zero pad 16  |
//
// All integers are little-endian. Frame header (internal/frame): magic
// "kvdTOP\x00\x00", version 1, flags 0. Frame footer: count = number of
// nodes, body length, CRC-32C of header and body (checked by [LoadTop]:
// the file is small).
//
// Top header, body offset 0:
//
//	 0:1    A: width of an FST state address, 1..8
//	 1:2    C: width of a node offset, 1..8
//	 2:4    reserved, 0
//	 4:8    Limit (uint32): the subtree span, in bytes, above which a
//	        state was copied (informational: the walk does not use it)
//	 8:16   body length of the FST this copies (uint64)
//	16:20   body CRC-32C of that FST (its frame footer's)
//	20:24   reserved, 0
//
// Nodes follow at body offset 24 (topHeaderLen), the root's node first
// (no nodes: the root itself is small, and lookups start in the FST). A
// node's offset is its body offset. The body ends with 16 zero bytes, so
// that a field can be read with one 8-byte load.
//
// Nodes are in preorder: a node, then the nodes below its first
// transition, those below its second, and so on, so every child offset
// is greater than its parent's. Packed integers are as in the FST: the
// low W bytes of a little-endian uint64, W per node (O) or per file (A, C).
//
//	chain node (a run of one-transition states, never final):
//	  [0x80] [O] [L: 1..255] [label: L bytes] [child: C] [addr: A] [out: O]
//	several-transition node (one FST state in several-transition form):
//	  [h: 0x40 if final, else 0] [n-1] [O] [final output: O, if final]
//	  [inputs: n bytes, increasing] [children: n×C] [addrs: n×A] [outs: n×O]
//
// A transition (the chain's one, or input i) leads to the FST state at
// addr (0: the empty final state) with output out (a chain's is the sum
// of its states' outputs); its child is the offset of that state's node,
// or 0 when the state is not copied: the walk continues in the FST at
// addr. O is the width of the node's largest output (0 when all are 0).
//
// Lookup: at a chain node the next L key bytes must equal the label; at a
// several-transition node the next key byte must be one of the inputs (if
// the key is used up, the node's state must be final: add its final
// output). Add the output; at a child go on there, otherwise walk the FST
// from addr with the rest of the key. An FST state at addr is copied
// exactly when its node is reachable, so the answers are the FST's:
// [Top.Verify] checks every node against the states it copies.
//
// # Worked example
//
// With Limit -1 every state that has a transition is copied. The FST of
// cat=5, cats=2^40, dog=2 (golden-v1.fst, format.go: root 43, 'c' to 31,
// 'd' to 35, "cat" is state 29) gives testdata/golden-v1.top, a body of
// 91 bytes (offsets in hex):
//
//	00-17  top header: 01 (A=1) 03 (C=3) 0000 | 00000000 (Limit 0) |
//	       3c00000000000000 (FST body 60 bytes) | eec153da (its CRC) | 00000000
//	18-26  root node: 00 (not final) 01 (n=2) 01 (O=1) | 63 64 "cd" |
//	       children 270000 (0x27) 420000 (0x42) | addrs 1f 23 | outs 05 02
//	27-2f  'c': 80 (chain) 00 (O=0) 02 (L=2) 61 74 "at" | child 300000 (0x30) |
//	       addr 1d (state 29) | no output bytes
//	30-41  "cat": 40 (final) 00 (n=1) 05 (O=5) | final output 0000000000 |
//	       73 "s" | child 000000 (not copied) | addr 00 | out fbffffffff (2^40-5)
//	42-4a  'd': 80 00 02 6f 67 "og" | child 000000 | addr 00 (the final state)
//	4b-5a  16 zero bytes
//
// Frame footer: count 4 (nodes), body length 91, body CRC ae697786.
// So "cats" = 5 (root) + 0 (chain) + (2^40-5) = 2^40, and "do" stops
// inside the chain "og": absent. TestTopGolden pins these exact bytes.

// TopMagic is the first (and last) 8 bytes of every top file.
const TopMagic = "kvdTOP\x00\x00"

// TopVersion is the top file version this package writes and reads:
//
//   - 1: the layout above.
const TopVersion = 1

// DefaultTopLimit is the default [TopOptions.Limit]: the span below
// which the walker prefetches a whole subtree (prefetchStates), so the
// copy holds exactly the states a lookup would otherwise miss on.
const DefaultTopLimit = prefetchStates

const (
	topHeaderLen = 24
	topPad       = 16 // zero bytes after the last node
	topMaxLimit  = 1<<32 - 1
)

// Node header bits.
const (
	topChain = 0x80 // a chain node
	topFinal = 0x40 // a several-transition node whose state is final
)

// Top is a loaded top file. It is immutable and safe for concurrent use;
// it aliases the bytes given to [LoadTop].
type Top struct {
	file   *frame.File
	body   []byte // file.Body
	aw     int    // A: state address width
	cw     int    // C: node offset width
	limit  int
	fstLen uint64
	fstCRC uint32
}

// LoadTop decodes a top file held in data, typically an mmap of the whole
// file. It checks the frame and the CRC-32C of the whole body (a top file
// is about 1 byte per key), and the header's fields; [FST.SetTop] checks
// that it belongs to the FST. Errors wrap [ErrCorrupt], [ErrMagic] or
// [ErrVersion].
func LoadTop(data []byte) (*Top, error) {
	file, err := frame.Decode(data, TopMagic, TopVersion)
	if err != nil {
		return nil, fmt.Errorf("fst: top: %w", err)
	}
	if file.Header.Flags != 0 {
		return nil, corruptf("top: header flags %#x, version %d defines none", file.Header.Flags, file.Header.Version)
	}
	if err := file.VerifyBody(); err != nil {
		return nil, fmt.Errorf("fst: top: %w", err)
	}
	b := file.Body
	if len(b) < topHeaderLen+topPad {
		return nil, corruptf("top: body of %d bytes is too short (at least %d)", len(b), topHeaderLen+topPad)
	}
	t := &Top{
		file:   file,
		body:   b,
		aw:     int(b[0]),
		cw:     int(b[1]),
		limit:  int(binary.LittleEndian.Uint32(b[4:8])),
		fstLen: binary.LittleEndian.Uint64(b[8:16]),
		fstCRC: binary.LittleEndian.Uint32(b[16:20]),
	}
	if t.aw < 1 || t.aw > 8 || t.cw < 1 || t.cw > 8 {
		return nil, corruptf("top: widths %d and %d outside 1..8", t.aw, t.cw)
	}
	if b[2] != 0 || b[3] != 0 || binary.LittleEndian.Uint32(b[20:24]) != 0 {
		return nil, corruptf("top: reserved header bytes are not 0")
	}
	for _, c := range b[len(b)-topPad:] {
		if c != 0 {
			return nil, corruptf("top: the last %d body bytes are not 0", topPad)
		}
	}
	if (file.Footer.Count == 0) != (len(b) == topHeaderLen+topPad) {
		return nil, corruptf("top: %d nodes in %d bytes", file.Footer.Count, len(b)-topHeaderLen-topPad)
	}
	return t, nil
}

// Footer returns the decoded frame footer (Count is the number of nodes).
func (t *Top) Footer() Footer { return t.file.Footer }

// Size returns the size of the file in bytes.
func (t *Top) Size() int { return frame.HeaderLen + len(t.body) + frame.FooterLen }

// Limit returns the subtree span the builder copied states above.
func (t *Top) Limit() int { return t.limit }

// empty reports whether t has no nodes.
func (t *Top) empty() bool { return t.file.Footer.Count == 0 }

// SetTop makes f's lookups ([FST.Get], [FST.GetPrefetch]) start in t;
// nil removes it. It checks that t was built from f's very bytes (body
// length and CRC), and returns an error wrapping [ErrCorrupt] otherwise.
// It is not safe to call concurrently with lookups: call it before f is
// shared.
func (f *FST) SetTop(t *Top) error {
	if t == nil {
		f.top = nil
		return nil
	}
	ft := f.file.Footer
	if t.fstLen != ft.BodyLen || t.fstCRC != ft.BodyCRC {
		return corruptf("top: built for an FST body of %d bytes with CRC %08x, this one has %d bytes and CRC %08x", t.fstLen, t.fstCRC, ft.BodyLen, ft.BodyCRC)
	}
	f.top = nil
	if !t.empty() {
		f.top = t
	}
	return nil
}

// Verify checks t against f, the FST it copies: every node must be the
// state (or run of states) it stands for, with the same inputs, outputs,
// finality and target addresses, each child the node of its target, the
// nodes in preorder filling the body exactly, and as many as the footer
// counts. Together with the CRC LoadTop checks, it guarantees that lookups
// through t answer as f alone. It costs O(size of t) reads of f's states.
// Errors wrap [ErrCorrupt].
func (t *Top) Verify(f *FST) error {
	ft := f.file.Footer
	if t.fstLen != ft.BodyLen || t.fstCRC != ft.BodyCRC {
		return corruptf("top: built for another FST (body %d bytes, CRC %08x; this one %d, %08x)", t.fstLen, t.fstCRC, ft.BodyLen, ft.BodyCRC)
	}
	end := len(t.body) - topPad
	v := topVerifier{t: t, body: f.file.Body, high: len(f.file.Body) - vellumFooterLen, next: topHeaderLen, end: end}
	if !t.empty() {
		if err := v.node(topHeaderLen, f.root); err != nil {
			return err
		}
	}
	if v.next != end {
		return corruptf("top: nodes end at body offset %d, the pad starts at %d", v.next, end)
	}
	if v.count != t.file.Footer.Count {
		return corruptf("top: %d nodes, footer counts %d", v.count, t.file.Footer.Count)
	}
	return nil
}

type topVerifier struct {
	t     *Top
	body  []byte // the FST body
	high  int
	next  int // where the next node must start
	end   int
	count uint64
	s     vstate
}

// node checks the node at off against the FST state at addr, then the
// nodes below it.
func (v *topVerifier) node(off, addr int) error {
	tb, aw, cw := v.t.body, v.t.aw, v.t.cw
	if off != v.next {
		return corruptf("top: node at body offset %d, expected at %d (nodes out of preorder)", off, v.next)
	}
	if off+3 > v.end {
		return corruptf("top: node at body offset %d runs past the nodes", off)
	}
	v.count++
	bad := func(format string, args ...any) error {
		return corruptf("top: node at body offset %d (FST state %d): "+format, append([]any{off, addr}, args...)...)
	}
	if addr < walkLow || addr >= v.high {
		return bad("address outside the FST's states")
	}
	h := tb[off]
	if h&topChain != 0 {
		ow, l := int(tb[off+1]), int(tb[off+2])
		if h != topChain {
			return bad("chain header %#x", h)
		}
		if ow > 8 {
			return bad("output width %d over 8", ow)
		}
		if l == 0 {
			return bad("empty chain label")
		}
		r := off + 3 + l
		v.next = r + cw + aw + ow
		if v.next > v.end {
			return bad("node runs past the nodes")
		}
		var sum uint64
		cur := addr
		for i := 0; i < l; i++ {
			if cur < walkLow || cur >= v.high || v.body[cur]&stateOneTrans == 0 {
				return bad("label byte %d: the FST state %d is not a one-transition state", i, cur)
			}
			if err := decodeState(v.body, cur, &v.s); err != nil {
				return err
			}
			if v.s.ins[0] != tb[off+3+i] {
				return bad("label byte %d is %#x, the FST's input %#x", i, tb[off+3+i], v.s.ins[0])
			}
			sum += v.s.outs[0]
			cur = v.s.targets[0]
		}
		if got := packed(tb, r+cw, aw); got != uint64(cur) {
			return bad("chain leads to address %d, the FST's to %d", got, cur)
		}
		if got := packed(tb, r+cw+aw, ow); got != sum {
			return bad("chain output %d, the FST's %d", got, sum)
		}
		if c := int(packed(tb, r, cw)); c != 0 {
			return v.node(c, cur)
		}
		return nil
	}
	ow := int(tb[off+2])
	if h&^topFinal != 0 {
		return bad("header %#x", h)
	}
	if ow > 8 {
		return bad("output width %d over 8", ow)
	}
	if v.body[addr]&stateOneTrans != 0 {
		return bad("the FST state is a one-transition state")
	}
	if err := decodeState(v.body, addr, &v.s); err != nil {
		return err
	}
	n := int(tb[off+1]) + 1
	p := off + 3
	final := h&topFinal != 0
	if final != v.s.final {
		return bad("final %v, the FST's %v", final, v.s.final)
	}
	if final {
		if p+ow > v.end {
			return bad("node runs past the nodes")
		}
		if got := packed(tb, p, ow); got != v.s.fin {
			return bad("final output %d, the FST's %d", got, v.s.fin)
		}
		p += ow
	}
	if n != len(v.s.ins) {
		return bad("%d transitions, the FST's state %d", n, len(v.s.ins))
	}
	v.next = p + n*(1+cw+aw+ow)
	if v.next > v.end {
		return bad("node runs past the nodes")
	}
	// The FST's inputs in key order; a damaged FST may repeat one, which
	// the walker (first match) and this copy (increasing) would read
	// differently: refuse it.
	for i := 0; i < n; i++ {
		if tb[p+i] != v.s.ins[i] || (i > 0 && v.s.ins[i] <= v.s.ins[i-1]) {
			return bad("input %d is %#x, the FST's %#x (in increasing order)", i, tb[p+i], v.s.ins[i])
		}
	}
	children := p + n
	addrs := children + n*cw
	outs := addrs + n*aw
	targets := append([]int(nil), v.s.targets...)
	for i := 0; i < n; i++ {
		if got := packed(tb, addrs+i*aw, aw); got != uint64(targets[i]) {
			return bad("transition %d leads to %d, the FST's to %d", i, got, targets[i])
		}
		if got := packed(tb, outs+i*ow, ow); got != v.s.outs[i] {
			return bad("transition %d has output %d, the FST's %d", i, got, v.s.outs[i])
		}
	}
	for i := 0; i < n; i++ {
		if c := int(packed(tb, children+i*cw, cw)); c != 0 {
			if err := v.node(c, targets[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
