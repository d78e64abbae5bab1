package zrec

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// Encoder turns group payloads into stored groups (doc.go). It is safe for
// concurrent use, but compresses one group at a time: a builder writing
// partitions in parallel gives each its own Encoder.
type Encoder struct {
	enc        *zstd.Encoder
	rawLits    *zstd.Encoder // literals left raw for the treeless rewrite; nil unless the tree codes every byte
	dictID     uint32
	lits       *litRecoder // nil: the dictionary's tree cannot code every byte
	seq        *seqEncoder // our own block encoder (seqenc.go); nil: every group goes to enc
	checksum   bool
	scratch    sync.Pool // *scratchPair
	maxPayload atomic.Int64
	raw        atomic.Int64 // groups stored raw
	treeless   atomic.Int64 // groups whose literals use the dictionary's tree
	seqCoded   atomic.Int64 // groups coded by seq
	groups     atomic.Int64
}

// NewEncoder returns an Encoder using dictionary (nil or empty: none), a
// dictionary returned by Trainer.Train or read back from a file.
func NewEncoder(dictionary []byte, o *EncoderOptions) (*Encoder, error) {
	var r EncoderOptions
	if o != nil {
		r = *o
	}
	if r.Level == 0 {
		r.Level = zstd.SpeedFastest
	}
	opts := []zstd.EOption{
		zstd.WithEncoderLevel(r.Level),
		zstd.WithEncoderCRC(false),
		zstd.WithSingleSegment(true),
		zstd.WithEncoderConcurrency(1),
		zstd.WithZeroFrames(true),
	}
	e := &Encoder{checksum: !r.NoChecksum}
	if len(dictionary) > 0 {
		if err := checkDict(dictionary); err != nil {
			return nil, err
		}
		opts = append(opts, zstd.WithEncoderDict(dictionary))
		e.dictID = DictID
		e.lits = newLitRecoder(dictionary)
	}
	enc, err := zstd.NewWriter(nil, opts...)
	if err != nil {
		return nil, fmt.Errorf("zrec: dictionary: %v: %w", err, ErrCorrupt)
	}
	e.enc = enc
	if e.lits != nil && e.lits.complete {
		// The rewrite codes every group's literals with the dictionary's
		// tree, so the zstd encoder need not build a tree of its own that
		// the rewrite would decode and drop (a third of the encoding
		// time): it leaves literals raw, and only a group the rewrite
		// refuses is encoded again by enc.
		raw, err := zstd.NewWriter(nil, append(opts, zstd.WithNoEntropyCompression(true))...)
		if err != nil {
			enc.Close()
			return nil, fmt.Errorf("zrec: dictionary: %v: %w", err, ErrCorrupt)
		}
		e.rawLits = raw
		e.seq = newSeqEncoder(dictionary)
	}
	return e, nil
}

// AppendGroup appends the stored form of one group to dst and returns the
// extended slice. payload is the group's records, built with AppendRecord.
// The group is stored raw when compression would not make it smaller.
func (e *Encoder) AppendGroup(dst, payload []byte) []byte {
	n := len(payload)
	for {
		old := e.maxPayload.Load()
		if int64(n) <= old || e.maxPayload.CompareAndSwap(old, int64(n)) {
			break
		}
	}
	e.groups.Add(1)
	sp, _ := e.scratch.Get().(*scratchPair)
	if sp == nil {
		sp = new(scratchPair)
	}
	defer e.scratch.Put(sp)
	rawLen := uvarintLen(uint64(n)<<flagBits) + n
	var body []byte
	ok := false
	if e.seq != nil {
		// A block that would be stored raw goes to the zstd encoder too:
		// its own tables may code what the dictionary's cannot (offsets
		// of 1 to 4 bytes, say, in runs of a short pattern).
		var treeless bool
		sp.body, ok, treeless = e.seq.appendBlock(sp.body[:0], payload)
		if ok = ok && uvarintLen(uint64(len(sp.body)))+len(sp.body) < n; ok {
			body = sp.body
			e.seqCoded.Add(1)
			if treeless {
				e.treeless.Add(1)
			}
		}
	}
	if n > 0 && !ok && e.rawLits != nil {
		sp.frame = e.rawLits.EncodeAll(payload, sp.frame[:0])
		if b, okb := frameBody(sp.frame, n); okb {
			var recoded bool
			if sp.body, recoded = e.lits.recode(sp.body[:0], b); recoded {
				body, ok = sp.body, true
				e.treeless.Add(1)
			}
		}
	}
	if n > 0 && !ok {
		sp.frame = e.enc.EncodeAll(payload, sp.frame[:0])
		body, ok = frameBody(sp.frame, n)
		if ok && e.lits != nil {
			var recoded bool
			sp.body, recoded = e.lits.recode(sp.body[:0], body)
			body = sp.body
			if recoded {
				e.treeless.Add(1)
			}
		}
	}
	if ok && uvarintLen(uint64(n)<<flagBits)+uvarintLen(uint64(len(body)))+len(body) < rawLen {
		dst = appendHeader(dst, n, false, len(body))
		dst = append(dst, body...)
	} else {
		e.raw.Add(1)
		dst = appendHeader(dst, n, true, n)
		dst = append(dst, payload...)
	}
	if e.checksum {
		dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
	}
	if cap(sp.frame) > 1<<20 || cap(sp.body) > 1<<20 {
		*sp = scratchPair{} // do not pin buffers grown by one huge group
	}
	return dst
}

// scratchPair holds an encoded frame and its rewritten blocks.
type scratchPair struct{ frame, body []byte }

// MaxPayload returns the longest payload encoded so far: the bound a
// writer records so that readers can set DecoderOptions.MaxPayload.
func (e *Encoder) MaxPayload() int { return int(e.maxPayload.Load()) }

// Stats returns how many groups were encoded and how many of them were
// stored raw.
func (e *Encoder) Stats() (groups, raw int64) { return e.groups.Load(), e.raw.Load() }

// Treeless returns how many groups had their literals coded with the
// dictionary's Huffman tree (treeless.go), so that decoding them builds no
// table. Some of them may still have been stored raw.
func (e *Encoder) Treeless() int64 { return e.treeless.Load() }

// Close releases the encoder's resources. The Encoder must not be used
// afterwards.
func (e *Encoder) Close() error {
	if e.rawLits != nil {
		e.rawLits.Close()
	}
	return e.enc.Close()
}

// uvarintLen returns the length of x as a uvarint.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// SeqCoded returns how many groups the Encoder's own block encoder coded
// (seqenc.go); the others went through the zstd encoder.
func (e *Encoder) SeqCoded() int64 { return e.seqCoded.Load() }
