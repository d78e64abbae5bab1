package zrec_test

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
)

// pypiLines returns the lines of the repository's testdata/pypi-sample.tsv
// (40,000 real PyPI rows): the text shape zrec is for.
var pypiLines = sync.OnceValue(func() [][]byte {
	_, file, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "pypi-sample.tsv"))
	if err != nil {
		panic(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
})

// groupsOf cuts records into payloads of per records each.
func groupsOf(recs [][]byte, per int) [][]byte {
	var out [][]byte
	var p []byte
	for i, r := range recs {
		p = zrec.AppendRecord(p, r)
		if (i+1)%per == 0 {
			out = append(out, p)
			p = nil
		}
	}
	if p != nil {
		out = append(out, p)
	}
	return out
}

// trainedDict trains a dictionary on groups of 8 PyPI rows.
var trainedDict = sync.OnceValue(func() []byte {
	t := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: 16 << 10, SampleBytes: 1 << 20})
	for _, g := range groupsOf(pypiLines(), 8) {
		t.Add(g)
	}
	d, err := t.Train()
	if err != nil || d == nil {
		panic("training failed")
	}
	return d
})

// randBytes returns n deterministic pseudo-random (incompressible) bytes.
func randBytes(seed uint64, n int) []byte {
	var s [32]byte
	s[0] = byte(seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

func mustEncoder(t testing.TB, dict []byte, o *zrec.EncoderOptions) *zrec.Encoder {
	t.Helper()
	e, err := zrec.NewEncoder(dict, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func mustDecoder(t testing.TB, dict []byte, o *zrec.DecoderOptions) *zrec.Decoder {
	t.Helper()
	d, err := zrec.NewDecoder(dict, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}
