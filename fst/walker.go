package fst

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/kvdict/kvdict/internal/prefetch"
)

// This file is kvdict's own lookup over vellum v1 bytes: [FST.Get] walks
// the states directly instead of calling vellum's Reader.Get. The state
// encoding it reads is specified in format.go ("vellum v1 states").
//
// Why not vellum's Get: for every key byte vellum goes through two
// interface calls, zeroes a 150-byte state struct, decodes every field of
// the state (also those the lookup never reads), reads packed integers one
// byte at a time, and trusts every address and size in the data (a damaged
// file panics it, which Get had to recover). The walker keeps the state in
// local variables, reads a packed integer with one 8-byte load and a mask,
// checks every address and size before use, and needs no per-goroutine
// state, so it is safe for concurrent use without a pool and never
// allocates.
//
// Termination: the walk takes at most one transition per key byte, and
// the final-state check reads one more state, so it always ends after
// len(key)+1 states, whatever the bytes say.

// Bits of a state's top byte (format.go, "vellum v1 states").
const (
	stateOneTrans = 0x80 // set: a one-transition state
	stateNext     = 0x40 // one-transition state: the target is the state just below
	stateFinal    = 0x40 // several-transition state: the state is final
	stateLow6     = 0x3f // common-input code, or transition count
)

// commonInputs[c] is the input byte coded by c (1..63), the low 6 bits
// of a one-transition state's top byte; c = 0 means the input byte
// follows, below the top byte, and entry 0 is a placeholder. It is
// vellum's fixed table (vellum common.go), ordered by frequency in its
// authors' sample data: changing a byte here misreads every FST.
// TestWalker_EveryInputByte pins it against vellum.
const commonInputs = "\x00te/oasripcnw.hlm-du012g=:bf3y5&_4v9678k%?xCDASFIBEjPTzRNM+LOqHG"

// walkLow is the lowest body offset a state byte may occupy: the vellum
// header comes first. Address 0 is the empty final state, which has no
// bytes; address 1 is vellum's "no state" marker and never a target.
const walkLow = vellumHeaderLen

// packed reads the n-byte (0..8) little-endian integer at body[p:p+n]
// with one 8-byte load. The caller guarantees p+8 <= len(body), which
// holds for every p inside a state: the 16-byte vellum footer follows the
// last state.
func packed(body []byte, p, n int) uint64 {
	v := binary.LittleEndian.Uint64(body[p : p+8])
	return v & (1<<(8*uint(n)) - 1) // n == 8: 1<<64 is 0 in Go, the mask is all ones
}

// Prefetching. At 10M keys a lookup is a chain of cache misses: each
// state's address is known only once the previous state is read, and the
// value's offset only at the end. But once the walk enters a small
// subtree, it knows where all of it lies, and where its values lie:
//
//   - vellum writes states children first, a state's children in key
//     order, each child's subtree just before the child. So the subtree of
//     the transition taken lies between the target of the previous
//     transition (exclusive) and its own target (inclusive).
//   - outputs add up to the value's offset (in a value log written in key
//     order, the offsets grow with the keys; vellum moves the minimum of a
//     subtree's offsets onto the transition into it). So the values below
//     the transition taken start at the new total and end where the next
//     transition's total starts.
//
// The first time the subtree's states span at most prefetchStates bytes,
// and the first time its values span at most prefetchValues bytes, the
// walker asks the CPU to fetch all of that (package internal/prefetch),
// in parallel with the miss on the state it is reading: the rest of the
// walk and the value read then mostly hit the cache. Either extent is
// only a guess (shared suffixes, when vellum's registry is on, and values
// stored once for several keys break the order): a wrong guess costs
// memory bandwidth, never an answer, since nothing the walk decides
// depends on prefetched bytes.
//
// The limits: on 10M keys, states 2, 4 KiB and values 0.5, 1, 2 KiB were
// all within the noise of each other (docs/BENCHMARKS.md §8); more lines
// per lookup push other lookups' upper states out of the shared cache.
const (
	prefetchStates = 2048 // 32 lines
	prefetchValues = 1024 // 16 lines
)

