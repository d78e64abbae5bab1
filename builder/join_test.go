package builder_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/testutil"
	"github.com/kvdict/kvdict/reader"
)

// makeParts builds kvs as n parts in dir, cut by split keys from a sample,
// each range built as a dictionary of its own (2 partitions) and turned
// into a part. It returns the parts in range order.
func makeParts(t *testing.T, dir string, kvs []testutil.KV, n int, opts func(i int) *builder.Options) []*builder.PartInfo {
	t.Helper()
	return makePartsOpts(t, dir, kvs, n, opts)
}

// makePartsTB is makeParts for benchmarks, with the default options.
func makePartsTB(tb testing.TB, dir string, kvs []testutil.KV, n int) []*builder.PartInfo {
	return makePartsOpts(tb, dir, kvs, n, nil)
}

func makePartsOpts(t testing.TB, dir string, kvs []testutil.KV, n int, opts func(i int) *builder.Options) []*builder.PartInfo {
	t.Helper()
	s := builder.NewSampler(1000)
	for _, kv := range kvs {
		s.Add(kv.Key)
	}
	splits := builder.SplitKeys(s.Keys(), n)
	if len(splits) != n-1 {
		t.Fatalf("%d split keys for %d ranges", len(splits), n)
	}
	byRange := make([][]testutil.KV, n)
	for _, kv := range kvs {
		i := builder.RangeOf(splits, kv.Key)
		byRange[i] = append(byRange[i], kv)
	}
	var parts []*builder.PartInfo
	for i := range n {
		scratch := filepath.Join(dir, fmt.Sprintf(".scratch-%d", i))
		var o *builder.Options
		if opts != nil {
			o = opts(i)
		}
		testutil.Build(t, scratch, byRange[i], 2, o)
		p, err := builder.MakePart(scratch, dir, fmt.Sprintf("part-%05d-a1", i), builder.SplitRange(splits, i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(scratch); !os.IsNotExist(err) {
			t.Errorf("MakePart left %s: %v", scratch, err)
		}
		parts = append(parts, p)
	}
	return parts
}

func dumpDict(t *testing.T, path string) []testutil.KV {
	t.Helper()
	d, err := reader.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []testutil.KV
	it := d.All()
	for it.Next() {
		out = append(out, testutil.KV{Key: bytes.Clone(it.Key()), Value: bytes.Clone(it.Value())})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	it.Close()
	for _, kv := range out {
		v, err := d.Get(kv.Key)
		if err != nil || !bytes.Equal(v, kv.Value) {
			t.Fatalf("Get(%q) = %q, %v; iteration gave %q", kv.Key, v, err, kv.Value)
		}
	}
	return out
}

// Ensure a dictionary joined from parts (with hash indexes of different
// seeds) holds exactly what one build of the same pairs holds, reads the
// parts' descriptions back, and links rather than copies the files.
func TestJoin_EqualsSingleBuild(t *testing.T) {
	kvs := testutil.RandomKVs(20000, 7) // binary keys, the empty key, empty values
	dir := t.TempDir()
	hix := func(int) *builder.Options {
		return &builder.Options{HashIndex: &hashindex.WriterOptions{}}
	}
	parts := makeParts(t, filepath.Join(dir), kvs, 5, hix)
	// Read back from disk, as a join on another machine would.
	var read []*builder.PartInfo
	for _, p := range slices.Backward(parts) { // order must not matter
		r, err := builder.ReadPart(filepath.Join(dir, p.Name+builder.PartSuffix))
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, r)
	}
	out := filepath.Join(dir, "joined.kvd")
	m, err := builder.Join(out, read, &builder.JoinOptions{Move: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.Keys != uint64(len(kvs)) || len(m.Partitions) != 10 || m.Build["join.parts"] != "5" {
		t.Errorf("manifest: %d keys, %d partitions, build %v", m.Keys, len(m.Partitions), m.Build)
	}
	single := testutil.MustBuild(t, kvs, 3, hix(0))
	got, want := dumpDict(t, out), dumpDict(t, single)
	if !slices.EqualFunc(got, want, func(a, b testutil.KV) bool {
		return bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value)
	}) {
		t.Fatalf("joined dictionary differs from a single build: %d vs %d pairs", len(got), len(want))
	}
	// An absent key is absent through the hash index too.
	d, _ := reader.Open(out, nil)
	if _, err := d.Get([]byte("\xff\xffno such key")); !errors.Is(err, reader.ErrNotFound) {
		t.Errorf("absent key: %v", err)
	}
	d.Close()
	// Move removed the parts, leaving only the dictionary.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("left in the parts' directory: %v", ents)
	}
}

// Ensure Join refuses parts that do not make one dictionary, writing
// nothing, and says why.
func TestJoin_Refusals(t *testing.T) {
	kvs := testutil.RandomKVs(3000, 11)
	dir := t.TempDir()
	parts := makeParts(t, dir, kvs, 4, nil)
	out := filepath.Join(dir, "out.kvd")
	clone := func() []*builder.PartInfo {
		var c []*builder.PartInfo
		for _, p := range parts {
			r, err := builder.ReadPart(filepath.Join(p.Dir, p.Name+builder.PartSuffix))
			if err != nil {
				t.Fatal(err)
			}
			c = append(c, r)
		}
		return c
	}
	cases := []struct {
		name   string
		edit   func(ps []*builder.PartInfo) []*builder.PartInfo
		target error
		msg    string
	}{
		{"gap", func(ps []*builder.PartInfo) []*builder.PartInfo { return slices.Delete(ps, 2, 3) }, builder.ErrJoin, "are in no part"},
		{"no first", func(ps []*builder.PartInfo) []*builder.PartInfo { return ps[1:] }, builder.ErrJoin, "keys below"},
		{"no last", func(ps []*builder.PartInfo) []*builder.PartInfo { return ps[:3] }, builder.ErrJoin, "up are in no part"},
		{"retry twice", func(ps []*builder.PartInfo) []*builder.PartInfo { return append(ps, ps[1]) }, builder.ErrJoin, "overlap"},
		{"overlap", func(ps []*builder.PartInfo) []*builder.PartInfo {
			ps[1].Range.Hi = append(bytes.Clone(ps[1].Range.Hi), 0)
			return ps
		}, builder.ErrJoin, "overlap"},
		{"policy", func(ps []*builder.PartInfo) []*builder.PartInfo {
			ps[0].Build = map[string]string{"duplicates": "sum"}
			ps[3].Build = map[string]string{"duplicates": "last"}
			return ps
		}, builder.ErrJoin, "different duplicates"},
		{"features", func(ps []*builder.PartInfo) []*builder.PartInfo {
			ps[2].OptionalFeatures = []string{"some-index"}
			return ps
		}, builder.ErrJoin, "different format features"},
		{"count", func(ps []*builder.PartInfo) []*builder.PartInfo {
			ps[1].Partitions[0].Log.Count--
			ps[1].Values-- // consistent, but not what the file says
			return ps
		}, frame.ErrCorrupt, "does not match its part"},
		{"bad description", func(ps []*builder.PartInfo) []*builder.PartInfo {
			ps[0].Keys++
			return ps
		}, builder.ErrJoin, "manifest totals"},
		{"missing file", func(ps []*builder.PartInfo) []*builder.PartInfo {
			ps[3].Dir = t.TempDir()
			return ps
		}, os.ErrNotExist, "part-00003-a1-00000.fst"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := builder.Join(out, c.edit(clone()), nil)
			if !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %v containing %q", err, c.target, c.msg)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("refused join left %s", out)
			}
		})
	}

	// A flipped byte inside a value log: found by the full check only.
	vlog := filepath.Join(dir, parts[1].Partitions[1].Log.Name)
	data, err := os.ReadFile(vlog)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x40
	if err := os.WriteFile(vlog, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := builder.Join(out, clone(), nil); !errors.Is(err, frame.ErrCorrupt) || !strings.Contains(err.Error(), "body checksum") {
		t.Fatalf("flipped byte: %v", err)
	}
	// A cancelled context stops the checksum pass; nothing is written.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := builder.Join(out, clone(), &builder.JoinOptions{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("cancelled join left %s", out)
	}
	if _, err := builder.Join(out, clone(), &builder.JoinOptions{SkipChecksums: true}); err != nil {
		t.Fatalf("SkipChecksums: %v", err)
	}
	// The target now exists.
	if _, err := builder.Join(out, clone(), &builder.JoinOptions{SkipChecksums: true}); !errors.Is(err, builder.ErrExists) {
		t.Fatalf("existing target: %v", err)
	}
}

