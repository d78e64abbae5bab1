package valuelog

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/zrec"
)

// Compressed keyed logs (version 2, codec 1 = CodecZstd in the header
// flags). The keyed records of "Keyed records" are unchanged; they are
// stored in groups of up to zrec.MaxGroupRecords consecutive records, each
// group compressed on its own with zstd and the log's trained dictionary
// (package internal/zrec has the group format byte by byte). Body:
//
//	 0:a       flags (uvarint): bit 0 = every group carries a CRC-32C of
//	           its payload; other bits must be 0
//	 a:b       dictionary length d (uvarint; 0 = no dictionary)
//	 ..+d      the zstd dictionary (zrec: standard format, ID 1)
//	 ...       groups, back to back; a group's payload is its keyed records
//	           back to back (no extra framing)
//	 last 8    max payload (uint64): the longest group payload, which a
//	           reader enforces before allocating
//
// A record's address (the FST output) is its group's absolute file offset
// shifted left by 4, plus its index in the group (0..15). A tag-0x01
// record's back distance d is measured in that address space: the value is
// that of the tag-0x00 record at address-d (never another reference).
// The footer's count is the number of records (= keys).
//
// Worked example (testdata/golden-v2-zstd.vlog, pinned by TestZstd_Golden):
// "a" -> "x", "b" -> "", "c" -> "x" without a dictionary, with checksums;
// the one group is too small to shrink, so it is stored raw:
//
//	off  0: 6b 76 64 56 4c 4f 47 00 02 00 00 00 01 00 00 00   header, version 2, codec 1
//	off 16: 01 00                                             flags: checksums; no dictionary
//	off 18: 1d                                                group: n = 14, raw
//	off 19: 00 01 61 01 78  00 01 62 00  00 01 63 01 78       "a"->"x" (address 18<<4|0),
//	                                                          "b"->"" (|1), "c"->"x" (|2)
//	off 33: 85 8b d5 79                                       CRC-32C of the 14 payload bytes
//	off 37: 0e 00 00 00 00 00 00 00                           max payload 14
//	off 45: 03 00 00 00 00 00 00 00  1d 00 00 00 00 00 00 00   count 3, body length 29
//	        db 56 24 fe  99 51 99 0a  6b 76 64 56 4c 4f 47 00   body CRC, footer CRC, magic
//
// ("c" repeats "x" inline: references are only written for values of 16
// bytes or more, since resolving one decodes a second group.)
//
// Reading a compressed record decodes its group (about 150 ns + 2 ns per
// payload byte), so Record, Match and Value return fresh slices (they
// allocate); AppendValue and MatchAppend decode into the caller's buffer and
// do not allocate.

// CodecZstd is the header-flags codec of a compressed keyed log.
const CodecZstd = 1

// AddrShift is how far a compressed log shifts a group's file offset to
// make room for the record index in an address.
const AddrShift = 4

// zstdFlagChecksum is bit 0 of the body's flags.
const zstdFlagChecksum = 1

// maxPayloadTrailer is the length of the body's max-payload trailer.
const maxPayloadTrailer = 8

// Compression configures a compressed log (WriterOptions.Compression): of
// keyed records (WriterOptions.Keyed, this file) or of values only
// (zvalues.go).
type Compression struct {
	// Dict is the zstd dictionary, from zrec.Trainer.Train; nil compresses
	// without one.
	Dict []byte
	// NoChecksum leaves out each group's CRC-32C (see zrec.EncoderOptions).
	NoChecksum bool
	// GroupRecords and GroupBytes close a group (zrec.DefaultGroupRecords
	// and zrec.DefaultGroupBytes when 0; GroupRecords at most
	// zrec.MaxGroupRecords).
	GroupRecords, GroupBytes int
}

// zwriter is the compressed part of a Writer.
type zwriter struct {
	enc      *zrec.Encoder
	payload  []byte // records of the open group
	n        int    // records in the open group
	groupOff uint64 // file offset of the open group
	out      []byte
	maxRecs  int
	maxBytes int
}

