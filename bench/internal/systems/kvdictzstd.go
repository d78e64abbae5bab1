package systems

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/internal/zrec"
	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/valuelog"
)

// kvDictZstd is kvdict with compressed values (builder.Options.Compression,
// kvbuild --compression zstd: distinct values in zstd groups of 8 with a
// dictionary trained on a sample of the values), read with AppendGet into
// a buffer per getter (no allocation per lookup). Same FST options as
// kvdict, so the two differ only in the value log.
type kvDictZstd struct{}

func init() { register(kvDictZstd{}) }

func (kvDictZstd) Name() string           { return "kvdict-zstd" }
func (kvDictZstd) Path(dir string) string { return filepath.Join(dir, "kvdict-zstd.dict") }

func (s kvDictZstd) Build(dir, sorted, raw string) error {
	p := s.Path(dir)
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	dict, err := trainValues(sorted)
	if err != nil {
		return err
	}
	b, err := builder.Create(p, &builder.Options{Tool: "kvbench", Compression: &valuelog.Compression{Dict: dict}})
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

// trainValues trains a dictionary on groups of 8 value records sampled
// from the sorted TSV, as kvbuild does from its input (bounded: the
// Trainer keeps a 1 MiB sample).
func trainValues(sorted string) ([]byte, error) {
	f, err := os.Open(sorted)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := zrec.NewTrainer(nil)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<30)
	var p []byte
	n := 0
	for sc.Scan() {
		_, v, _ := bytes.Cut(sc.Bytes(), []byte("\t"))
		p = zrec.AppendRecord(p, v)
		if n++; n%zrec.DefaultGroupRecords == 0 {
			tr.Add(p)
			p = p[:0]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return tr.Train()
}

func (s kvDictZstd) Files(dir, raw string) ([]string, error) { return filesUnder(s.Path(dir)) }

func (s kvDictZstd) Open(dir, raw string) (Store, error) {
	d, err := reader.Open(s.Path(dir), nil)
	if err != nil {
		return nil, err
	}
	return kvzStore{kvStore{d}}, nil
}

type kvzStore struct{ kvStore }

func (s kvzStore) NewGetter() (Getter, error) {
	return &kvzGetter{d: s.d, buf: make([]byte, 0, 4096)}, nil
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
