package fst

import (
	"bytes"

	"github.com/kvdict/kvdict/internal/prefetch"
)

// walkTop looks key up starting in the top states t, then in body from
// where t's states end. Its answers are walkGet's.
func walkTop(t *Top, body []byte, root int, key []byte, values []byte) (uint64, bool, error) {
	tb := t.body
	aw, cw := t.aw, t.cw
	end := len(tb) - topPad
	at := walkAt{addr: root, fLo: walkLow - 1, vEnd: uint64(len(values)), fetchedV: values == nil}
	off := topHeaderLen
	i := 0
	for {
		if off >= end {
			return 0, false, topCorrupt(off, "node outside the file")
		}
		if !at.fetchedV && at.total < at.vEnd && at.vEnd-at.total <= prefetchValues && at.vEnd <= uint64(len(values)) {
			prefetch.Range(values[at.total:at.vEnd])
			at.fetchedV = true
		}
		h := tb[off]
		var r int // the field offset of the transition taken
		var ow int
		if h&topChain != 0 {
			ow = int(tb[off+1] & 0x0f)
			l := int(tb[off+2])
			lab := off + 3
			r = lab + l
			if r+cw+aw+ow > end {
				return 0, false, topCorrupt(off, "node runs past the end")
			}
			if len(key)-i < l || !bytes.Equal(key[i:i+l], tb[lab:r]) {
				return 0, false, nil
			}
			i += l
			at.total += packed(tb, r+cw+aw, ow)
		} else {
			n := int(tb[off+1]) + 1
			ow = int(tb[off+2] & 0x0f)
			p := off + 3
			var fin uint64
			if h&topFinal != 0 {
				fin = packed(tb, p, ow)
				p += ow
			}
			if p+n*(1+cw+aw+ow) > end {
				return 0, false, topCorrupt(off, "node runs past the end")
			}
			if i == len(key) {
				if h&topFinal == 0 {
					return 0, false, nil
				}
				return at.total + fin, true, nil
			}
			pos := findInput(tb, p, n, key[i])
			if pos < 0 {
				return 0, false, nil
			}
			i++
			addrs := p + n*(1+cw)
			outs := addrs + n*aw
			base := at.total
			at.total += packed(tb, outs+pos*ow, ow)
			if pos > 0 {
				if prev := int(packed(tb, addrs+(pos-1)*aw, aw)); prev > 0 { // > 0: a damaged 8-byte address may read negative
					at.fLo = prev
				}
			}
			if pos+1 < n {
				at.vEnd = base + packed(tb, outs+(pos+1)*ow, ow)
			}
			r = p + n + pos*cw
			at.addr = int(packed(tb, addrs+pos*aw, aw))
			child := int(packed(tb, r, cw))
			if at.addr <= at.fLo {
				at.fLo = walkLow - 1
			}
			if at.vEnd <= at.total {
				at.vEnd = uint64(len(values))
			}
			if child == 0 {
				return topExit(body, at, key[i:], values)
			}
			if child <= off {
				return 0, false, topCorrupt(off, "child offset not after the node")
			}
			off = child
			continue
		}
		at.addr = int(packed(tb, r+cw, aw))
		child := int(packed(tb, r, cw))
		if child == 0 {
			return topExit(body, at, key[i:], values)
		}
		if child <= off {
			return 0, false, topCorrupt(off, "child offset not after the node")
		}
		off = child
	}
}

// topCorrupt is the error of a top walk that met bytes no builder
// writes; out of line, like walkCorrupt.
//
//go:noinline
func topCorrupt(off int, why string) error {
	return corruptf("get: top node at offset %d: %s", off, why)
}

// topExitValues is the value prefetch limit where the walk leaves the
// top states: there the walk still has the miss on the FST subtree ahead
// of it, so prefetching the values now overlaps both. 4 KiB measured
// better than the walker's 1 KiB there (docs/BENCHMARKS.md §8), and only
// one range is fetched per lookup.
const topExitValues = 4096

// topExit continues the walk in the FST at at, where the top states end.
func topExit(body []byte, at walkAt, key []byte, values []byte) (uint64, bool, error) {
	if !at.fetchedV && at.total < at.vEnd && at.vEnd-at.total <= topExitValues && at.vEnd <= uint64(len(values)) {
		prefetch.Range(values[at.total:at.vEnd])
		at.fetchedV = true
	}
	return walkFrom(body, at, key, values)
}
