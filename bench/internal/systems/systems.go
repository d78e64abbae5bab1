// Package systems adapts kvdict and its peers to one small interface so the
// harness can build, open, query and scan each of them the same way.
//
// Every system builds from the same input: the sorted, de-duplicated stream
// (key order by bytes, the last value of a key wins) that the harness
// prepares once per dataset, except the Go map baseline, which loads the
// original unsorted TSV as a user would ("just load it into RAM").
package systems

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"unsafe"
)

// System is one key-value store under test.
type System interface {
	// Name is the short label used in results and charts.
	Name() string
	// Path is where the store lives inside a dataset's directory.
	Path(dir string) string
	// Build writes the store at Path(dir). sorted is the sorted,
	// duplicate-free TSV; raw is the original TSV.
	Build(dir, sorted, raw string) error
	// Open opens the store read-only for lookups and scans.
	Open(dir, raw string) (Store, error)
	// Files lists the files that hold the store's data (for size on disk
	// and for dropping them from the page cache).
	Files(dir, raw string) ([]string, error)
}

// Store is an open store.
type Store interface {
	// NewGetter returns a lookup handle for one goroutine.
	NewGetter() (Getter, error)
	// Scan visits every key in the store's own order and returns how many
	// keys it saw; fn sees the key and value (valid during the call).
	Scan(fn func(k, v []byte)) (int, error)
	Close() error
}

// Getter looks keys up; it is used by one goroutine at a time.
type Getter interface {
	// Get returns the value (valid until the next Get or Close) and
	// whether the key exists.
	Get(key []byte) ([]byte, bool, error)
	Close() error
}

// BuildOnly reports whether s is measured for building only (its lookups
// are another system's).
func BuildOnly(s System) bool {
	b, ok := s.(interface{ BuildOnly() bool })
	return ok && b.BuildOnly()
}

// batchSize is how many puts bbolt and LMDB get per write transaction;
// KVBENCH_BATCH overrides it so the smoke test crosses transactions.
var batchSize = func() int {
	if n, err := strconv.Atoi(os.Getenv("KVBENCH_BATCH")); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

var registry = map[string]System{}

func register(s System) { registry[s.Name()] = s }

// Lookup returns the system with that name.
func Lookup(name string) (System, error) {
	s, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("systems: unknown system %q (have %v)", name, Names())
	}
	return s, nil
}

// Names lists the registered systems in a fixed order: kvdict first.
func Names() []string {
	order := map[string]int{"kvdict": 0, "kvdict-hash": 0, "kvdict-zstd": 0, "kvdict-zstd-hash": 0, "vellum": 0, "vellum-own": 0, "kvbuild": 5, "kvbuild-hash": 5, "kvbuild-zstd": 5, "gomap": 1, "bbolt": 2, "lmdb": 3, "tinycdb": 4}
	var ns []string
	for n := range registry {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool {
		oi, ok := order[ns[i]]
		if !ok {
			oi = 100
		}
		oj, ok := order[ns[j]]
		if !ok {
			oj = 100
		}
		if oi != oj {
			return oi < oj
		}
		return ns[i] < ns[j]
	})
	return ns
}

// filesUnder lists the regular files under root (root itself if it is a file).
func filesUnder(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// syncFile fsyncs a file by name, so its pages are clean and a later
// fadvise(DONTNEED) really drops them.
func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// cbytes is the address of b's first byte for cgo calls (nil when empty).
func cbytes(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}