// Ensure MakePart refuses a dictionary with a key outside the declared
// range, and a name already taken.
func TestMakePart_Refusals(t *testing.T) {
	dir := t.TempDir()
	scratch := filepath.Join(dir, ".scratch")
	kvs := []testutil.KV{{Key: []byte("a")}, {Key: []byte("m")}, {Key: []byte("z")}}
	testutil.Build(t, scratch, kvs, 1, nil)
	_, err := builder.MakePart(scratch, dir, "p", builder.Range{Lo: []byte("b"), Hi: []byte("zz")})
	if !errors.Is(err, builder.ErrPartRange) || !strings.Contains(err.Error(), `"a"`) {
		t.Fatalf("low key: %v", err)
	}
	testutil.Build(t, scratch, kvs, 1, nil)
	_, err = builder.MakePart(scratch, dir, "p", builder.Range{Lo: []byte{}, Hi: []byte("z")})
	if !errors.Is(err, builder.ErrPartRange) || !strings.Contains(err.Error(), `"z"`) {
		t.Fatalf("high key (Hi is excluded): %v", err)
	}
	testutil.Build(t, scratch, kvs, 1, nil)
	if _, err := builder.MakePart(scratch, dir, "p", builder.Range{Lo: []byte{}}); err != nil {
		t.Fatal(err)
	}
	testutil.Build(t, scratch, kvs, 1, nil)
	if _, err := builder.MakePart(scratch, dir, "p", builder.Range{Lo: []byte{}}); err == nil {
		t.Fatal("a second part of the same name was accepted")
	}
	for _, bad := range []string{"", ".hidden", "a/b", "MANIFEST"} {
		if _, err := builder.MakePart(scratch, dir, bad, builder.Range{}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

// Ensure split keys cut a skewed sample into ranges of about equal size,
// never return the empty key or repeat one, and route every key to the
// range that holds it.
func TestSplitKeys(t *testing.T) {
	var sample [][]byte
	for i := range 10000 {
		k := fmt.Sprintf("k%05d", i*i%9973)
		if i%3 == 0 {
			k = "hot" // a third of the rows share one key
		}
		sample = append(sample, []byte(k))
	}
	sample = append(sample, []byte{})
	splits := builder.SplitKeys(slices.Clone(sample), 8)
	if len(splits) == 0 || len(splits) > 7 {
		t.Fatalf("%d splits", len(splits))
	}
	counts := make([]int, len(splits)+1)
	for i, s := range splits {
		if len(s) == 0 || (i > 0 && bytes.Compare(splits[i-1], s) >= 0) {
			t.Fatalf("split %d %q", i, s)
		}
	}
	for _, k := range sample {
		i := builder.RangeOf(splits, k)
		if !builder.SplitRange(splits, i).Contains(k) {
			t.Fatalf("key %q routed to range %d %v", k, i, builder.SplitRange(splits, i))
		}
		counts[i]++
	}
	for i, c := range counts {
		if c > len(sample)/2 {
			t.Errorf("range %d holds %d of %d keys", i, c, len(sample))
		}
	}
	if s := builder.SplitKeys(nil, 4); len(s) != 0 {
		t.Errorf("empty sample: %q", s)
	}
	if s := builder.SplitKeys([][]byte{[]byte("x"), []byte("x")}, 4); len(s) != 1 {
		t.Errorf("one distinct key: %q", s)
	}
}
