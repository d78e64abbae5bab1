package zrec_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
)

// treelessDict trains a dictionary on groups of 8 PyPI rows from the first
// half of the sample; the tests encode rows from the second half.
func treelessDict(t testing.TB) []byte {
	t.Helper()
	tr := zrec.NewTrainer(&zrec.TrainOptions{MaxDictSize: 16 << 10, SampleBytes: 512 << 10, Seed: 3})
	for _, g := range groupsOf(pypiLines()[:20000], 8) {
		tr.Add(g)
	}
	d, err := tr.Train()
	if err != nil || d == nil {
		t.Fatalf("train: %v", err)
	}
	return d
}

// isTreeless reports whether a stored group is compressed and its first
// block's literals section is treeless (Literals_Block_Type 3).
func isTreeless(t testing.TB, g []byte) bool {
	t.Helper()
	h, a := binary.Uvarint(g)
	if h&1 != 0 {
		return false
	}
	_, b := binary.Uvarint(g[a:])
	body := g[a+b:]
	return len(body) > 3 && body[3]&3 == 3
}

// Ensure that, with a dictionary the Trainer built, nearly every group's
// literals are coded with the dictionary's Huffman tree (treeless), even
// groups holding bytes the training sample never had, and that every group
// still decodes to its payload.
func TestTreeless_UsesDictionaryTree(t *testing.T) {
	dict := treelessDict(t)
	e := mustEncoder(t, dict, nil)
	d := mustDecoder(t, dict, nil)
	rows := pypiLines()[20000:30000]
	payloads := groupsOf(rows, 8)
	// A group of text with bytes no UTF-8 sample has (0xfe, 0xff) and a
	// control byte: only a tree that codes every byte value can code its
	// literals.
	var odd []byte
	for _, r := range rows[100:108] {
		odd = zrec.AppendRecord(odd, append(append([]byte(nil), r...), 0x01, 0xfe, 0xff))
	}
	// Groups the rewrite refuses go through the zstd encoder's own
	// choices: incompressible bytes, and a 5 MB value (several blocks).
	big := bytes.Repeat(append(append([]byte(nil), rows[5]...), randBytes(9, 40)...), 5<<20/(len(rows[5])+40))
	payloads = append(payloads, zrec.AppendRecord(nil, randBytes(7, 900)), zrec.AppendRecord(nil, big), odd)
	treeless := 0
	for i, p := range payloads {
		g := e.AppendGroup(nil, p)
		if isTreeless(t, g) {
			treeless++
		} else if i == len(payloads)-1 {
			t.Errorf("the group holding bytes 0x01, 0xfe and 0xff is not treeless")
		}
		if i == len(payloads)-3 && g[0]&1 == 0 {
			t.Errorf("the group of random bytes is not stored raw")
		}
		if i == len(payloads)-2 && len(g) > len(p)/4 {
			t.Errorf("the 5 MB group of repeated rows takes %d bytes", len(g))
		}
		got, _, err := d.AppendPayload(nil, g)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("group %d: decoded %d bytes, %v; want the %d-byte payload", i, len(got), err, len(p))
		}
	}
	if treeless < len(payloads)*9/10 {
		t.Fatalf("%d of %d groups treeless, want at least 90%%", treeless, len(payloads))
	}
	if n := e.Treeless(); n != int64(treeless) {
		t.Fatalf("Encoder.Treeless() = %d, counted %d", n, treeless)
	}
}

// Ensure that a dictionary from elsewhere whose tree does not code every
// byte value still works: groups keep the zstd encoder's own trees.
func TestTreeless_IncompleteTreeFallsBack(t *testing.T) {
	dict, err := os.ReadFile(filepath.Join("testdata", "golden.dict")) // trained before trees were completed
	if err != nil {
		t.Fatal(err)
	}
	e := mustEncoder(t, dict, nil)
	d := mustDecoder(t, dict, nil)
	for i, p := range groupsOf(pypiLines()[20000:21000], 8) {
		g := e.AppendGroup(nil, p)
		got, _, err := d.AppendPayload(nil, g)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("group %d: %v", i, err)
		}
	}
}

// Ensure that libzstd (the C reader's decoder) decodes treeless groups with
// the stored dictionary to the same payload: the rewrite stays inside the
// zstd format. Uses the zstd command-line tool; skipped where it is absent.
func TestTreeless_Libzstd(t *testing.T) {
	zstdBin, err := exec.LookPath("zstd")
	if err != nil {
		t.Skip("zstd command not installed (apt-get install zstd)")
	}
	dict := treelessDict(t)
	dir := t.TempDir()
	dictPath := filepath.Join(dir, "dict")
	if err := os.WriteFile(dictPath, dict, 0o644); err != nil {
		t.Fatal(err)
	}
	e := mustEncoder(t, dict, nil)
	var want []byte
	var frames []byte
	checked, literalOnly := 0, 0
	payloads := groupsOf(pypiLines()[30000:30800], 8)
	// Random lowercase letters: no matches, but Huffman still shrinks them,
	// so the group is one treeless literals section and no sequences.
	letters := randBytes(11, 600)
	for i := range letters {
		letters[i] = 'a' + letters[i]%26
	}
	payloads = append(payloads, zrec.AppendRecord(nil, letters))
	for _, p := range payloads {
		g := e.AppendGroup(nil, p)
		if !isTreeless(t, g) {
			continue
		}
		// Rebuild the standard frame (doc.go, "implied frame header").
		h, a := binary.Uvarint(g)
		m, b := binary.Uvarint(g[a:])
		if g[a+b+int(m)-1] == 0 { // Number_of_Sequences 0 ends the block
			literalOnly++
		}
		frames = append(frames, 0x28, 0xb5, 0x2f, 0xfd, 0xe3, 1, 0, 0, 0)
		frames = binary.LittleEndian.AppendUint64(frames, h>>1)
		frames = append(frames, g[a+b:a+b+int(m)]...)
		want = append(want, p...)
		checked++
	}
	if checked < 50 || literalOnly == 0 {
		t.Fatalf("only %d treeless groups to check, %d of them literals only", checked, literalOnly)
	}
	framesPath := filepath.Join(dir, "frames.zst")
	if err := os.WriteFile(framesPath, frames, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(zstdBin, "-q", "-d", "-c", "-D", dictPath, framesPath).Output()
	if err != nil {
		t.Fatalf("zstd -d: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("libzstd decoded %d bytes from %d treeless groups, want %d equal bytes", len(got), checked, len(want))
	}
}
