// Copyright 2023+ Klaus Post. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE.klauspost-compress file.

package zrec

// The dictionary's content (its "history"), chosen from the sample.
//
// This is github.com/klauspost/compress/dict's buildDict (v1.20.3,
// BSD-3-Clause, Copyright 2023+ Klaus Post; its license, whose notice a
// derived source file must keep, is LICENSE.klauspost-compress in this
// directory), the algorithm unchanged, its
// Go maps replaced by flat tables: profiles of kvbuild put ~0.75 CPU-s of a
// 1 MiB pypi sample in those maps (map growth, hashing, one small map per
// wanted string, all allocated), which delayed the merges by 0.3-0.45 s
// (docs/BENCHMARKS.md §6). The algorithm:
//
//  1. count, for every 6-byte string (by a 32-bit hash), the samples it
//     occurs in, and the sum of the positions of its first occurrences;
//  2. keep the strings seen more often than average, most frequent first
//     (similar counts by position), at most wantLen of them;
//  3. for each kept string, count which kept strings follow it (at +6) and
//     precede it (at -6) in the samples;
//  4. greedily chain kept strings, the most frequent first, each extended
//     by its best predecessor and then by its best successors while they
//     are common enough; every string used is struck out;
//  5. the chains, cut to wantLen bytes, written in reverse order (the most
//     valuable nearest the end, where offsets are cheapest), and up to
//     three offsets at which the first chains start in many samples.
//
// Where the original broke ties by Go map order (random from run to run),
// this port breaks them by table order, which depends on the sample only.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"sort"
)

// histHashBytes is the string length the history builder counts (the
// original's Options.HashBytes, which train.go set to 6).
const histHashBytes = 6

// histHash is the original's hashLen(u, 32, 6).
func histHash(u uint64) uint32 {
	return uint32(((u << (64 - 48)) * 227718039650203) >> 32)
}

// histSlot is one counted string of the history builder's table: its hash,
// the number of samples it occurs in, and, after step 2, its rank (index
// in the kept list + 1; 0: not kept).
type histSlot struct {
	h    uint32
	n    uint32
	rank uint32
	off  uint32 // sum of first-occurrence positions (saturating)
}

// histTable is an open-addressing table of histSlots keyed by hash; a slot
// is used when n > 0.
type histTable struct {
	slots []histSlot
	mask  uint32
	used  int
}

func newHistTable(positions int) *histTable {
	size := 1 << 12
	for size < positions/2 {
		size <<= 1
	}
	return &histTable{slots: make([]histSlot, size), mask: uint32(size - 1)}
}

// insert returns h's slot, adding it (n = 0) when absent. The table
// doubles at 70% load.
func (t *histTable) insert(h uint32) *histSlot {
	if t.used*10 >= len(t.slots)*7 {
		t.grow()
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.n == 0 {
			s.h = h
			t.used++
			return s
		}
		if s.h == h {
			return s
		}
	}
}