func newZwriter(c *Compression) (*zwriter, []byte, error) {
	enc, err := zrec.NewEncoder(c.Dict, &zrec.EncoderOptions{NoChecksum: c.NoChecksum})
	if err != nil {
		return nil, nil, fmt.Errorf("valuelog: %w", err)
	}
	z := &zwriter{enc: enc, maxRecs: c.GroupRecords, maxBytes: c.GroupBytes}
	if z.maxRecs <= 0 {
		z.maxRecs = zrec.DefaultGroupRecords
	}
	z.maxRecs = min(z.maxRecs, zrec.MaxGroupRecords)
	if z.maxBytes <= 0 {
		z.maxBytes = zrec.DefaultGroupBytes
	}
	var flags uint64
	if !c.NoChecksum {
		flags |= zstdFlagChecksum
	}
	head := binary.AppendUvarint(nil, flags)
	head = binary.AppendUvarint(head, uint64(len(c.Dict)))
	head = append(head, c.Dict...)
	return z, head, nil
}

// reserveZ makes room in the open group for a record of recLen bytes,
// closing the group first when it is full, and returns the record's
// address (group offset << AddrShift | index).
func (w *Writer) reserveZ(recLen int) (uint64, error) {
	z := w.z
	if z.n > 0 && (z.n == z.maxRecs || len(z.payload)+recLen > z.maxBytes) {
		if err := w.flushGroup(); err != nil {
			return 0, err
		}
	}
	if z.n == 0 {
		z.groupOff = frame.HeaderLen + w.fw.Len()
	}
	return z.groupOff<<AddrShift | uint64(z.n), nil
}

// appendKeyedZ adds a keyed record to the open group (closing it first if
// full) and returns its address.
func (w *Writer) appendKeyedZ(key, value []byte) (uint64, error) {
	z := w.z
	addr, err := w.reserveZ(1 + uvarintLen(uint64(len(key))) + len(key) + uvarintLen(uint64(len(value))) + len(value))
	if err != nil {
		return 0, err
	}
	c := w.cache
	var h uint64
	// A reference costs a second group decode: only for values of 16
	// bytes or more; zstd codes shorter repeats in a few bytes anyway.
	cache := c != nil && len(value) >= 16 && c.cacheable(value)
	if cache {
		h = c.hash(value)
		if ref, ok := c.lookup(h, value); ok {
			z.payload = append(z.payload, tagRef)
			z.payload = binary.AppendUvarint(z.payload, uint64(len(key)))
			z.payload = append(z.payload, key...)
			z.payload = binary.AppendUvarint(z.payload, addr-ref)
			z.n++
			w.stats.Appends++
			w.stats.Records++
			w.stats.DedupHits++
			return addr, nil
		}
	}
	z.payload = append(z.payload, tagValue)
	z.payload = binary.AppendUvarint(z.payload, uint64(len(key)))
	z.payload = append(z.payload, key...)
	z.payload = binary.AppendUvarint(z.payload, uint64(len(value)))
	z.payload = append(z.payload, value...)
	z.n++
	w.stats.Appends++
	w.stats.Records++
	if cache {
		c.insert(h, value, addr)
	}
	return addr, nil
}

// flushGroup compresses and writes the open group, if any.
func (w *Writer) flushGroup() error {
	z := w.z
	if z.n == 0 {
		return nil
	}
	z.out = z.enc.AppendGroup(z.out[:0], z.payload)
	w.stats.PayloadBytes += uint64(len(z.payload))
	if _, err := w.fw.Write(z.out); err != nil {
		return w.fail(z.groupOff, err)
	}
	z.payload, z.n = z.payload[:0], 0
	if cap(z.payload) > 1<<20 {
		z.payload = nil // one huge value must not pin its buffer
	}
	return nil
}

// closeZ writes the last group and the max-payload trailer.
func (w *Writer) closeZ() error {
	if err := w.flushGroup(); err != nil {
		return err
	}
	var t [maxPayloadTrailer]byte
	binary.LittleEndian.PutUint64(t[:], uint64(w.z.enc.MaxPayload()))
	if _, err := w.fw.Write(t[:]); err != nil {
		return w.fail(frame.HeaderLen+w.fw.Len(), err)
	}
	return w.z.enc.Close()
}

