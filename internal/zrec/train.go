package zrec

import (
	"container/heap"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/huff0"
	"github.com/klauspost/compress/zstd"
)

// DictID is the ID written into every dictionary this package trains (and
// so into every implied frame header that uses one). One dictionary serves
// a whole value log, so a constant is enough.
const DictID = 1

// minTrainBytes is the least sampled data worth training a dictionary on;
// below it Train returns no dictionary.
const minTrainBytes = 8 << 10

// Trainer keeps a uniform random sample of group payloads within a fixed
// memory bound and trains a zstd dictionary from it. Add is O(log k) for k
// kept samples; memory never exceeds TrainOptions.SampleBytes plus ~48
// bytes per kept sample. A Trainer is not safe for concurrent use; a
// builder feeds one per partition from its writer, or shares one behind a
// mutex.
type Trainer struct {
	o     TrainOptions
	rng   uint64
	kept  sampleHeap
	bytes int
	seen  int64
}

// NewTrainer returns an empty Trainer.
func NewTrainer(o *TrainOptions) *Trainer {
	r := o.ensureDefaults()
	return &Trainer{o: r, rng: r.Seed ^ 0x9e3779b97f4a7c15}
}

// sample is one kept sample with its random priority: the sample keeps the
// SampleBytes worth of samples with the smallest priorities, a uniform
// random subset (bottom-k sampling).
type sample struct {
	prio uint64
	data []byte
}

// sampleHeap is a max-heap on prio, so the worst kept sample is at [0].
type sampleHeap []sample

func (h sampleHeap) Len() int           { return len(h) }
func (h sampleHeap) Less(i, j int) bool { return h[i].prio > h[j].prio }
func (h sampleHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sampleHeap) Push(x any)        { *h = append(*h, x.(sample)) }
func (h *sampleHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// next is splitmix64: a fast, seeded, reproducible priority source.
func (t *Trainer) next() uint64 {
	t.rng += 0x9e3779b97f4a7c15
	z := t.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Add offers one sample (typically a group payload) to the Trainer. It
// copies what it keeps; p may be reused after Add returns.
func (t *Trainer) Add(p []byte) {
	t.seen++
	if len(p) == 0 {
		return
	}
	if len(p) > t.o.MaxSample {
		p = p[:t.o.MaxSample]
	}
	prio := t.next()
	for t.bytes+len(p) > t.o.SampleBytes && len(t.kept) > 0 {
		if t.kept[0].prio < prio {
			return // every kept sample beats this one
		}
		worst := heap.Pop(&t.kept).(sample)
		t.bytes -= len(worst.data)
	}
	if t.bytes+len(p) > t.o.SampleBytes {
		return
	}
	heap.Push(&t.kept, sample{prio: prio, data: append([]byte(nil), p...)})
	t.bytes += len(p)
}

// Sampled returns how many samples were offered and how many bytes are
// kept.
func (t *Trainer) Sampled() (offered int64, keptBytes int) { return t.seen, t.bytes }

// Train returns a zstd dictionary trained from the kept samples, or nil
// (no dictionary, still a valid choice for NewEncoder) when the sample is
// too small to be worth one or the builder fails on it. The dictionary's
// content is at most MaxDictSize and at most an eighth of the sampled
// bytes. Training is CPU-heavy (about 0.2 CPU-s for 1 MiB of PyPI values,
// 0.4-1.2 s for 1 MiB of random values over 94 to 4 letters; it takes
// ~60 bytes of memory per sampled byte), so keep SampleBytes small and run
// Train beside other work.
//
// The sample is reproducible for a Seed, and the dictionary is a function
// of the sample: the content is chosen by trainhist.go, whose ties go by
// table order (klauspost/compress/dict, which it replaced, broke them by
// Go map order and gave different bytes from run to run).
// TestBuildHistory_AsGoodAsDictPackage checks that four trainings on one
// sample agree.
func (t *Trainer) Train() ([]byte, error) {
	if t.bytes < minTrainBytes || len(t.kept) < 8 {
		return nil, nil
	}
	size := min(t.o.MaxDictSize, t.bytes/8)
	in := make([][]byte, len(t.kept))
	for i, s := range t.kept {
		in[i] = s.data
	}
	d, err := buildDict(in, size)
	if err != nil {
		// The trainer refuses some degenerate samples (e.g. nothing
		// repeats); no dictionary is the right answer for those.
		return nil, nil
	}
	if c := completeLitTree(d, in); c != nil && usable(c, in[0]) {
		d = c
	}
	if !usable(d, in[0]) {
		// The builder can emit dictionaries that zstd then refuses
		// (seen on near-random samples). No dictionary is still correct.
		return nil, nil
	}
	return d, nil
}

// usable reports whether d loads in both an Encoder and a Decoder and
// round-trips the sample p.
func usable(d, p []byte) bool {
	if checkDict(d) != nil {
		return false
	}
	e, err := NewEncoder(d, nil)
	if err != nil {
		return false
	}
	defer e.Close()
	dec, err := NewDecoder(d, nil)
	if err != nil {
		return false
	}
	defer dec.Close()
	payload := AppendRecord(nil, p)
	got, _, err := dec.AppendPayload(nil, e.AppendGroup(nil, payload))
	return err == nil && string(got) == string(payload)
}

// buildDict chooses the dictionary's content (trainhist.go) and has
// klauspost/compress/zstd build the dictionary's entropy tables from the
// samples coded with it, turning a panic in either (a bug on an unusual
// sample) into an error.
func buildDict(in [][]byte, size int) (d []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("zrec: dictionary builder: %v", r)
		}
	}()
	hist, offsets, err := buildHistory(in, size)
	if err != nil {
		return nil, err
	}
	return zstd.BuildDict(zstd.BuildDictOptions{
		ID:       DictID,
		Contents: in,
		History:  hist,
		Offsets:  offsets,
		Level:    zstd.SpeedFastest,
	})
}

