package systems

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/reader"
)

// kvDict is kvdict itself, written through the public builder package (one
// partition, from the sorted stream) and read through reader.
type kvDict struct{}

func init() { register(kvDict{}) }

func (kvDict) Name() string           { return "kvdict" }
func (kvDict) Path(dir string) string { return filepath.Join(dir, "kvdict.dict") }

func (s kvDict) Build(dir, sorted, raw string) error { return s.buildAt(s.Path(dir), sorted) }

// buildAt builds a dictionary (FST only) at p from the sorted stream.
func (kvDict) buildAt(p, sorted string) error {
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	b, err := builder.Create(p, &builder.Options{Tool: "kvbench"})
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

func (s kvDict) Files(dir, raw string) ([]string, error) { return filesUnder(s.Path(dir)) }

func (s kvDict) Open(dir, raw string) (Store, error) { return s.openAt(s.Path(dir)) }

func (kvDict) openAt(path string) (Store, error) {
	d, err := reader.Open(path, nil)
	if err != nil {
		return nil, err
	}
	return kvStore{d}, nil
}

type kvStore struct{ d *reader.Dict }

func (s kvStore) NewGetter() (Getter, error) { return kvGetter(s), nil }
func (s kvStore) Close() error               { return s.d.Close() }

// kvGetter shares the Dict: reader.Dict is safe for concurrent use.
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
