//go:build !nomtbl

package systems

/*
#cgo pkg-config: libmtbl
#include <stdlib.h>
#include <mtbl.h>

// kvm_writer opens a writer with the given compression and the library's
// default block size (8 KiB) and restart interval.
static struct mtbl_writer *kvm_writer(const char *fname, mtbl_compression_type c) {
	struct mtbl_writer_options *o = mtbl_writer_options_init();
	mtbl_writer_options_set_compression(o, c);
	struct mtbl_writer *w = mtbl_writer_init(fname, o);
	mtbl_writer_options_destroy(&o);
	return w;
}
static int kvm_add(struct mtbl_writer *w, const void *k, size_t kl, const void *v, size_t vl) {
	return mtbl_writer_add(w, k, kl, v, vl) == mtbl_res_success;
}
static void kvm_writer_close(struct mtbl_writer *w) { mtbl_writer_destroy(&w); }

static struct mtbl_reader *kvm_reader(const char *fname) {
	struct mtbl_reader_options *o = mtbl_reader_options_init();
	mtbl_reader_options_set_madvise_random(o, true);
	struct mtbl_reader *r = mtbl_reader_init(fname, o);
	mtbl_reader_options_destroy(&o);
	return r;
}
static void kvm_reader_close(struct mtbl_reader *r) { mtbl_reader_destroy(&r); }

// kvm_get looks key up and leaves the iterator in *it (the value lives in
// its block buffer until the iterator is destroyed). 1: found, 0: absent.
static int kvm_get(struct mtbl_reader *r, struct mtbl_iter **it, const void *k, size_t kl, const uint8_t **v, size_t *vl) {
	if (*it != NULL) mtbl_iter_destroy(it);
	*it = mtbl_source_get(mtbl_reader_source(r), k, kl);
	if (*it == NULL) return 0;
	const uint8_t *gk; size_t gkl;
	return mtbl_iter_next(*it, &gk, &gkl, v, vl) == mtbl_res_success;
}
static void kvm_iter_close(struct mtbl_iter *it) { if (it != NULL) mtbl_iter_destroy(&it); }

static struct mtbl_iter *kvm_all(struct mtbl_reader *r) { return mtbl_source_iter(mtbl_reader_source(r)); }
static int kvm_next(struct mtbl_iter *it, const uint8_t **k, size_t *kl, const uint8_t **v, size_t *vl) {
	return mtbl_iter_next(it, k, kl, v, vl) == mtbl_res_success;
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"
)

// mtbl is Farsight's mtbl (Debian libmtbl-dev, via cgo): an immutable
// sorted string table in the LevelDB SSTable format, with blocks of 8 KiB
// compressed as a whole (zlib or zstd here) and a block index. It is the
// size reference for compressed dictionaries (issue 9): every lookup
// decompresses a whole block. Built with mtbl_writer_add from the sorted,
// de-duplicated stream; one mtbl_reader per Getter (each maps the file; the
// mappings share the page cache).
type mtbl struct {
	name  string
	codec C.mtbl_compression_type
}

func init() {
	register(mtbl{"mtbl-zlib", C.MTBL_COMPRESSION_ZLIB})
	register(mtbl{"mtbl-zstd", C.MTBL_COMPRESSION_ZSTD})
}

func (s mtbl) Name() string           { return s.name }
func (s mtbl) Path(dir string) string { return filepath.Join(dir, s.name+".mtbl") }

func (s mtbl) Build(dir, sorted, raw string) error {
	p := s.Path(dir)
	_ = os.Remove(p) // mtbl_writer_init refuses to overwrite
	cp := C.CString(p)
	defer C.free(unsafe.Pointer(cp))
	w := C.kvm_writer(cp, s.codec)
	if w == nil {
		return fmt.Errorf("%s: mtbl_writer_init %s failed", s.name, p)
	}
	err := ReadTSV(sorted, func(k, v []byte) error {
		if C.kvm_add(w, cbytes(k), C.size_t(len(k)), cbytes(v), C.size_t(len(v))) == 0 {
			return fmt.Errorf("%s: mtbl_writer_add failed (keys must be strictly increasing)", s.name)
		}
		return nil
	})
	C.kvm_writer_close(w) // writes the index and trailer
	if err != nil {
		return err
	}
	return syncFile(p)
}

func (s mtbl) Files(dir, raw string) ([]string, error) {
	_, err := os.Stat(s.Path(dir))
	return []string{s.Path(dir)}, err
}

type mtblStore struct {
	s    mtbl
	path *C.char
}

func (s mtbl) Open(dir, raw string) (Store, error) {
	p := s.Path(dir)
	if _, err := os.Stat(p); err != nil {
		return nil, err
	}
	return &mtblStore{s: s, path: C.CString(p)}, nil
}

func (st *mtblStore) Close() error { C.free(unsafe.Pointer(st.path)); return nil }

func (st *mtblStore) reader() (*C.struct_mtbl_reader, error) {
	r := C.kvm_reader(st.path)
	if r == nil {
		return nil, fmt.Errorf("%s: mtbl_reader_init %s failed", st.s.name, C.GoString(st.path))
	}
	return r, nil
}

// mtblHandle is one reader plus the iterator of the last Get and its out
// parameters, in C memory.
type mtblHandle struct {
	r  *C.struct_mtbl_reader
	it *C.struct_mtbl_iter
	v  *C.uint8_t
	vl C.size_t
}

type mtblGetter struct{ h *mtblHandle }

func (st *mtblStore) NewGetter() (Getter, error) {
	r, err := st.reader()
	if err != nil {
		return nil, err
	}
	h := (*mtblHandle)(C.calloc(1, C.size_t(unsafe.Sizeof(mtblHandle{}))))
	h.r = r
	return mtblGetter{h}, nil
}

func (g mtblGetter) Get(key []byte) ([]byte, bool, error) {
	h := g.h
	if C.kvm_get(h.r, &h.it, cbytes(key), C.size_t(len(key)), &h.v, &h.vl) == 0 {
		return nil, false, nil
	}
	return unsafe.Slice((*byte)(h.v), int(h.vl)), true, nil
}

func (g mtblGetter) Close() error {
	C.kvm_iter_close(g.h.it)
	C.kvm_reader_close(g.h.r)
	C.free(unsafe.Pointer(g.h))
	return nil
}

func (st *mtblStore) Scan(fn func(k, v []byte)) (int, error) {
	r, err := st.reader()
	if err != nil {
		return 0, err
	}
	defer C.kvm_reader_close(r)
	it := C.kvm_all(r)
	if it == nil {
		return 0, fmt.Errorf("%s: mtbl_source_iter failed", st.s.name)
	}
	defer C.kvm_iter_close(it)
	h := (*mtblHandle)(C.calloc(1, C.size_t(unsafe.Sizeof(mtblHandle{}))))
	defer C.free(unsafe.Pointer(h))
	var k *C.uint8_t
	var kl C.size_t
	n := 0
	for C.kvm_next(it, &k, &kl, &h.v, &h.vl) != 0 {
		fn(unsafe.Slice((*byte)(k), int(kl)), unsafe.Slice((*byte)(h.v), int(h.vl)))
		n++
	}
	return n, nil
}