func (t *histTable) grow() {
	old := t.slots
	t.slots = make([]histSlot, 2*len(old))
	t.mask = uint32(len(t.slots) - 1)
	for _, s := range old {
		if s.n == 0 {
			continue
		}
		i := s.h & t.mask
		for t.slots[i].n != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// rank returns h's rank, 0 when h is absent or not kept.
func (t *histTable) rank(h uint32) uint32 {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.n == 0 {
			return 0
		}
		if s.h == h {
			return s.rank
		}
	}
}

// histKept is a kept string: its count, its position sum, its first
// occurrence's bytes, and the strings that follow and precede it.
type histKept struct {
	hash  uint32
	n     uint32
	off   uint32
	value [histHashBytes]byte
	seen  bool // value set
	dead  bool // struck out (the original's delete(output, h))
}

// radixSort sorts keys (each below 1<<nbits) with an LSD radix sort of
// 11-bit digits, using tmp (same length) as scratch; it returns the sorted
// slice (keys or tmp).
func radixSort(keys, tmp []uint64, nbits int) []uint64 {
	const digit = 11
	var count [1 << digit]int
	for shift := 0; shift < nbits; shift += digit {
		clear(count[:])
		for _, k := range keys {
			count[k>>shift&(1<<digit-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range keys {
			d := k >> shift & (1<<digit - 1)
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

// neighbour is one entry of a kept string's follower or predecessor list.
type neighbour struct {
	rank uint32
	n    uint32
}

// buildHistory returns the dictionary content chosen from samples, at most
// wantLen bytes, and its three repeat offsets (step 5; defaults 1, 4, 8).
func buildHistory(samples [][]byte, wantLen int) ([]byte, [3]int, error) {
	offsetsZstd := [3]int{1, 4, 8}
	if len(samples) == 0 || wantLen <= 0 {
		return nil, offsetsZstd, errors.New("zrec: no sample to train on")
	}
	positions := 0
	for _, b := range samples {
		positions += max(0, len(b)-7)
	}
	if positions == 0 {
		return nil, offsetsZstd, errors.New("zrec: no sample is 8 bytes or longer")
	}

	// Step 1. A string counts once per sample: a small per-sample table
	// of the hashes already seen, stamped with the sample's number.
	t := newHistTable(positions)
	var total uint64
	var seenH, seenStamp []uint32
	hs := make([]uint32, 0, positions) // every position's hash, sample after sample
	for si, b := range samples {
		n := len(b) - 7
		if n <= 0 {
			continue
		}
		size := 1 << 6
		for size < 2*n {
			size <<= 1
		}
		if len(seenH) < size {
			seenH, seenStamp = make([]uint32, size), make([]uint32, size)
		}
		mask := uint32(size - 1)
		stamp := uint32(si + 1)
		for i := range n {
			h := histHash(binary.LittleEndian.Uint64(b[i:]))
			hs = append(hs, h)
			j := (h ^ h>>15) & mask
			dup := false
			for seenStamp[j] == stamp {
				if seenH[j] == h {
					dup = true
					break
				}
				j = (j + 1) & mask
			}
			if dup {
				continue
			}
			seenH[j], seenStamp[j] = h, stamp
			s := t.insert(h)
			s.n++
			if s.off+uint32(i) >= s.off {
				s.off += uint32(i)
			}
			total++
		}
	}

	// Step 2.
	threshold := uint32(total / uint64(t.used))
	var sorted []histKept
	for _, s := range t.slots {
		if s.n > threshold {
			sorted = append(sorted, histKept{hash: s.h, n: s.n, off: s.off})
		}
	}
	if len(sorted) == 0 {
		return nil, offsetsZstd, errors.New("zrec: no content is repeated more than average across samples")
	}
	sort.Slice(sorted, func(i, j int) bool {
		// Similar counts together, lower positions first: this keeps
		// strings that are very similar together.
		deltaN := int(sorted[i].n) - int(sorted[j].n)
		if deltaN < 0 {
			deltaN = -deltaN
		}
		if uint32(deltaN) < sorted[i].n/32 {
			return sorted[i].off < sorted[j].off
		}
		return sorted[i].n > sorted[j].n
	})
	if len(sorted) > wantLen {
		sorted = sorted[:wantLen]
	}
	lowestOcc := sorted[len(sorted)-1].n
	for i := range sorted {
		t.insert(sorted[i].hash).rank = uint32(i + 1)
	}
	kept := func(r uint32) *histKept { return &sorted[r-1] }

	// Step 3. Pairs are collected as keys (rank, neighbour's rank),
	// radix-sorted and counted, successors first and then predecessors
	// in the same buffers: a table of counts took a cache miss per pair,
	// and one buffer for both kinds twice the memory.
	nk := len(sorted)
	rb := bits.Len(uint(nk))
	rk := hs // every position's rank, in place of its hash
	for i, h := range hs {
		rk[i] = t.rank(h)
	}
	var nf, np int
	eachSample(samples, rk, func(b []byte, rs []uint32) {
		for i, r := range rs {
			if r == 0 {
				continue
			}
			if k := kept(r); !k.seen {
				copy(k.value[:], b[i:])
				k.seen = true
			}
			if len(b)-i > histHashBytes+8 && rs[i+histHashBytes] != 0 {
				nf++
			}
			if i > histHashBytes && rs[i-histHashBytes] != 0 {
				np++
			}
		}
	})
	keys, tmp := make([]uint64, 0, max(nf, np)), make([]uint64, max(nf, np))
	// Lists by rank, in neighbour order, as ranges of one array (follow:
	// list rank-1, precede: list nk+rank-1).
	start := make([]int, 2*nk+1)
	lists := make([]neighbour, 0, (nf+np)/2)
	for _, prec := range []bool{false, true} {
		keys = keys[:0]
		eachSample(samples, rk, func(b []byte, rs []uint32) {
			for i, r := range rs {
				switch {
				case r == 0:
				case !prec && len(b)-i > histHashBytes+8 && rs[i+histHashBytes] != 0:
					keys = append(keys, uint64(r)<<rb|uint64(rs[i+histHashBytes]))
				case prec && i > histHashBytes && rs[i-histHashBytes] != 0:
					keys = append(keys, uint64(r)<<rb|uint64(rs[i-histHashBytes]))
				}
			}
		})
		pairs := radixSort(keys, tmp[:len(keys)], 2*rb)
		for i := 0; i < len(pairs); {
			key := pairs[i]
			j := i + 1
			for j < len(pairs) && pairs[j] == key {
				j++
			}
			l := int(key>>rb) - 1
			if prec {
				l += nk
			}
			start[l+1]++
			lists = append(lists, neighbour{uint32(key & (1<<rb - 1)), uint32(j - i)})
			i = j
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	follow := func(r uint32) []neighbour { return lists[start[r-1]:start[r]] }
	precede := func(r uint32) []neighbour { return lists[start[nk+int(r)-1]:start[nk+int(r)]] }
	strike := func(s []byte) {
		var t8 [8]byte
		copy(t8[:], s)
		if r := t.rank(histHash(binary.LittleEndian.Uint64(t8[:]))); r != 0 {
			kept(r).dead = true
		}
	}

	// Step 4.
	dst := make([][]byte, 0, wantLen/histHashBytes)
	added := 0
	var firstOffsets []int
	for i := range sorted {
		if added > wantLen {
			break
		}
		e := &sorted[i]
		if e.dead || !e.seen {
			continue
		}
		mr := uint32(i + 1)
		want := max(e.n/histHashBytes/4, lowestOcc)
		tmp := make([]byte, 0, 2*histHashBytes)
		best := uint32(0)
		var bestN uint32
		for _, p := range precede(mr) {
			if p.n < want || kept(p.rank).dead {
				continue
			}
			if best == 0 || p.n > bestN {
				best, bestN = p.rank, p.n
			}
		}
		if best != 0 {
			tmp = append(tmp, kept(best).value[:]...)
		}
		tmp = append(tmp, e.value[:]...)
		e.dead = true
		m := mr
		for {
			// The best living successor: most frequent, then the
			// greatest position sum.
			nh, nn := uint32(0), uint32(0)
			for _, p := range follow(m) {
				k := kept(p.rank)
				if k.dead {
					continue
				}
				if nh == 0 || p.n > nn || (p.n == nn && k.off > kept(nh).off) {
					nh, nn = p.rank, p.n
				}
			}
			if nh == 0 {
				// Step back two bytes to a string that still has a
				// living successor.
				const stepBack = 2
				if len(tmp) < histHashBytes+stepBack {
					break
				}
				var t8 [8]byte
				copy(t8[:], tmp[len(tmp)-histHashBytes-stepBack:])
				sr := t.rank(histHash(binary.LittleEndian.Uint64(t8[:])))
				if sr == 0 || kept(sr).dead {
					break
				}
				alive := false
				for _, p := range follow(sr) {
					if !kept(p.rank).dead {
						alive = true
						break
					}
				}
				if !alive {
					break
				}
				tmp = tmp[:len(tmp)-stepBack]
				m = sr
				continue
			}
			stopAfter := nn < want
			m = nh
			// Strike every string inside the joint, against stutter.
			var toDel [16 + 8]byte
			copy(toDel[:], tmp[len(tmp)-histHashBytes:])
			copy(toDel[histHashBytes:], kept(m).value[:])
			for j := range 2 * histHashBytes {
				strike(toDel[j:])
			}
			tmp = append(tmp, kept(m).value[:]...)
			if stopAfter {
				break
			}
		}
		// Strike the substrings used.
		if len(tmp) > histHashBytes {
			for j := range len(tmp) - histHashBytes + 1 {
				strike(tmp[j:])
			}
		}
		dst = append(dst, tmp)
		added += len(tmp)
		if len(firstOffsets) < 3 {
			firstOffsets = firstOffset(samples, tmp, added, firstOffsets)
		}
	}

	// Step 5.
	written := 0
	for i, w := range dst {
		if len(w)+written > wantLen {
			w = w[:wantLen-written]
		}
		dst[i] = w
		written += len(w)
		if written >= wantLen {
			dst = dst[:i+1]
			break
		}
	}
	hist := make([]byte, 0, written)
	for i := range dst {
		hist = append(hist, dst[len(dst)-i-1]...)
	}
	for i, off := range firstOffsets {
		if i >= 3 || off == 0 || off >= len(hist) {
			break
		}
		offsetsZstd[i] = off
	}
	return hist, offsetsZstd, nil
}

// eachSample calls fn with each sample of 8 bytes or more and the ranks
// of its positions (rk holds every sample's, back to back).
func eachSample(samples [][]byte, rk []uint32, fn func(b []byte, rs []uint32)) {
	base := 0
	for _, b := range samples {
		n := len(b) - 7
		if n <= 0 {
			continue
		}
		fn(b, rk[base:base+n])
		base += n
	}
}

// firstOffset appends to offs the offset (from the end of the history so
// far, added bytes) at which chain's first 16 bytes start in the most
// samples, when more than one: a repeat offset worth starting with.
func firstOffset(samples [][]byte, chain []byte, added int, offs []int) []int {
	if len(chain) > 16 {
		chain = chain[:16]
	}
	offCnt := make(map[int]int)
	for _, b := range samples {
		if off := bytes.Index(b, chain); off >= 0 {
			offCnt[off]++
		}
	}
	for _, off := range offs {
		delete(offCnt, off-added)
	}
	maxCnt, maxOffset := 0, 0
	for k, v := range offCnt {
		if v > maxCnt || (v == maxCnt && k > maxOffset) {
			maxCnt, maxOffset = v, k
		}
	}
	if maxCnt > 1 {
		offs = append(offs, maxOffset+added)
	}
	return offs
}
