package zrec_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
)

// BenchmarkAppendRecord decodes one record of a group of PyPI rows into a
// reused buffer: the work a compressed point lookup adds to Get, with the
// fast decoder (zdec.go) and with klauspost alone. Expect 0 allocations.
func BenchmarkAppendRecord(b *testing.B) {
	for _, per := range []int{1, 4, 8, 16, 32} {
		for _, dec := range []string{"fast", "klauspost"} {
			b.Run(fmt.Sprintf("records=%d/decoder=%s", per, dec), func(b *testing.B) {
				e := mustEncoder(b, trainedDict(), nil)
				d := mustDecoder(b, trainedDict(), nil)
				zrec.SetFast(d, dec == "fast", trainedDict())
				var groups [][]byte
				payloadBytes := 0
				for _, p := range groupsOf(pypiLines()[10000:14000], per) {
					groups = append(groups, e.AppendGroup(nil, p))
					payloadBytes += len(p)
				}
				timeRecordReads(b, d, groups, per, payloadBytes)
			})
		}
	}
}

// timeRecordReads is the timed loop of the record benchmarks: op i
// decodes record i%per of groups[i%len(groups)] into a reused buffer (per
// divides len(groups) or each group holds per records), reporting bytes
// as the mean payload and the thread's CPU per op beside the wall time.
func timeRecordReads(b *testing.B, d *zrec.Decoder, groups [][]byte, per, payloadBytes int) {
	b.SetBytes(int64(payloadBytes / len(groups)))
	buf := make([]byte, 0, 4096)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := threadCPU()
	for i := range b.N {
		var err error
		buf, err = d.AppendRecord(buf[:0], groups[i%len(groups)], i%per)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkAppendGroup encodes groups of 8 PyPI rows with the trained
// dictionary: the build-time cost per group.
func BenchmarkAppendGroup(b *testing.B) {
	e := mustEncoder(b, trainedDict(), nil)
	groups := groupsOf(pypiLines()[10000:14000], 8)
	b.SetBytes(int64(len(groups[0])))
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		buf = e.AppendGroup(buf[:0], groups[i%len(groups)])
	}
}

// BenchmarkTrain trains a 16 KiB dictionary from a 1 MiB sample.
func BenchmarkTrain(b *testing.B) {
	groups := groupsOf(pypiLines(), 8)
	b.ReportAllocs()
	for range b.N {
		t := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: 16 << 10, SampleBytes: 1 << 20})
		for _, g := range groups {
			t.Add(g)
		}
		if _, err := t.Train(); err != nil {
			b.Fatal(err)
		}
	}
}
