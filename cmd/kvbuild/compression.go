package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/kvdict/kvdict/internal/zrec"
)

// Dictionary training for --compression zstd. It runs in a goroutine while
// the input is read and sorted, and the builder waits for it when the
// first partition starts (builder.Options.CompressionDict).

// sampleChunks and sampleChunk shape the sample of a plain input file:
// evenly spaced chunks, so that a sorted input is sampled across its key
// range, not only at its start. Compressed inputs are sampled from their
// first sampleChunks*sampleChunk decompressed bytes; standard input is not
// sampled (it cannot be read twice), so it gets no dictionary. 768 KiB:
// training then ends about when the input is sorted, so the merges do not
// wait for it (pypi.tsv, 2 cores); 1 MiB ended ~0.1 s later for 0.5%
// smaller values, 512 KiB ~0.1 s earlier for 1% bigger ones
// (docs/BENCHMARKS.md §6, "Build time, second pass").
const (
	sampleChunks = 64
	sampleChunk  = 12 << 10
)

// trainDict samples the named inputs and trains a dictionary on groups of
// samples shaped like the records the value logs will hold: keyed records
// when keyed, else value records. Unreadable inputs are skipped: the build
// reports them itself; no sample means no dictionary.
func trainDict(names []string, keyed bool) ([]byte, error) {
	tr := zrec.NewTrainer(nil)
	for _, name := range names {
		if name == "-" {
			continue
		}
		for _, chunk := range sampleFile(name) {
			addLines(tr, chunk, keyed)
		}
	}
	return tr.Train()
}

// sampleFile returns chunks of the file's (decompressed) text.
func sampleFile(name string) [][]byte {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	var r io.Reader
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil
		}
		r = gz
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil
		}
		defer zr.Close()
		r = zr
	default:
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		if size := st.Size(); size > sampleChunks*sampleChunk {
			var out [][]byte
			for i := range int64(sampleChunks) {
				b := make([]byte, sampleChunk)
				n, _ := f.ReadAt(b, i*size/sampleChunks)
				if i > 0 { // drop the partial first line
					if j := bytes.IndexByte(b[:n], '\n'); j >= 0 {
						b = b[j+1 : n]
						n = len(b)
					}
				}
				out = append(out, b[:n])
			}
			return out
		}
		r = f
	}
	b, _ := io.ReadAll(io.LimitReader(r, sampleChunks*sampleChunk))
	return [][]byte{b}
}

// addLines offers a chunk's complete lines to the trainer as group
// payloads of zrec.DefaultGroupRecords records shaped like keyed records
// (tag, key length, key, value length, value) or, unless keyed, like value
// records (value length, value).
func addLines(tr *zrec.Trainer, chunk []byte, keyed bool) {
	var payload []byte
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(chunk))
	sc.Buffer(nil, len(chunk)+1)
	for sc.Scan() {
		k, v, _ := bytes.Cut(sc.Bytes(), []byte("\t"))
		if !keyed {
			payload = zrec.AppendRecord(payload, v)
			if n++; n == zrec.DefaultGroupRecords {
				tr.Add(payload)
				payload, n = payload[:0], 0
			}
			continue
		}
		payload = append(payload, 0)
		payload = binary.AppendUvarint(payload, uint64(len(k)))
		payload = append(payload, k...)
		payload = binary.AppendUvarint(payload, uint64(len(v)))
		payload = append(payload, v...)
		if n++; n == zrec.DefaultGroupRecords {
			tr.Add(payload)
			payload, n = payload[:0], 0
		}
	}
	if n > 0 {
		tr.Add(payload)
	}
}
