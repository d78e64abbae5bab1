package fst

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"

	"github.com/kvdict/kvdict/internal/frame"
)

// vstate is one decoded vellum state, its transitions in key order.
type vstate struct {
	one     bool // the one-transition form (never final)
	final   bool
	fin     uint64
	ins     []byte
	targets []int
	outs    []uint64
	bottom  int
}

// decodeState decodes the state at addr (walkLow <= addr < high) into s,
// reusing its slices.
func decodeState(body []byte, addr int, s *vstate) error {
	s.ins, s.targets, s.outs = s.ins[:0], s.targets[:0], s.outs[:0]
	s.final, s.fin, s.one = false, 0, false
	top := body[addr]
	if top&stateOneTrans != 0 {
		s.one = true
		low := top & stateLow6
		in := commonInputs[low]
		bottom := addr
		if low == 0 {
			if addr-1 < walkLow {
				return walkCorrupt(addr, "state runs into the header")
			}
			in, bottom = body[addr-1], addr-1
		}
		if top&stateNext != 0 {
			s.ins, s.targets, s.outs = append(s.ins, in), append(s.targets, bottom-1), append(s.outs, 0)
			s.bottom = bottom
			return nil
		}
		if bottom-1 < walkLow {
			return walkCorrupt(addr, "state runs into the header")
		}
		pack := body[bottom-1]
		ts, os := int(pack>>4), int(pack&0x0f)
		if ts > 8 || os > 8 {
			return walkCorrupt(addr, "packed size over 8 bytes")
		}
		bottom -= 1 + ts + os
		if bottom < walkLow {
			return walkCorrupt(addr, "state runs into the header")
		}
		out := packed(body, bottom, os)
		delta := packed(body, bottom+os, ts)
		if delta > uint64(bottom) {
			return walkCorrupt(addr, "transition address below 0")
		}
		t := bottom - int(delta)
		if delta == 0 {
			t = 0
		}
		s.ins, s.targets, s.outs = append(s.ins, in), append(s.targets, t), append(s.outs, out)
		s.bottom = bottom
		return nil
	}
	n, ts, os, bottom, err := multiState(body, addr, top)
	if err != nil {
		return err
	}
	s.bottom = bottom
	s.final = top&stateFinal != 0
	if s.final {
		s.fin = packed(body, bottom, os)
	}
	inputs := addr - n - 1
	if top&stateLow6 == 0 {
		inputs--
	}
	dests := inputs - n*ts
	outs := dests - n*os
	for j := n - 1; j >= 0; j-- { // key order is reverse memory order
		delta := packed(body, dests+j*ts, ts)
		if delta > uint64(bottom) {
			return walkCorrupt(addr, "transition address below 0")
		}
		t := bottom - int(delta)
		if delta == 0 {
			t = 0
		}
		s.ins = append(s.ins, body[inputs+j])
		s.targets = append(s.targets, t)
		s.outs = append(s.outs, packed(body, outs+j*os, os))
	}
	return nil
}

// TopOptions configures [WriteTop]. A nil *TopOptions means defaults.
type TopOptions struct {
	// Limit is the subtree span, in bytes of FST states, above which a
	// state is copied into the top file. 0 means DefaultTopLimit (2048,
	// the span the walker prefetches whole); a negative Limit copies every
	// state that has a transition (for tests: the largest top file).
	Limit int
}

// WriteTop writes the top file of f (format in top.go) to w, and returns
// its frame footer. It reads the states it copies from f's bytes; its
// memory is the top file itself (about 1 byte per key at the default
// Limit) plus a stack of one frame per node on the current path.
// It does not close w.
func WriteTop(w io.Writer, f *FST, o *TopOptions) (Footer, error) {
	limit := DefaultTopLimit
	if o != nil && o.Limit != 0 {
		limit = max(o.Limit, -1)
	}
	body, err := buildTop(f, limit)
	if err != nil {
		return Footer{}, err
	}
	file := frame.AppendHeader(make([]byte, 0, frame.HeaderLen+len(body.out)+frame.FooterLen), frame.Header{Magic: TopMagic, Version: TopVersion})
	file = append(file, body.out...)
	ft := Footer{Count: body.count, BodyLen: uint64(len(body.out)), BodyCRC: crc32.Checksum(file, frame.Table)}
	file = frame.AppendFooter(file, TopMagic, ft)
	if _, err := w.Write(file); err != nil {
		return Footer{}, fmt.Errorf("fst: top: %w", err)
	}
	return ft, nil
}