// checkDict checks the fixed fields of a zstd dictionary: the magic and
// the ID this package uses.
func checkDict(d []byte) error {
	if len(d) < 8 || string(d[:4]) != zstdDictMagic {
		return corruptf("dictionary of %d bytes has no zstd dictionary magic", len(d))
	}
	if id := binary.LittleEndian.Uint32(d[4:8]); id != DictID {
		return corruptf("dictionary ID %d, want %d", id, DictID)
	}
	return nil
}

// completeLitTree returns dictionary d with its literals Huffman tree
// rebuilt so that it codes every byte value, or nil when that fails. The
// builder's tree only codes the bytes its sample had as literals, and an
// Encoder can code a group's literals with the dictionary's tree (treeless,
// so a reader builds no table per group: treeless.go) only if the tree
// codes every literal of the group. The new tree follows the literal
// statistics of the samples compressed with d, each byte value counted at
// least once, as libzstd's ZDICT does.
func completeLitTree(d []byte, samples [][]byte) []byte {
	tree, rest, err := huff0.ReadTable(d[8:], nil)
	if err != nil {
		return nil
	}
	if codesAllBytes(tree) {
		return d
	}
	e, err := NewEncoder(d, nil)
	if err != nil {
		return nil
	}
	defer e.Close()
	var hist [256]int
	total := 0
	var s litScratch
	var frame []byte
	for _, p := range samples {
		frame = e.enc.EncodeAll(p, frame[:0])
		body, ok := frameBody(frame, len(p))
		if !ok {
			continue
		}
		lits, _, err := s.blockLiterals(body)
		if err != nil {
			continue
		}
		for _, b := range lits {
			hist[b]++
		}
		total += len(lits)
	}
	if total == 0 {
		return nil
	}
	// A synthetic block with each byte's share of the literals, at least
	// one of every byte, is what the Huffman builder takes.
	const want = 64 << 10
	buf := make([]byte, 0, want+256)
	for b, n := range hist {
		k := max(1, int(int64(n)*want/int64(total)))
		for range k {
			buf = append(buf, byte(b))
		}
	}
	hs := &huff0.Scratch{TableLog: 11}
	if _, _, err := huff0.Compress1X(buf, hs); err != nil || len(hs.OutTable) == 0 {
		return nil
	}
	out := make([]byte, 0, len(d)+len(hs.OutTable))
	out = append(out, d[:8]...)
	out = append(out, hs.OutTable...)
	return append(out, rest...)
}
