//go:build !nolmdb

package systems

/*
#cgo LDFLAGS: -llmdb
#include <stdlib.h>
#include <lmdb.h>

// Small wrappers so each operation is one cgo call and MDB_val never
// crosses into Go.
static int kv_put(MDB_txn *txn, MDB_dbi dbi, void *k, size_t kl, void *v, size_t vl, unsigned flags) {
	MDB_val key = {kl, k}, val = {vl, v};
	return mdb_put(txn, dbi, &key, &val, flags);
}
static int kv_get(MDB_txn *txn, MDB_dbi dbi, void *k, size_t kl, void **v, size_t *vl) {
	MDB_val key = {kl, k}, val;
	int rc = mdb_get(txn, dbi, &key, &val);
	if (rc == 0) { *v = val.mv_data; *vl = val.mv_size; }
	return rc;
}
static int kv_next(MDB_cursor *c, int first, void **k, size_t *kl, void **v, size_t *vl) {
	MDB_val key, val;
	int rc = mdb_cursor_get(c, &key, &val, first ? MDB_FIRST : MDB_NEXT);
	if (rc == 0) { *k = key.mv_data; *kl = key.mv_size; *v = val.mv_data; *vl = val.mv_size; }
	return rc;
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"
)

// lmdbDB is LMDB (Debian's liblmdb, via our own cgo wrapper: the Go
// bindings are not on the module proxy here), the mmap'd B+tree that
// read-mostly C/C++/Python services use. Built from the sorted stream with
// MDB_APPEND (no page splits), MDB_NOSYNC during the load and one
// mdb_env_sync at the end, 100k puts per transaction. Read-only opens use
// MDB_RDONLY|MDB_NOTLS so each goroutine holds its own read transaction.
type lmdbDB struct{}

func init() { register(lmdbDB{}) }

func (lmdbDB) Name() string           { return "lmdb" }
func (lmdbDB) Path(dir string) string { return filepath.Join(dir, "lmdb.mdb") }

func lmdbErr(op string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return fmt.Errorf("lmdb: %s: %s", op, C.GoString(C.mdb_strerror(rc)))
}

type lmdbEnv struct {
	env *C.MDB_env
	dbi C.MDB_dbi
}

func openLMDB(path string, flags C.uint, mapSize int64) (*lmdbEnv, error) {
	e := &lmdbEnv{}
	if rc := C.mdb_env_create(&e.env); rc != 0 {
		return nil, lmdbErr("env_create", rc)
	}
	if rc := C.mdb_env_set_mapsize(e.env, C.size_t(mapSize)); rc != 0 {
		C.mdb_env_close(e.env)
		return nil, lmdbErr("set_mapsize", rc)
	}
	if rc := C.mdb_env_set_maxreaders(e.env, 1024); rc != 0 {
		C.mdb_env_close(e.env)
		return nil, lmdbErr("set_maxreaders", rc)
	}
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	if rc := C.mdb_env_open(e.env, cp, flags|C.MDB_NOSUBDIR, 0o644); rc != 0 {
		C.mdb_env_close(e.env)
		return nil, lmdbErr("env_open "+path, rc)
	}
	var txn *C.MDB_txn
	rdonly := C.uint(0)
	if flags&C.MDB_RDONLY != 0 {
		rdonly = C.MDB_RDONLY
	}
	if rc := C.mdb_txn_begin(e.env, nil, rdonly, &txn); rc != 0 {
		C.mdb_env_close(e.env)
		return nil, lmdbErr("txn_begin", rc)
	}
	if rc := C.mdb_dbi_open(txn, nil, 0, &e.dbi); rc != 0 {
		C.mdb_txn_abort(txn)
		C.mdb_env_close(e.env)
		return nil, lmdbErr("dbi_open", rc)
	}
	if rc := C.mdb_txn_commit(txn); rc != 0 {
		C.mdb_env_close(e.env)
		return nil, lmdbErr("txn_commit", rc)
	}
	return e, nil
}

func (s lmdbDB) Build(dir, sorted, raw string) error {
	// A write transaction belongs to the thread that began it (LMDB locks
	// a pthread mutex), and Go may move a goroutine between threads across
	// cgo calls: without this, the second transaction deadlocks.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := s.Path(dir)
	for _, f := range []string{p, p + "-lock"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	st, err := os.Stat(sorted)
	if err != nil {
		return err
	}
	// The map must hold the whole database; LMDB only grows the file as used.
	e, err := openLMDB(p, C.MDB_NOSYNC|C.MDB_NOMETASYNC, 4*st.Size()+1<<30)
	if err != nil {
		return err
	}
	defer C.mdb_env_close(e.env)
	var txn *C.MDB_txn
	n := 0
	err = ReadTSV(sorted, func(k, v []byte) error {
		if txn == nil {
			if rc := C.mdb_txn_begin(e.env, nil, 0, &txn); rc != 0 {
				return lmdbErr("txn_begin", rc)
			}
		}
		if rc := C.kv_put(txn, e.dbi, cbytes(k), C.size_t(len(k)), cbytes(v), C.size_t(len(v)), C.MDB_APPEND); rc != 0 {
			return lmdbErr(fmt.Sprintf("put %q", k), rc)
		}
		if n++; n%batchSize == 0 {
			rc := C.mdb_txn_commit(txn)
			txn = nil
			return lmdbErr("txn_commit", rc)
		}
		return nil
	})
	if err != nil {
		if txn != nil {
			C.mdb_txn_abort(txn)
		}
		return err
	}
	if txn != nil {
		if rc := C.mdb_txn_commit(txn); rc != 0 {
			return lmdbErr("txn_commit", rc)
		}
	}
	return lmdbErr("env_sync", C.mdb_env_sync(e.env, 1))
}

func (s lmdbDB) Files(dir, raw string) ([]string, error) {
	_, err := os.Stat(s.Path(dir))
	return []string{s.Path(dir)}, err
}

func (s lmdbDB) Open(dir, raw string) (Store, error) {
	p := s.Path(dir)
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	e, err := openLMDB(p, C.MDB_RDONLY|C.MDB_NOTLS, st.Size()+1<<20)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (e *lmdbEnv) Close() error {
	C.mdb_env_close(e.env)
	return nil
}

type lmdbGetter struct {
	e   *lmdbEnv
	txn *C.MDB_txn
	// out parameters live in C memory so cgo's pointer checks stay cheap.
	out *lmdbOut
}

type lmdbOut struct {
	k, v   unsafe.Pointer
	kl, vl C.size_t
}

func (e *lmdbEnv) NewGetter() (Getter, error) {
	g := &lmdbGetter{e: e, out: (*lmdbOut)(C.calloc(1, C.size_t(unsafe.Sizeof(lmdbOut{}))))}
	if rc := C.mdb_txn_begin(e.env, nil, C.MDB_RDONLY, &g.txn); rc != 0 {
		C.free(unsafe.Pointer(g.out))
		return nil, lmdbErr("txn_begin", rc)
	}
	return g, nil
}

func (g *lmdbGetter) Get(key []byte) ([]byte, bool, error) {
	rc := C.kv_get(g.txn, g.e.dbi, cbytes(key), C.size_t(len(key)), &g.out.v, &g.out.vl)
	switch rc {
	case 0:
		return unsafe.Slice((*byte)(g.out.v), int(g.out.vl)), true, nil
	case C.MDB_NOTFOUND:
		return nil, false, nil
	}
	return nil, false, lmdbErr("get", rc)
}

func (g *lmdbGetter) Close() error {
	C.mdb_txn_abort(g.txn)
	C.free(unsafe.Pointer(g.out))
	return nil
}

func (e *lmdbEnv) Scan(fn func(k, v []byte)) (int, error) {
	var txn *C.MDB_txn
	if rc := C.mdb_txn_begin(e.env, nil, C.MDB_RDONLY, &txn); rc != 0 {
		return 0, lmdbErr("txn_begin", rc)
	}
	defer C.mdb_txn_abort(txn)
	var cur *C.MDB_cursor
	if rc := C.mdb_cursor_open(txn, e.dbi, &cur); rc != 0 {
		return 0, lmdbErr("cursor_open", rc)
	}
	defer C.mdb_cursor_close(cur)
	out := (*lmdbOut)(C.calloc(1, C.size_t(unsafe.Sizeof(lmdbOut{}))))
	defer C.free(unsafe.Pointer(out))
	n := 0
	first := C.int(1)
	for {
		rc := C.kv_next(cur, first, &out.k, &out.kl, &out.v, &out.vl)
		if rc == C.MDB_NOTFOUND {
			return n, nil
		}
		if rc != 0 {
			return n, lmdbErr("cursor_get", rc)
		}
		first = 0
		fn(unsafe.Slice((*byte)(out.k), int(out.kl)), unsafe.Slice((*byte)(out.v), int(out.vl)))
		n++
	}
}