// Bit tricks of findInput: ones has 1 in every byte, highs 0x80.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// findInput returns the position of the first byte c in body[p:p+n], or
// -1. The caller guarantees p+16 <= len(body) (true for the inputs of any
// state, the vellum footer follows them). Up to 16 inputs are compared 8
// at a time: the lowest byte of x that is 0 is the lowest whose
// (x - ones) &^ x has bit 7 set (a borrow only runs upwards), so the
// lowest flagged byte is always a true match.
func findInput(body []byte, p, n int, c byte) int {
	if n > 16 {
		return bytes.IndexByte(body[p:p+n], c)
	}
	pat := ones * uint64(c)
	x := binary.LittleEndian.Uint64(body[p:p+8]) ^ pat
	z := (x - ones) &^ x & highs
	if n < 8 {
		z &= 1<<(8*uint(n)) - 1
	}
	if z != 0 {
		return bits.TrailingZeros64(z) >> 3
	}
	if n <= 8 {
		return -1
	}
	x = binary.LittleEndian.Uint64(body[p+8:p+16]) ^ pat
	z = (x - ones) &^ x & highs & (1<<(8*uint(n-8)) - 1)
	if z == 0 {
		return -1
	}
	return 8 + bits.TrailingZeros64(z)>>3
}

// walkGet looks key up in body, a vellum v1 FST whose header and footer
// Load has checked, starting at the root state root. It returns the sum
// of the outputs along the key's path plus the final output, and whether
// the key is present. It reads only body, checks every address and size
// against it, and returns an error wrapping [ErrCorrupt] (never panics)
// on bytes no vellum builder writes. It does not allocate unless it
// returns an error.
//
// values, when not nil, is what the outputs are offsets into (a value
// log's mapped bytes): the walker prefetches the part that holds the
// values of a small enough subtree (see "Prefetching" above). It never reads
// values, and its answer does not depend on them.
func walkGet(body []byte, root int, key []byte, values []byte) (uint64, bool, error) {
	return walkFrom(body, walkAt{addr: root, fLo: walkLow - 1, vEnd: uint64(len(values))}, key, values)
}

// walkAt is where a walk stands: at state addr, with total the sum of the
// outputs so far. What the walk knows of the subtree below addr: its
// states lie in body(fLo, addr], its values in values[total:vEnd]. Each
// is prefetched once, when it is small enough; fetchedV says the values
// were.
type walkAt struct {
	addr     int
	total    uint64
	fLo      int
	vEnd     uint64
	fetchedV bool
}