// zlog is the compressed part of a Log.
type zlog struct {
	dec        *zrec.Decoder
	first      uint64 // file offset of the first group
	end        int    // file offset where the groups end (the trailer starts)
	maxPayload int
	pool       sync.Pool   // *[]byte payload buffers
	cache      *groupCache // value-only logs: decoded groups for point lookups
	dict       []byte      // the zstd dictionary (aliases the loaded bytes), nil without one
}

// loadZ parses a codec-1 body: flags, dictionary and trailer.
func loadZ(data []byte, bodyEnd int) (*zlog, error) {
	p := frame.HeaderLen
	if bodyEnd-p < maxPayloadTrailer {
		return nil, fmt.Errorf("valuelog: compressed body of %d bytes has no room for its trailer: %w", bodyEnd-p, ErrCorrupt)
	}
	end := bodyEnd - maxPayloadTrailer
	flags, a := binary.Uvarint(data[p:end])
	if a <= 0 || flags&^zstdFlagChecksum != 0 {
		return nil, fmt.Errorf("valuelog: compressed body flags unreadable or unknown: %w", ErrCorrupt)
	}
	p += a
	d, b := binary.Uvarint(data[p:end])
	if b <= 0 || d > uint64(end-p-b) {
		return nil, fmt.Errorf("valuelog: dictionary length unreadable or past the body: %w", ErrCorrupt)
	}
	p += b
	dict := data[p : p+int(d)]
	p += int(d)
	maxPayload := binary.LittleEndian.Uint64(data[end:bodyEnd])
	if maxPayload > 1<<31-1 {
		return nil, fmt.Errorf("valuelog: max payload %d: %w", maxPayload, ErrCorrupt)
	}
	dec, err := zrec.NewDecoder(dict, &zrec.DecoderOptions{
		MaxPayload: max(int(maxPayload), 1),
		NoChecksum: flags&zstdFlagChecksum == 0,
	})
	if err != nil {
		return nil, fmt.Errorf("valuelog: %w", err)
	}
	var zd []byte
	if d > 0 {
		zd = dict[:d:d]
	}
	return &zlog{dec: dec, first: uint64(p), end: end, maxPayload: max(int(maxPayload), 1), cache: new(groupCache), dict: zd}, nil
}

// group decodes the group at address addr (index bits ignored) into dst
// (appending) and returns the payload and the group's file offset.
func (z *zlog) group(data []byte, dst []byte, addr uint64) (payload []byte, goff uint64, err error) {
	goff = addr >> AddrShift
	if goff < z.first || goff >= uint64(z.end) {
		return nil, goff, corruptf(addr, "group offset %d outside [%d, %d)", goff, z.first, z.end)
	}
	start := len(dst)
	out, _, err := z.dec.AppendPayload(dst, data[goff:z.end])
	if err != nil {
		return nil, goff, fmt.Errorf("valuelog: group at offset %d: %w", goff, err)
	}
	return out[start:], goff, nil
}

// nextKeyed decodes the keyed record at position p of a group payload: the
// key and either the value or a reference distance (dist > 0), and the
// position of the next record. It never panics.
func nextKeyed(payload []byte, p int, addr uint64) (key, val []byte, dist uint64, next int, err error) {
	if p >= len(payload) {
		return nil, nil, 0, 0, corruptf(addr, "record index past the group's last record")
	}
	tag := payload[p]
	if tag > tagRef {
		return nil, nil, 0, 0, corruptf(addr, "unknown record tag 0x%02x", tag)
	}
	p++
	k, n := binary.Uvarint(payload[p:])
	if n <= 0 || k > MaxKeyLen || k > uint64(len(payload)-p-n) {
		return nil, nil, 0, 0, corruptf(addr, "bad key length")
	}
	p += n
	key = payload[p : p+int(k) : p+int(k)]
	p += int(k)
	x, n := binary.Uvarint(payload[p:])
	if n <= 0 {
		return nil, nil, 0, 0, corruptf(addr, "bad value length or reference varint")
	}
	p += n
	if tag == tagRef {
		if x == 0 {
			return nil, nil, 0, 0, corruptf(addr, "reference distance 0")
		}
		return key, nil, x, p, nil
	}
	if x > uint64(len(payload)-p) {
		return nil, nil, 0, 0, corruptf(addr, "value length %d runs past the group payload", x)
	}
	q := p + int(x)
	return key, payload[p:q:q], 0, q, nil
}

