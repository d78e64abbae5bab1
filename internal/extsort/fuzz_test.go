package extsort

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/kvdict/kvdict/internal/escape"
)

// fuzzRecord is one parsed record, or (with bad) one rejected line.
type fuzzRecord struct {
	file     int
	line     int64
	key, val string
}

// naiveParse is the input rules the slow, obvious way: split the whole
// input on \n, drop one trailing \r, skip empty lines and the header, key =
// before the first TAB. It returns the records, the number of counted
// (non-empty, non-header) lines and of rejected ones.
func naiveParse(file int, data []byte, unescape, keyOnly bool, header int64) (recs []fuzzRecord, lines, bad int64) {
	for i, l := range bytes.Split(data, []byte("\n")) {
		ln := int64(i + 1)
		if ln <= header {
			continue
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) == 0 {
			continue
		}
		lines++
		k, v, ok := bytes.Cut(l, []byte("\t"))
		if !ok && keyOnly {
			k, v, ok = l, nil, true
		}
		if ok && unescape {
			var ok1, ok2 bool
			k, ok1 = escape.Unescape(nil, k)
			v, ok2 = escape.Unescape(nil, v)
			ok = ok1 && ok2
		}
		if !ok || len(k) > MaxKeyLen {
			bad++
			continue
		}
		recs = append(recs, fuzzRecord{file, ln, string(k), string(v)})
	}
	return recs, lines, bad
}

// FuzzChunkParse checks the chunk reader and the line parser together
// against naiveParse, at chunk sizes of 1 to 64 bytes, so that lines are
// cut at every possible place, longer than their chunk, CRLF split across
// chunks, and inputs end with or without a newline. The input is split in
// two files to check per-file line numbers and headers.
func FuzzChunkParse(f *testing.F) {
	f.Add([]byte("a\t1\nb\t2\r\n\nc\td\te\nlast\tline"), uint8(3), uint8(0), uint16(9))
	f.Add([]byte("k\\t1\tv\\n\r\nnotab\n\\x\t1\n\tempty key\n"), uint8(1), uint8(1), uint16(0))
	f.Add([]byte("header\nkey only\nk\tv\n\n\r\n"), uint8(7), uint8(2|1<<2), uint16(5))
	f.Add(bytes.Repeat([]byte("a very long key that spans many chunks\tand a value\n"), 4), uint8(0), uint8(3<<2), uint16(60))
	f.Fuzz(func(t *testing.T, data []byte, size, flags uint8, split uint16) {
		data = append([]byte("k"), data...) // never a compression magic
		cs := 1 + int(size)%64
		unescape, keyOnly, header := flags&1 != 0, flags&2 != 0, int64(flags>>2&3)
		cut := int(split) % (len(data) + 1)
		files := [][]byte{data[:cut], data[cut:]}

		var want []fuzzRecord
		var wantLines, wantBad int64
		for i, d := range files {
			r, l, b := naiveParse(i, d, unescape, keyOnly, header)
			want, wantLines, wantBad = append(want, r...), wantLines+l, wantBad+b
		}

		var ins []Input
		for i, d := range files {
			ins = append(ins, Input{Name: fmt.Sprint("in", i), Open: func() (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(d)), nil
			}})
		}
		free := make(chan *chunk, 3)
		for range 3 {
			free <- &chunk{buf: make([]byte, cs)}
		}
		out := make(chan *chunk, 3)
		cr := chunkReader{inputs: ins, free: free, out: out, prog: new(Progress)}
		done := make(chan error, 1)
		go func() { done <- cr.run(context.Background()) }()
		var skips skipLog
		p := &lineParser{names: []string{"in0", "in1"}, unescape: unescape, skip: true, skips: &skips, keyOnly: keyOnly, header: header}
		var got []fuzzRecord
		var lines int64
		for c := range out {
			n, err := p.each(c, func(k, v []byte, seq uint64) error {
				got = append(got, fuzzRecord{seqFile(seq), seqLine(seq), string(k), string(v)})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			lines += n
			free <- c
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if lines != wantLines || skips.n != wantBad {
			t.Fatalf("chunk %d: %d lines, %d bad; want %d, %d", cs, lines, skips.n, wantLines, wantBad)
		}
		if len(got) != len(want) {
			t.Fatalf("chunk %d: %d records, want %d:\ngot  %+v\nwant %+v", cs, len(got), len(want), got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("chunk %d: record %d is %+v, want %+v", cs, i, got[i], want[i])
			}
		}
	})
}
