package zrec_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
)

var sizeTSV = flag.String("zrec.tsv", "", "TSV (key TAB value) for BenchmarkGroupSizes; default the repository's pypi-sample.tsv")

// BenchmarkGroupSizes measures what grouping costs and buys on a real TSV:
// keyed records (uvarint key length, key, value) in key order, cut into
// groups by count or byte budget, compressed with a dictionary trained by
// the default Trainer. It reports stored bytes per key (B/key, checksums
// included) and the decode time per group (ns/op), e.g.
//
//	go test ./internal/zrec -run '^$' -bench GroupSizes -args -zrec.tsv=pypi.tsv
func BenchmarkGroupSizes(b *testing.B) {
	path := *sizeTSV
	var recs [][]byte
	if path == "" {
		recs = keyedLines(pypiLines())
	} else {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var lines [][]byte
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<26)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
		f.Close()
		recs = keyedLines(lines)
	}
	for _, g := range []struct {
		name      string
		n, budget int
	}{{"records=1", 1, 0}, {"records=4", 4, 0}, {"records=8", 8, 0}, {"records=16", 16, 0}, {"default", zrec.DefaultGroupRecords, zrec.DefaultGroupBytes}} {
		b.Run(g.name, func(b *testing.B) {
			var payloads [][]byte
			var p []byte
			n := 0
			for _, r := range recs {
				if n > 0 && (n == g.n || (g.budget > 0 && len(p)+len(r)+2 > g.budget)) {
					payloads, p, n = append(payloads, p), nil, 0
				}
				p = zrec.AppendRecord(p, r)
				n++
			}
			payloads = append(payloads, p)
			tr := zrec.NewTrainer(nil)
			for _, p := range payloads {
				tr.Add(p)
			}
			dict, err := tr.Train()
			if err != nil {
				b.Fatal(err)
			}
			e := mustEncoder(b, dict, nil)
			d := mustDecoder(b, dict, nil)
			var groups [][]byte
			stored := len(dict)
			for _, p := range payloads {
				g := e.AppendGroup(nil, p)
				stored += len(g)
				groups = append(groups, g)
			}
			buf := make([]byte, 0, 1<<16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				buf, _, err = d.AppendPayload(buf[:0], groups[i%len(groups)])
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(stored)/float64(len(recs)), "B/key")
			b.ReportMetric(float64(len(recs))/float64(len(groups)), "records/group")
		})
	}
}

// keyedLines turns TSV lines into keyed records in key order (the last
// value of a key wins), the shape of a keyed value log.
func keyedLines(lines [][]byte) [][]byte {
	m := map[string][]byte{}
	for _, l := range lines {
		k, v, _ := bytes.Cut(l, []byte("\t"))
		m[string(k)] = v
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = append(append(binary.AppendUvarint(nil, uint64(len(k))), k...), m[k]...)
	}
	return out
}
