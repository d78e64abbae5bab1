//go:build !nocdb

package systems

/*
#cgo LDFLAGS: -lcdb
#include <stdlib.h>
#include <cdb.h>

static int kv_find(struct cdb *c, const void *k, unsigned kl, const void **v, unsigned *vl) {
	int rc = cdb_find(c, k, kl);
	if (rc > 0) { *v = cdb_getdata(c); *vl = cdb_datalen(c); }
	return rc;
}
static int kv_seq(struct cdb *c, unsigned *pos, const void **k, unsigned *kl, const void **v, unsigned *vl) {
	int rc = cdb_seqnext(pos, c);
	if (rc > 0) {
		*k = cdb_getkey(c); *kl = cdb_keylen(c);
		*v = cdb_getdata(c); *vl = cdb_datalen(c);
	}
	return rc;
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"
)

// tinyCDB is Debian's tinycdb (libcdb-dev, via cgo): D. J. Bernstein's
// constant database, the classic "build once, mmap, hash lookup" file. It
// is limited to 4 GB per file and has no order (no range or prefix scans).
// Built with cdb_make_add from the de-duplicated stream.
type tinyCDB struct{}

func init() { register(tinyCDB{}) }

func (tinyCDB) Name() string           { return "tinycdb" }
func (tinyCDB) Path(dir string) string { return filepath.Join(dir, "tinycdb.cdb") }

func (s tinyCDB) Build(dir, sorted, raw string) error {
	p := s.Path(dir)
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	mk := (*C.struct_cdb_make)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_cdb_make{}))))
	defer C.free(unsafe.Pointer(mk))
	if rc := C.cdb_make_start(mk, C.int(f.Fd())); rc < 0 {
		return fmt.Errorf("tinycdb: cdb_make_start: %d", rc)
	}
	err = ReadTSV(sorted, func(k, v []byte) error {
		rc, errno := C.cdb_make_add(mk, cbytes(k), C.uint(len(k)), cbytes(v), C.uint(len(v)))
		if rc < 0 {
			return fmt.Errorf("tinycdb: cdb_make_add: %v (cdb files are limited to 4 GB)", errno)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rc, errno := C.cdb_make_finish(mk); rc < 0 {
		return fmt.Errorf("tinycdb: cdb_make_finish: %v", errno)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

func (s tinyCDB) Files(dir, raw string) ([]string, error) {
	_, err := os.Stat(s.Path(dir))
	return []string{s.Path(dir)}, err
}

type cdbStore struct {
	f *os.File
}

func (s tinyCDB) Open(dir, raw string) (Store, error) {
	f, err := os.Open(s.Path(dir))
	if err != nil {
		return nil, err
	}
	return &cdbStore{f}, nil
}

func (s *cdbStore) Close() error { return s.f.Close() }

// cdbHandle is a struct cdb (cdb_find keeps its result in it, so one per
// goroutine) plus out parameters, all in C memory. Each cdb_init maps the
// file; the mappings share the page cache.
type cdbHandle struct {
	c      C.struct_cdb
	k, v   unsafe.Pointer
	kl, vl C.uint
	pos    C.uint
}

func (s *cdbStore) newHandle() (*cdbHandle, error) {
	h := (*cdbHandle)(C.calloc(1, C.size_t(unsafe.Sizeof(cdbHandle{}))))
	if rc, errno := C.cdb_init(&h.c, C.int(s.f.Fd())); rc < 0 {
		C.free(unsafe.Pointer(h))
		return nil, fmt.Errorf("tinycdb: cdb_init: %v", errno)
	}
	return h, nil
}

func (h *cdbHandle) free() {
	C.cdb_free(&h.c)
	C.free(unsafe.Pointer(h))
}

type cdbGetter struct{ h *cdbHandle }

func (s *cdbStore) NewGetter() (Getter, error) {
	h, err := s.newHandle()
	if err != nil {
		return nil, err
	}
	return cdbGetter{h}, nil
}

func (g cdbGetter) Get(key []byte) ([]byte, bool, error) {
	h := g.h
	rc := C.kv_find(&h.c, cbytes(key), C.uint(len(key)), &h.v, &h.vl)
	if rc > 0 {
		return unsafe.Slice((*byte)(h.v), int(h.vl)), true, nil
	}
	if rc == 0 {
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("tinycdb: cdb_find: corrupt file")
}

func (g cdbGetter) Close() error { g.h.free(); return nil }

func (s *cdbStore) Scan(fn func(k, v []byte)) (int, error) {
	h, err := s.newHandle()
	if err != nil {
		return 0, err
	}
	defer h.free()
	h.pos = 2048 // cdb_seqinit
	n := 0
	for {
		rc := C.kv_seq(&h.c, &h.pos, &h.k, &h.kl, &h.v, &h.vl)
		if rc == 0 {
			return n, nil
		}
		if rc < 0 {
			return n, fmt.Errorf("tinycdb: cdb_seqnext: corrupt file")
		}
		fn(unsafe.Slice((*byte)(h.k), int(h.kl)), unsafe.Slice((*byte)(h.v), int(h.vl)))
		n++
	}
}