// buildTop encodes the body of f's top file. The node offset width C is
// not known before the nodes are written: it starts at 3 bytes (16 MiB
// of nodes) and the build starts over wider if that is too few.
func buildTop(f *FST, limit int) (*topBuild, error) {
	body := f.file.Body
	aw := max(1, byteWidth(uint64(len(body))))
	for cw := 3; ; cw++ {
		b := &topBuild{body: body, limit: limit, aw: aw, cw: cw, high: len(body) - vellumFooterLen}
		b.out = make([]byte, topHeaderLen, 1<<16)
		b.out[0], b.out[1] = byte(aw), byte(cw)
		binary.LittleEndian.PutUint32(b.out[4:], uint32(min(max(int64(limit), 0), topMaxLimit)))
		binary.LittleEndian.PutUint64(b.out[8:], f.file.Footer.BodyLen)
		binary.LittleEndian.PutUint32(b.out[16:], f.file.Footer.BodyCRC)
		if b.isTop(f.root, walkLow-1) {
			if _, err := b.node(f.root, walkLow-1); err != nil {
				return nil, err
			}
		}
		if byteWidth(uint64(len(b.out))) > cw && cw < 8 {
			continue
		}
		b.out = append(b.out, make([]byte, topPad)...)
		return b, nil
	}
}

// topBuild is the state of one buildTop pass.
type topBuild struct {
	body   []byte // the FST body
	limit  int
	aw, cw int
	high   int
	out    []byte // the top body so far
	count  uint64 // nodes written
}

// byteWidth is the number of bytes that hold v (0 for 0).
func byteWidth(v uint64) int {
	return (bits.Len64(v) + 7) / 8
}

// isTop reports whether the state at addr, whose subtree the walker
// bounds to body(fLo, addr], is copied: its subtree spans more than the
// limit, it has a transition, and it lies inside that subtree (a state
// shared from elsewhere, with vellum's registry on, is not copied: that
// would copy it once per path to it).
func (b *topBuild) isTop(addr, fLo int) bool {
	if addr < walkLow || addr >= b.high || addr <= fLo || addr-fLo <= b.limit {
		return false
	}
	top := b.body[addr]
	return top&stateOneTrans != 0 || top&stateLow6 != 0 || b.body[addr-1] != 0
}

// putPacked writes the low w bytes of v at dst.
func putPacked(dst []byte, v uint64, w int) {
	var tmp [8]byte
	binary.LittleEndian.PutUint64(tmp[:], v)
	copy(dst[:w], tmp[:w])
}

// grow appends n zero bytes to b.out and returns their offset.
func (b *topBuild) grow(n int) int {
	off := len(b.out)
	b.out = append(b.out, make([]byte, n)...)
	return off
}

// node writes the node of the state at addr (subtree bound fLo) and the
// nodes below it, in preorder.
func (b *topBuild) node(addr, fLo int) (int, error) {
	var s vstate
	if err := decodeState(b.body, addr, &s); err != nil {
		return 0, err
	}
	off := len(b.out)
	b.count++
	if s.one {
		// A chain: this state and the one-transition states below it
		// that are copied too (their subtree bound is this one's).
		var label []byte
		var sum uint64
		cur := addr
		for {
			label = append(label, s.ins[0])
			sum += s.outs[0]
			cur = s.targets[0]
			if len(label) == 255 || !b.isTop(cur, fLo) || b.body[cur]&stateOneTrans == 0 {
				break
			}
			if err := decodeState(b.body, cur, &s); err != nil {
				return 0, err
			}
		}
		ow := byteWidth(sum)
		b.out = append(b.out, topChain, byte(ow), byte(len(label)))
		b.out = append(b.out, label...)
		r := b.grow(b.cw + b.aw + ow)
		putPacked(b.out[r+b.cw:], uint64(cur), b.aw)
		putPacked(b.out[r+b.cw+b.aw:], sum, ow)
		if b.isTop(cur, fLo) {
			c, err := b.node(cur, fLo)
			if err != nil {
				return 0, err
			}
			putPacked(b.out[r:], uint64(c), b.cw)
		}
		return off, nil
	}
	n := len(s.ins)
	mx := s.fin
	for _, o := range s.outs {
		mx = max(mx, o)
	}
	ow := byteWidth(mx)
	h := byte(0)
	if s.final {
		h = topFinal
	}
	b.out = append(b.out, h, byte(n-1), byte(ow))
	if s.final {
		putPacked(b.out[b.grow(ow):], s.fin, ow)
	}
	b.out = append(b.out, s.ins...)
	children := b.grow(n * (b.cw + b.aw + ow))
	addrs := children + n*b.cw
	outs := addrs + n*b.aw
	for j := 0; j < n; j++ {
		putPacked(b.out[addrs+j*b.aw:], uint64(s.targets[j]), b.aw)
		putPacked(b.out[outs+j*ow:], s.outs[j], ow)
	}
	targets := s.targets // s is not used below
	for j := 0; j < n; j++ {
		// The walker's bound below transition j: the previous one's target.
		cf := fLo
		if j > 0 && targets[j-1] != 0 {
			cf = targets[j-1]
		}
		if b.isTop(targets[j], cf) {
			c, err := b.node(targets[j], cf)
			if err != nil {
				return 0, err
			}
			putPacked(b.out[children+j*b.cw:], uint64(c), b.cw)
		}
	}
	return off, nil
}