// keyedAt decodes record idx of a group payload.
func keyedAt(payload []byte, idx int, addr uint64) (key, val []byte, dist uint64, err error) {
	p := 0
	for i := 0; ; i++ {
		key, val, dist, p, err = nextKeyed(payload, p, addr)
		if err != nil || i == idx {
			return key, val, dist, err
		}
	}
}

// resolveZ decodes into buf (which must be empty; its capacity is reused)
// the group holding the value of the tag-0x00 record at addr-dist, and
// returns the buffer and that value (aliasing it).
func (l *Log) resolveZ(buf []byte, addr, dist uint64) (out, val []byte, err error) {
	buf = buf[:0]
	z := l.z
	if dist > addr || (addr-dist)>>AddrShift < z.first {
		return buf, nil, corruptf(addr, "reference distance %d points before the first group", dist)
	}
	ref := addr - dist
	payload, _, err := z.group(l.data, buf, ref)
	if err != nil {
		return buf, nil, err
	}
	_, val, d2, err := keyedAt(payload, int(ref&(1<<AddrShift-1)), ref)
	if err == nil && d2 != 0 {
		err = corruptf(addr, "reference to address %d, which is a reference", ref)
	}
	return payload, val, err
}

// appendRecordZ appends the key and value of the record at addr to dst and
// returns dst and the key length (key = out[start:start+kl], value after).
func (l *Log) appendRecordZ(dst []byte, addr uint64) (out []byte, kl int, err error) {
	z := l.z
	bp := z.getBuf()
	defer z.putBuf(bp)
	payload, _, err := z.group(l.data, (*bp)[:0], addr)
	if err != nil {
		return dst, 0, err
	}
	*bp = payload[:0]
	key, val, dist, err := keyedAt(payload, int(addr&(1<<AddrShift-1)), addr)
	if err != nil {
		return dst, 0, err
	}
	dst = append(dst, key...)
	if dist == 0 {
		return append(dst, val...), len(key), nil
	}
	buf, val, err := l.resolveZ(payload[:0], addr, dist)
	*bp = buf[:0]
	if err != nil {
		return dst[:len(dst)-len(key)], 0, err
	}
	return append(dst, val...), len(key), nil
}

func (z *zlog) putBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		*b = nil // a group holding a huge value must not stay pinned
	}
	z.pool.Put(b)
}

func (z *zlog) getBuf() *[]byte {
	if b, _ := z.pool.Get().(*[]byte); b != nil {
		return b
	}
	b := make([]byte, 0, 4096)
	return &b
}

// AppendValue appends the value of the record at off to dst and returns the
// extended slice. For a compressed log it decodes the record's group into a
// pooled buffer and copies the value: it does not allocate when dst has
// room for the value. For a raw log it copies the value from the mapping.
func (l *Log) AppendValue(dst []byte, off uint64) ([]byte, error) {
	if l.z == nil {
		v, err := l.Value(off)
		return append(dst, v...), err
	}
	if !l.keyed {
		return l.appendValueAt(dst, off)
	}
	start := len(dst)
	out, kl, err := l.appendRecordZ(dst, off)
	if err != nil {
		return dst, err
	}
	k := copy(out[start:], out[start+kl:])
	return out[:start+k], nil
}

// MatchAppend reports whether the keyed record at off holds key and, if it
// does, appends its value to dst (see AppendValue for allocations).
func (l *Log) MatchAppend(dst []byte, off uint64, key []byte) ([]byte, bool, error) {
	if l.z == nil {
		v, ok, err := l.Match(off, key)
		if !ok || err != nil {
			return dst, ok, err
		}
		return append(dst, v...), true, nil
	}
	start := len(dst)
	out, kl, err := l.appendRecordZ(dst, off)
	if err != nil {
		return dst, false, err
	}
	if string(out[start:start+kl]) != string(key) {
		return dst, false, nil
	}
	k := copy(out[start:], out[start+kl:])
	return out[:start+k], true, nil
}

// Compressed reports whether the log's records are compressed (codec 1).
func (l *Log) Compressed() bool { return l.z != nil }

