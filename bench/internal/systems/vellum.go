package systems

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/blevesearch/vellum"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/mmapfile"
	"github.com/kvdict/kvdict/reader"
	"github.com/kvdict/kvdict/valuelog"
)

// vellumRef is the reference issue 8 measures kvdict's lookups against:
// a kvdict dictionary (FST only) read with vellum's own allocation-free
// lookup (one vellum.Reader per getter) on the FST bytes, plus the value
// read from the value log. It is what kvdict's Get did before it walked the
// FST itself. Single partition only (the builder makes one from the sorted
// stream). Two variants:
//
//	vellum      the FST bytes of the kvdict system (kvbuild's options:
//	            registry off), so kvdict and vellum walk identical bytes
//	vellum-own  the FST as vellum builds it by default (its 10000-row
//	            suffix registry), which is what the issue's "vellum's own
//	            Get" meant until the kvdict system turned the registry off
//	            (0f3e25b): vellum walks registry-off FSTs ~1.3x faster
type vellumRef struct {
	name string
	own  bool
}

func init() {
	register(vellumRef{name: "vellum"})
	register(vellumRef{name: "vellum-own", own: true})
}

func (s vellumRef) Name() string           { return s.name }
func (s vellumRef) Path(dir string) string { return filepath.Join(dir, s.name+".dict") }

func (s vellumRef) Build(dir, sorted, raw string) error {
	return kvDict{name: "kvdict", vellumDefaults: s.own}.buildAt(s.Path(dir), sorted)
}

func (s vellumRef) Files(dir, raw string) ([]string, error) { return filesUnder(s.Path(dir)) }

type vellumStore struct {
	fstFile, logFile *mmapfile.File
	fst              *vellum.FST
	log              *valuelog.Log
}

func (s vellumRef) Open(dir, raw string) (Store, error) {
	path := s.Path(dir)
	d, err := reader.Open(path, nil)
	if err != nil {
		return nil, err
	}
	m := d.Manifest()
	d.Close()
	if len(m.Partitions) != 1 {
		return nil, fmt.Errorf("vellum: %s has %d partitions, this reference reads one", path, len(m.Partitions))
	}
	vs := &vellumStore{}
	if vs.fstFile, err = mmapfile.Open(filepath.Join(path, m.Partitions[0].FST.Name), mmapfile.AdviceNormal); err != nil {
		return nil, err
	}
	if vs.logFile, err = mmapfile.Open(filepath.Join(path, m.Partitions[0].Log.Name), mmapfile.AdviceNormal); err != nil {
		return nil, errors.Join(err, vs.Close())
	}
	file, err := frame.Decode(vs.fstFile.Data, fst.Magic, fst.Version)
	if err != nil {
		return nil, errors.Join(err, vs.Close())
	}
	if vs.fst, err = vellum.Load(file.Body); err != nil {
		return nil, errors.Join(err, vs.Close())
	}
	if vs.log, err = valuelog.Load(vs.logFile.Data); err != nil {
		return nil, errors.Join(err, vs.Close())
	}
	return vs, nil
}

func (s *vellumStore) Close() error {
	var errs []error
	for _, f := range []*mmapfile.File{s.fstFile, s.logFile} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

type vellumGetter struct {
	r   *vellum.Reader
	log *valuelog.Log
}

func (s *vellumStore) NewGetter() (Getter, error) {
	r, err := s.fst.Reader()
	if err != nil {
		return nil, err
	}
	return vellumGetter{r, s.log}, nil
}

func (g vellumGetter) Get(key []byte) ([]byte, bool, error) {
	off, ok, err := g.r.Get(key)
	if err != nil || !ok {
		return nil, false, err
	}
	v, err := g.log.Value(off)
	return v, err == nil, err
}

func (vellumGetter) Close() error { return nil }

func (s *vellumStore) Scan(fn func(k, v []byte)) (int, error) {
	it, err := s.fst.Iterator(nil, nil)
	n := 0
	for err == nil {
		k, off := it.Current()
		v, verr := s.log.Value(off)
		if verr != nil {
			return n, verr
		}
		fn(k, v)
		n++
		err = it.Next()
	}
	if errors.Is(err, vellum.ErrIteratorDone) {
		return n, nil
	}
	return n, err
}
