package systems

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/zrec"
	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/valuelog"
)

// kvDict is kvdict itself, written through the public builder package (one
// partition, from the sorted stream) and read through reader, in the
// variants kvbuild's flags choose:
//
//	kvdict            FST and raw values (kvbuild's defaults)
//	kvdict-hash       keyed records and a hash index (--hash-index): Get goes
//	                  through the index, scans read the value log in order
//	kvdict-zstd       values in zstd groups of 8 with a dictionary trained on
//	                  a sample (--compression zstd), read with AppendGet into
//	                  a buffer per getter (no allocation per lookup)
//	kvdict-zstd-hash  both: keyed records in zstd groups, the index naming
//	                  each key's group (--compression zstd --hash-index)
//
// Each takes kvbuild's FST options for its flags: the registry is off for
// raw values and on with compression, so kvdict and kvdict-hash differ only
// in the value log and the index, as do kvdict-zstd and kvdict-zstd-hash.
type kvDict struct {
	name       string
	hash, zstd bool
	// vellumDefaults builds the FST with vellum's own builder defaults (a
	// 10000-row registry) and no top file: the vellum-own reference.
	vellumDefaults bool
}

func init() {
	register(kvDict{name: "kvdict"})
	register(kvDict{name: "kvdict-hash", hash: true})
	register(kvDict{name: "kvdict-zstd", zstd: true})
	register(kvDict{name: "kvdict-zstd-hash", hash: true, zstd: true})
}

func (s kvDict) Name() string           { return s.name }
func (s kvDict) Path(dir string) string { return filepath.Join(dir, s.name+".dict") }

func (s kvDict) Build(dir, sorted, raw string) error { return s.buildAt(s.Path(dir), sorted) }

// buildAt builds the variant's dictionary at p from the sorted stream.
func (s kvDict) buildAt(p, sorted string) error {
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	// The FST registry as kvbuild sets it: off for raw values (its
	// default: the fastest build, and each subtree stays contiguous, so
	// the walker can prefetch it), on with compression (the FST is then
	// most of the size, and suffix sharing halves it on paths).
	o := &builder.Options{Tool: "kvbench", FST: &fst.BuilderOptions{RegistryTableSize: -1}}
	if s.zstd || s.vellumDefaults {
		o.FST = &fst.BuilderOptions{}
	}
	if s.hash {
		o.HashIndex = &hashindex.WriterOptions{}
	} else if !s.zstd && !s.vellumDefaults {
		o.FSTTop = &fst.TopOptions{} // as kvbuild: --fst-top is on without --hash-index and --compression
	}
	if s.zstd {
		dict, err := trainDict(sorted, s.hash)
		if err != nil {
			return err
		}
		o.Compression = &valuelog.Compression{Dict: dict}
	}
	b, err := builder.Create(p, o)
	if err != nil {
		return err
	}
	if err := ReadTSV(sorted, b.Add); err != nil {
		b.Abort()
		return err
	}
	_, err = b.Commit()
	return err
}

// trainDict trains a dictionary as kvbuild does from its input: on groups
// of zrec.DefaultGroupRecords records shaped as the value log will hold
// them (value records, or keyed records when keyed), from sampleChunks
// evenly spaced chunks of sampleChunk bytes of the sorted TSV (1 MiB in
// all, read with ReadAt: the file is not read through). kvbuild trains in
// a goroutine beside its sort; a build from a sorted stream has nothing to
// overlap with, so here training is on the build's critical path.
func trainDict(sorted string, keyed bool) ([]byte, error) {
	const (
		sampleChunks = 64
		sampleChunk  = 16 << 10
	)
	f, err := os.Open(sorted)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	chunks, buf := int64(sampleChunks), make([]byte, sampleChunk)
	if st.Size() <= sampleChunks*sampleChunk { // small: the whole file
		chunks, buf = 1, make([]byte, st.Size())
	}
	tr := zrec.NewTrainer(nil)
	var p []byte
	for i := range chunks {
		n, err := f.ReadAt(buf, i*st.Size()/chunks)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		chunk := buf[:n]
		if i > 0 { // drop the partial first line
			if j := bytes.IndexByte(chunk, '\n'); j >= 0 {
				chunk = chunk[j+1:]
			}
		}
		k := 0
		for len(chunk) > 0 {
			line, rest, ok := bytes.Cut(chunk, []byte("\n"))
			if !ok {
				break // partial last line
			}
			chunk = rest
			key, v, _ := bytes.Cut(line, []byte("\t"))
			if keyed {
				p = append(p, 0) // tag: a record holding its value
				p = binary.AppendUvarint(p, uint64(len(key)))
				p = append(p, key...)
				p = binary.AppendUvarint(p, uint64(len(v)))
				p = append(p, v...)
			} else {
				p = zrec.AppendRecord(p, v)
			}
			if k++; k%zrec.DefaultGroupRecords == 0 {
				tr.Add(p)
				p = p[:0]
			}
		}
		if len(p) > 0 {
			tr.Add(p)
			p = p[:0]
		}
	}
	return tr.Train()
}

func (s kvDict) Files(dir, raw string) ([]string, error) { return filesUnder(s.Path(dir)) }

func (s kvDict) Open(dir, raw string) (Store, error) { return openKVDict(s.Path(dir)) }

func openKVDict(path string) (Store, error) {
	d, err := reader.Open(path, nil)
	if err != nil {
		return nil, err
	}
	return kvStore{d}, nil
}

type kvStore struct{ d *reader.Dict }

// NewGetter returns a Get getter (sharing the Dict, which is safe for
// concurrent use) or, for a compressed dictionary, an AppendGet getter
// with its own buffer.
func (s kvStore) NewGetter() (Getter, error) {
	if s.d.Manifest().Has("zstd-values") || s.d.Manifest().Has("zstd-records") {
		return &kvzGetter{d: s.d, buf: make([]byte, 0, 4096)}, nil
	}
	return kvGetter(s), nil
}

func (s kvStore) Close() error { return s.d.Close() }

type kvGetter kvStore

func (kvGetter) Close() error { return nil }

func (s kvGetter) Get(key []byte) ([]byte, bool, error) {
	v, err := s.d.Get(key)
	if err != nil {
		if errors.Is(err, reader.ErrNotFound) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return v, true, nil
}

// kvzGetter is one goroutine's AppendGet buffer.
type kvzGetter struct {
	d   *reader.Dict
	buf []byte
}

func (*kvzGetter) Close() error { return nil }

func (g *kvzGetter) Get(key []byte) ([]byte, bool, error) {
	v, err := g.d.AppendGet(g.buf[:0], key)
	if err != nil {
		if errors.Is(err, reader.ErrNotFound) {
			return nil, false, nil
		}
		return nil, false, err
	}
	g.buf = v
	return v, true, nil
}

func (s kvStore) Scan(fn func(k, v []byte)) (int, error) {
	it := s.d.All()
	defer it.Close()
	n := 0
	for it.Next() {
		fn(it.Key(), it.Value())
		n++
	}
	return n, it.Err()
}
