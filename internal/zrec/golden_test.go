package zrec_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.* from the current encoder")

// goldenRecords are the records of the compressed golden group.
var goldenRecords = [][]byte{
	[]byte("requests\t2.31.0\t2023-05\t1\tPython HTTP for Humans."),
	[]byte("requests-oauthlib\t1.3.1\t2022-01\t60\tOAuthlib authentication support for Requests."),
	[]byte("requests-toolbelt\t1.0.0\t2023-05\t110\tA utility belt for advanced users of python-requests"),
	{},
}

// Ensure that the stored bytes of the format never change meaning:
//   - the raw group of the package doc's worked example is byte-exact;
//   - testdata/golden.zrec (a compressed group) and testdata/golden.dict
//     (its dictionary), written once by an earlier encoder, decode to the
//     same records forever. The encoder's exact compressed bytes may change
//     with klauspost/compress versions; what old files decode to may not.
func TestGolden(t *testing.T) {
	// Worked example of doc.go: "hello" and "" stored raw, with checksum.
	e := mustEncoder(t, nil, nil)
	payload := zrec.AppendRecord(zrec.AppendRecord(nil, []byte("hello")), nil)
	got := e.AppendGroup(nil, payload)
	want := []byte{0x0f, 0x05, 'h', 'e', 'l', 'l', 'o', 0x00, 0x78, 0x0f, 0x28, 0x7f}
	if !bytes.Equal(got, want) {
		t.Fatalf("worked example:\n got % x\nwant % x", got, want)
	}

	groupPath := filepath.Join("testdata", "golden.zrec")
	dictPath := filepath.Join("testdata", "golden.dict")
	if *update {
		tr := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: 4 << 10, SampleBytes: 256 << 10})
		for _, g := range groupsOf(pypiLines()[:4000], 8) {
			tr.Add(g)
		}
		dict, err := tr.Train()
		if err != nil || dict == nil {
			t.Fatalf("train: %v", err)
		}
		var p []byte
		for _, r := range goldenRecords {
			p = zrec.AppendRecord(p, r)
		}
		g := mustEncoder(t, dict, nil).AppendGroup(nil, p)
		if g[0]&1 != 0 {
			t.Fatal("golden group did not compress")
		}
		if err := os.WriteFile(dictPath, dict, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(groupPath, g, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dict, err := os.ReadFile(dictPath)
	if err != nil {
		t.Fatal(err)
	}
	g, err := os.ReadFile(groupPath)
	if err != nil {
		t.Fatal(err)
	}
	if g[0]&1 != 0 {
		t.Fatal("golden group is raw; it must exercise zstd")
	}
	d := mustDecoder(t, dict, nil)
	for i, r := range goldenRecords {
		got, err := d.AppendRecord(nil, g, i)
		if err != nil || !bytes.Equal(got, r) {
			t.Fatalf("golden record %d = %q, %v; want %q", i, got, err, r)
		}
	}
	if n, err := d.GroupLen(g); err != nil || n != len(g) {
		t.Fatalf("GroupLen = %d, %v; want %d", n, err, len(g))
	}
}

// Ensure that a treeless group (literals coded with the dictionary's
// Huffman tree, treeless.go) decodes to the same records forever:
// testdata/golden-treeless.zrec with testdata/golden-treeless.dict, both
// written once by the encoder that introduced the rewrite (-update). The
// first block's literals section must be treeless (type 3), so that the
// file keeps exercising that path.
func TestGoldenTreeless(t *testing.T) {
	groupPath := filepath.Join("testdata", "golden-treeless.zrec")
	dictPath := filepath.Join("testdata", "golden-treeless.dict")
	if *update {
		tr := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: 4 << 10, SampleBytes: 256 << 10, Seed: 1})
		for _, g := range groupsOf(pypiLines()[:4000], 8) {
			tr.Add(g)
		}
		dict, err := tr.Train()
		if err != nil || dict == nil {
			t.Fatalf("train: %v", err)
		}
		var p []byte
		for _, r := range goldenRecords {
			p = zrec.AppendRecord(p, r)
		}
		g := mustEncoder(t, dict, nil).AppendGroup(nil, p)
		if !isTreeless(t, g) {
			t.Fatal("golden group is not treeless")
		}
		if err := os.WriteFile(dictPath, dict, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(groupPath, g, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dict, err := os.ReadFile(dictPath)
	if err != nil {
		t.Fatal(err)
	}
	g, err := os.ReadFile(groupPath)
	if err != nil {
		t.Fatal(err)
	}
	if !isTreeless(t, g) {
		t.Fatal("golden-treeless.zrec is not a treeless group")
	}
	d := mustDecoder(t, dict, nil)
	for i, r := range goldenRecords {
		got, err := d.AppendRecord(nil, g, i)
		if err != nil || !bytes.Equal(got, r) {
			t.Fatalf("golden record %d = %q, %v; want %q", i, got, err, r)
		}
	}
}
