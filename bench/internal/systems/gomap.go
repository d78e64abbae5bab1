package systems

import (
	"os"
	"unsafe"
)

// goMap is the "just load it into RAM" baseline: every process reads the
// original TSV into its own map[string]string. Nothing is built; its size
// on disk is the TSV's and its open time is the load.
type goMap struct{}

func init() { register(goMap{}) }

func (goMap) Name() string                        { return "gomap" }
func (goMap) Path(dir string) string              { return "" }
func (goMap) Build(dir, sorted, raw string) error { return nil }
func (goMap) Files(dir, raw string) ([]string, error) {
	_, err := os.Stat(raw)
	return []string{raw}, err
}

func (goMap) Open(dir, raw string) (Store, error) {
	m := make(map[string]string)
	err := ReadTSV(raw, func(k, v []byte) error {
		m[string(k)] = string(v) // the later line wins, as kvbuild's default
		return nil
	})
	if err != nil {
		return nil, err
	}
	return mapStore(m), nil
}

type mapStore map[string]string

func (m mapStore) NewGetter() (Getter, error) { return m, nil }
func (m mapStore) Close() error               { return nil }

func (m mapStore) Get(key []byte) ([]byte, bool, error) {
	v, ok := m[string(key)] // no allocation: the compiler special-cases this
	return unsafe.Slice(unsafe.StringData(v), len(v)), ok, nil
}

func (m mapStore) Scan(fn func(k, v []byte)) (int, error) {
	n := 0
	for k, v := range m {
		fn(unsafe.Slice(unsafe.StringData(k), len(k)), unsafe.Slice(unsafe.StringData(v), len(v)))
		n++
	}
	return n, nil
}