// walkFrom is walkGet from the point at (the root, or where a walk of
// the top file left the top states), for the rest of the key.
func walkFrom(body []byte, at walkAt, key []byte, values []byte) (uint64, bool, error) {
	// States occupy body offsets [walkLow, high): the footer follows them.
	high := len(body) - vellumFooterLen
	total := at.total
	addr := at.addr
	fLo, vEnd := at.fLo, at.vEnd
	fetchedF, fetchedV := false, values == nil || at.fetchedV
	for _, c := range key {
		if addr < walkLow || addr >= high {
			if addr == 0 {
				return 0, false, nil // the empty final state has no transitions
			}
			return 0, false, walkCorrupt(addr, "address outside the states")
		}
		top := body[addr]
		// Prefetch after the load of top, which the walk waits for:
		// prefetches queue for the same miss buffers.
		if !fetchedF {
			if d := addr - fLo; d > 0 && d <= prefetchStates {
				prefetch.Range(body[fLo+1 : addr+1])
				fetchedF = true
			}
		}
		if !fetchedV && total < vEnd && vEnd-total <= prefetchValues && vEnd <= uint64(len(values)) {
			prefetch.Range(values[total:vEnd])
			fetchedV = true
		}
		if top&stateOneTrans != 0 {
			// One transition, never final. Its input is coded in the top
			// byte, or (code 0) stored just below it.
			low := top & stateLow6
			in, below := commonInputs[low], body[addr-1] // addr-1 >= walkLow-1: in range
			bottom := addr
			if low == 0 {
				in, bottom = below, addr-1
			}
			if in != c {
				return 0, false, nil
			}
			if top&stateNext != 0 {
				addr = bottom - 1 // output 0; the subtree bounds still hold
				continue
			}
			pack := body[bottom-1] // bottom-1 >= walkLow-2: in range
			ts, os := int(pack>>4), int(pack&0x0f)
			if ts > 8 || os > 8 {
				return 0, false, walkCorrupt(addr, "packed size over 8 bytes")
			}
			bottom -= 1 + ts + os
			if bottom < walkLow {
				return 0, false, walkCorrupt(addr, "state runs into the header")
			}
			total += packed(body, bottom, os)
			delta := packed(body, bottom+os, ts)
			if delta > uint64(bottom) {
				return 0, false, walkCorrupt(addr, "transition address below 0")
			}
			addr = bottom - int(delta)
			if delta == 0 {
				addr = 0
			}
			// The only child: its subtree has the bounds of this one.
		} else {
			// Several transitions (or none), maybe final.
			n, ts, os, bottom, err := multiState(body, addr, top)
			if err != nil {
				return 0, false, err
			}
			// The inputs are stored in reverse transition order; the
			// position found indexes the deltas and outputs, stored in the
			// same order. Like vellum (bytes.IndexByte), take the lowest
			// position if a damaged state repeats a byte.
			inputs := addr - n - 1
			if top&stateLow6 == 0 {
				inputs-- // the count byte
			}
			pos := findInput(body, inputs, n, c)
			if pos < 0 {
				return 0, false, nil
			}
			dests := inputs - n*ts
			outs := dests - n*os
			base := total
			total += packed(body, outs+pos*os, os)
			delta := packed(body, dests+pos*ts, ts)
			if delta > uint64(bottom) {
				return 0, false, walkCorrupt(addr, "transition address below 0")
			}
			addr = bottom - int(delta)
			if delta == 0 {
				addr = 0
			}
			// The previous transition in key order (the next one in
			// memory) ends just below this one's subtree; the next one's
			// output is where this one's values end.
			if pos+1 < n {
				if d := packed(body, dests+(pos+1)*ts, ts); d != 0 && d <= uint64(bottom) {
					fLo = bottom - int(d)
				}
			}
			if pos > 0 {
				vEnd = base + packed(body, outs+(pos-1)*os, os)
			}
		}
		if addr <= fLo {
			fLo = walkLow - 1 // a shared state, outside the subtree: bound unknown
		}
		if vEnd <= total {
			vEnd = uint64(len(values)) // outputs out of key order: bound unknown
		}
	}
	// The key is consumed: its state must be final.
	if addr == 0 {
		return total, true, nil // the empty final state, final output 0
	}
	if addr < walkLow || addr >= high {
		return 0, false, walkCorrupt(addr, "address outside the states")
	}
	top := body[addr]
	if top&stateOneTrans != 0 || top&stateFinal == 0 {
		return 0, false, nil
	}
	_, _, os, bottom, err := multiState(body, addr, top)
	if err != nil {
		return 0, false, err
	}
	// The final output is the state's lowest field.
	return total + packed(body, bottom, os), true, nil
}

// multiState decodes the fixed part of the several-transition state at
// addr (walkLow <= addr < len(body)-vellumFooterLen) with top byte top:
// its transition count, its delta and output widths, and its bottom (the
// offset of its lowest byte), checked to be at least walkLow.
func multiState(body []byte, addr int, top byte) (n, ts, os, bottom int, err error) {
	bottom = addr - 1
	n = int(top & stateLow6)
	if n == 0 {
		n = int(body[bottom]) // bottom >= walkLow-1: in range
		if n == 1 {
			n = 256 // 1 fits the top byte, so it stands for 256 here
		}
		bottom--
	}
	pack := body[bottom] // bottom >= walkLow-2: in range
	ts, os = int(pack>>4), int(pack&0x0f)
	if ts > 8 || os > 8 {
		return 0, 0, 0, 0, walkCorrupt(addr, "packed size over 8 bytes")
	}
	// Below the pack byte: n inputs, n deltas, n outputs, final output.
	bottom -= n * (1 + ts + os)
	if top&stateFinal != 0 {
		bottom -= os
	}
	if bottom < walkLow {
		return 0, 0, 0, 0, walkCorrupt(addr, "state runs into the header")
	}
	return n, ts, os, bottom, nil
}

// walkCorrupt is the error of a lookup that met bytes no vellum builder
// writes. It is kept out of line so that the lookup itself does not
// allocate: the key is not named, which would make every key escape.
//
//go:noinline
func walkCorrupt(addr int, why string) error {
	return corruptf("get: state at body offset %d: %s", addr, why)
}

// Compile-time check that the common-input table has its 63 entries.
var _ = [1]struct{}{}[len(commonInputs)-64]

// walkRoot returns the root address from body's vellum footer, which
// checkBody has validated.
func walkRoot(body []byte) int {
	return int(binary.LittleEndian.Uint64(body[len(body)-8:]))
}