// MatchGroupAppend looks for key among the keyed records of the group at
// addr (index bits ignored) in a compressed keyed log, and if one holds it
// appends its value to dst. It is how a hash index over groups (hashindex
// shift 4) confirms a candidate: an absent key never matches. It decodes
// the group into pooled scratch, so it does not allocate when dst has room
// for the value. Errors wrap ErrCorrupt; on a log that is not compressed
// and keyed it returns ErrKeyed.
func (l *Log) MatchGroupAppend(dst []byte, addr uint64, key []byte) ([]byte, bool, error) {
	return l.findInGroup(dst, addr, key, true)
}

// GroupHas reports whether a keyed record of the group at addr holds key,
// as MatchGroupAppend does, without reading the value: Contains over a
// hash index of groups. It does not allocate.
func (l *Log) GroupHas(addr uint64, key []byte) (bool, error) {
	_, ok, err := l.findInGroup(nil, addr, key, false)
	return ok, err
}

// findInGroup decodes the group at addr into pooled scratch and walks its
// keyed records for key; with value, it appends the key's value to dst
// (following a reference).
func (l *Log) findInGroup(dst []byte, addr uint64, key []byte, value bool) ([]byte, bool, error) {
	if l.z == nil || !l.keyed {
		return dst, false, ErrKeyed
	}
	z := l.z
	bp := z.getBuf()
	defer z.putBuf(bp)
	payload, _, err := z.group(l.data, (*bp)[:0], addr)
	if err != nil {
		return dst, false, err
	}
	*bp = payload[:0]
	found, at, v, dist := false, uint64(0), []byte(nil), uint64(0)
	err = eachKeyed(payload, addr, func(a uint64, k, val []byte, d uint64) bool {
		found, at, v, dist = string(k) == string(key), a, val, d
		return found
	})
	if err != nil || !found || !value {
		return dst, found && err == nil, err
	}
	if dist != 0 {
		var buf []byte
		buf, v, err = l.resolveZ(payload[:0], at, dist)
		*bp = buf[:0]
		if err != nil {
			return dst, false, err
		}
	}
	return append(dst, v...), true, nil
}

// GroupKeys returns copies of the keys of the group at addr (index bits
// ignored) in a compressed keyed log, in record order: what a hash index
// over groups is verified against. Errors wrap ErrCorrupt; on a log that
// is not compressed and keyed it returns ErrKeyed.
func (l *Log) GroupKeys(addr uint64) ([][]byte, error) {
	if l.z == nil || !l.keyed {
		return nil, ErrKeyed
	}
	payload, _, err := l.z.group(l.data, nil, addr)
	if err != nil {
		return nil, err
	}
	var keys [][]byte
	err = eachKeyed(payload, addr, func(_ uint64, k, _ []byte, _ uint64) bool {
		keys = append(keys, k) // k aliases payload, a fresh allocation
		return false
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// eachKeyed calls fn with the address, key and value (or, dist > 0, the
// reference distance) of each keyed record of a decoded group payload,
// whose group address is addr's (index bits ignored), until fn returns
// true. It fails on a damaged record or on more records than an address
// can name.
func eachKeyed(payload []byte, addr uint64, fn func(a uint64, k, v []byte, dist uint64) bool) error {
	g := addr &^ (1<<AddrShift - 1)
	for i, p := 0, 0; p < len(payload); i++ {
		a := g | uint64(i)
		if i == 1<<AddrShift {
			return corruptf(a, "group holds more than %d records", 1<<AddrShift)
		}
		k, v, dist, next, err := nextKeyed(payload, p, a)
		if err != nil {
			return err
		}
		if fn(a, k, v, dist) {
			return nil
		}
		p = next
	}
	return nil
}

// ZstdDict returns the zstd dictionary the groups of a compressed log are
// coded with (a standard zstd dictionary, ID 1), or nil for a raw log or a
// compressed one written without a dictionary. The slice aliases the
// loaded bytes. An update of a compressed dictionary reuses it, so that
// the rewritten groups compress as well as the base's did.
func (l *Log) ZstdDict() []byte {
	if l.z == nil {
		return nil
	}
	return l.z.dict
}
