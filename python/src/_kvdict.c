/*
 * _kvdict.c: the CPython glue around kvd_read.h. It defines
 * kvdict._kvdict.Reader, the C backend of kvdict.Dict: lookups and ordered
 * iteration over buffers that Python's mmap objects export. The Python
 * package parses the MANIFEST, maps the files and passes the buffers in;
 * the Reader holds a buffer export on every mapping, so a mapping cannot be
 * closed under it (mmap.close raises BufferError), and after Reader.close
 * every method raises ValueError instead of touching memory.
 *
 * Single lookups hold the GIL: releasing it costs more than the walk saves
 * and convoys threads (research/python.md 1.4). get_many and verify release
 * it for the whole batch; a busy counter makes close() from another thread
 * fail instead of unmapping under them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kvd_read.h"

static PyObject *CorruptError, *VersionError, *FormatError;

typedef struct {
	kvd_part core;
	Py_buffer fbuf, vbuf, hbuf;     /* hbuf.obj is NULL without a hash index */
	PyObject *first, *last;         /* bytes */
	PyObject *fst_name, *vlog_name; /* str, for messages */
	PyObject *hix_name;             /* str or None */
	uint32_t fst_crc, vlog_crc, hix_crc;
	uint64_t nkeys; /* the FST's key count */
} rpart;

typedef struct {
	PyObject_HEAD
	rpart *parts;
	Py_ssize_t nparts;
	Py_ssize_t nkeys;
	int closed;
	int busy;     /* calls running without the GIL */
	kvd_zctx z;   /* decoding state of single lookups (under the GIL) */
} Reader;

static PyTypeObject ReaderType, IterType;

/* ---- errors */

static PyObject *raise_corrupt(PyObject *name, const char *what)
{
	PyErr_Format(CorruptError, "kvdict: %U: %s", name, what);
	return NULL;
}

static PyObject *closed_error(void)
{
	PyErr_SetString(PyExc_ValueError, "kvdict: operation on a closed dictionary");
	return NULL;
}

/* ---- keys */

typedef struct {
	const uint8_t *p;
	Py_ssize_t n;
	Py_buffer view;
	int has_view;
} keyref;

/* key_get gets the bytes of a key: bytes as they are, str encoded UTF-8,
 * or any object with the buffer protocol (bytearray, memoryview). */
static int key_get(PyObject *key, keyref *k)
{
	k->has_view = 0;
	if (PyBytes_Check(key)) {
		k->p = (const uint8_t *)PyBytes_AS_STRING(key);
		k->n = PyBytes_GET_SIZE(key);
		return 0;
	}
	if (PyUnicode_Check(key)) {
		k->p = (const uint8_t *)PyUnicode_AsUTF8AndSize(key, &k->n);
		return k->p ? 0 : -1;
	}
	if (PyObject_CheckBuffer(key) && PyObject_GetBuffer(key, &k->view, PyBUF_SIMPLE) == 0) {
		k->has_view = 1;
		k->p = k->view.buf;
		k->n = k->view.len;
		return 0;
	}
	PyErr_Clear();
	PyErr_Format(PyExc_TypeError, "kvdict: keys are bytes or str, not %.100s", Py_TYPE(key)->tp_name);
	return -1;
}

static void key_release(keyref *k)
{
	if (k->has_view)
		PyBuffer_Release(&k->view);
}

/* ---- lookups */

/* find_part returns the index of the partition whose range may hold key
 * (the last one whose first key is <= key), or -1. */
static Py_ssize_t find_part(const Reader *r, const uint8_t *k, size_t n)
{
	Py_ssize_t lo = 0, hi = r->nparts;
	while (lo < hi) {
		Py_ssize_t m = (lo + hi) / 2;
		PyObject *f = r->parts[m].first;
		if (kvd_keycmp((const uint8_t *)PyBytes_AS_STRING(f), PyBytes_GET_SIZE(f), k, n) <= 0)
			lo = m + 1;
		else
			hi = m;
	}
	return lo - 1;
}

/* lookup finds key's value without touching Python objects (it runs
 * without the GIL in get_many). On an error, *pi says which partition and
 * *in_log whether the value log (1) or the FST (0) is damaged. */
static int lookup(const Reader *r, kvd_zctx *z, const uint8_t *k, size_t n, const uint8_t **val, uint64_t *len,
                  Py_ssize_t *pi, int *in_log)
{
	Py_ssize_t i = find_part(r, k, n);
	*pi = i;
	*in_log = 0;
	if (i < 0)
		return KVD_MISSING;
	return kvd_get(&r->parts[i].core, z, k, n, val, len, in_log);
}

static PyObject *lookup_error(const Reader *r, Py_ssize_t pi, int in_log, int rc)
{
	if (rc == -4)
		return PyErr_NoMemory();
	if (in_log == 2)
		return raise_corrupt(r->parts[pi].hix_name, "hash index entry points at a bad record");
	if (in_log)
		return raise_corrupt(r->parts[pi].vlog_name, "value record out of bounds or damaged");
	return raise_corrupt(r->parts[pi].fst_name, "damaged FST state on a key's path");
}

/* get_value returns a new reference to key's value, NULL with no error set
 * when the key is absent, NULL with an error set on failure. */
static PyObject *get_value(Reader *r, PyObject *key)
{
	if (r->closed)
		return closed_error();
	keyref k;
	if (key_get(key, &k) < 0)
		return NULL;
	const uint8_t *val;
	uint64_t len;
	Py_ssize_t pi;
	int in_log;
	int rc = lookup(r, &r->z, k.p, (size_t)k.n, &val, &len, &pi, &in_log);
	key_release(&k);
	if (rc == KVD_FOUND)
		return PyBytes_FromStringAndSize((const char *)val, (Py_ssize_t)len);
	if (rc == KVD_MISSING)
		return NULL;
	return lookup_error(r, pi, in_log, rc);
}

static PyObject *Reader_subscript(Reader *r, PyObject *key)
{
	PyObject *v = get_value(r, key);
	if (!v && !PyErr_Occurred())
		PyErr_SetObject(PyExc_KeyError, key);
	return v;
}

static PyObject *Reader_get(Reader *r, PyObject *const *args, Py_ssize_t nargs)
{
	if (nargs < 1 || nargs > 2) {
		PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
		return NULL;
	}
	PyObject *v = get_value(r, args[0]);
	if (v || PyErr_Occurred())
		return v;
	v = nargs == 2 ? args[1] : Py_None;
	Py_INCREF(v);
	return v;
}

static int Reader_contains(Reader *r, PyObject *key)
{
	if (r->closed) {
		closed_error();
		return -1;
	}
	keyref k;
	if (key_get(key, &k) < 0)
		return -1;
	Py_ssize_t pi = find_part(r, k.p, (size_t)k.n);
	int rc = KVD_MISSING, in_log = 0;
	uint64_t off;
	if (pi >= 0 && r->parts[pi].core.hix) {
		const uint8_t *val;
		rc = kvd_get(&r->parts[pi].core, &r->z, k.p, (size_t)k.n, &val, &off, &in_log);
	} else if (pi >= 0) {
		rc = kvd_fst_get(&r->parts[pi].core, k.p, (size_t)k.n, &off);
	}
	key_release(&k);
	if (rc < 0) {
		lookup_error(r, pi, in_log, rc);
		return -1;
	}
	return rc == KVD_FOUND;
}

static Py_ssize_t Reader_length(Reader *r)
{
	if (r->closed) {
		closed_error();
		return -1;
	}
	return r->nkeys;
}

/* get_many(keys, default=None): a list of values, default where a key is
 * absent. The keys go in chunks of GM_CHUNK: with the GIL, each key is
 * held (a new reference, so another thread cannot free it) and its
 * partition found; without it, the chunk is looked up by kvd_get_batch
 * (groups of KVD_BATCH keys whose memory loads overlap); with it again, the
 * chunk's values become bytes objects while their records are still in
 * the cache. The reader stays busy for the whole call, so close() from
 * another thread fails instead of unmapping under it. */
#define GM_CHUNK 256

typedef struct {
	uint8_t *b;
	size_t len, cap;
} arena;

static PyObject *Reader_get_many(Reader *r, PyObject *const *args, Py_ssize_t nargs)
{
	if (nargs < 1 || nargs > 2) {
		PyErr_SetString(PyExc_TypeError, "get_many(keys, default=None)");
		return NULL;
	}
	if (r->closed)
		return closed_error();
	PyObject *dflt = nargs == 2 ? args[1] : Py_None;
	PyObject *seq = PySequence_Fast(args[0], "kvdict: get_many takes an iterable of keys");
	if (!seq)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
	PyObject *result = PyList_New(n);
	if (!result) {
		Py_DECREF(seq);
		return NULL;
	}
	kvd_req q[GM_CHUNK];
	PyObject *held[GM_CHUNK];
	Py_ssize_t part[GM_CHUNK];
	int zreq[GM_CHUNK]; /* requests on compressed partitions, answered one by one */
	uint64_t zoff[GM_CHUNK];
	arena ar = {NULL, 0, 0};
	kvd_zctx z;
	memset(&z, 0, sizeof z);
	r->busy++;
	for (Py_ssize_t base = 0; base < n; base += GM_CHUNK) {
		int m = (int)(n - base < GM_CHUNK ? n - base : GM_CHUNK), nz = 0, held_n = 0, bad = -1;
		if (PySequence_Fast_GET_SIZE(seq) != n) {
			PyErr_SetString(PyExc_RuntimeError, "kvdict: the list of keys changed size during get_many");
			goto fail;
		}
		for (int j = 0; j < m; j++) {
			PyObject *key = PySequence_Fast_GET_ITEM(seq, base + j);
			kvd_req *qr = &q[j];
			if (j + 8 < m) {
				/* key objects made at different times lie scattered in
				 * memory: fetch the header and bytes of one 8 ahead */
				const char *ahead = (const char *)PySequence_Fast_GET_ITEM(seq, base + j + 8);
				__builtin_prefetch(ahead);
				__builtin_prefetch(ahead + 64);
			}
			if (PyBytes_Check(key)) {
				Py_INCREF(key);
				qr->key = (const uint8_t *)PyBytes_AS_STRING(key);
				qr->klen = (size_t)PyBytes_GET_SIZE(key);
			} else if (PyUnicode_Check(key)) {
				Py_ssize_t len;
				qr->key = (const uint8_t *)PyUnicode_AsUTF8AndSize(key, &len);
				if (!qr->key)
					goto fail_held;
				Py_INCREF(key); /* the UTF-8 form lives as long as the str */
				qr->klen = (size_t)len;
			} else {
				/* a buffer (bytearray, memoryview): copy it, the copy cannot change */
				keyref k;
				if (key_get(key, &k) < 0)
					goto fail_held;
				key = PyBytes_FromStringAndSize((const char *)k.p, k.n);
				key_release(&k);
				if (!key)
					goto fail_held;
				qr->key = (const uint8_t *)PyBytes_AS_STRING(key);
				qr->klen = (size_t)PyBytes_GET_SIZE(key);
			}
			held[held_n++] = key;
			Py_ssize_t pi = find_part(r, qr->key, qr->klen);
			part[j] = pi;
			qr->p = pi >= 0 ? &r->parts[pi].core : NULL;
			if (qr->p && qr->p->zcodec) {
				zreq[nz++] = j;
				qr->p = NULL; /* not for kvd_get_batch */
			}
		}
		Py_BEGIN_ALLOW_THREADS
		for (int j = 0; j < m; j += KVD_BATCH)
			kvd_get_batch(q + j, m - j < KVD_BATCH ? m - j : KVD_BATCH);
		for (int t = 0; t < nz; t++) {
			kvd_req *qr = &q[zreq[t]];
			qr->rc = kvd_get(&r->parts[part[zreq[t]]].core, &z, qr->key, qr->klen, &qr->val, &qr->vlen,
			                 &qr->in_log);
			if (qr->rc != KVD_FOUND)
				continue;
			/* copy the value out of the decode buffer the next lookup reuses */
			if (ar.len + qr->vlen > ar.cap) {
				size_t c = ar.cap ? ar.cap : 4096;
				while (c < ar.len + qr->vlen)
					c *= 2;
				uint8_t *nb = realloc(ar.b, c);
				if (!nb) {
					qr->rc = -4;
					continue;
				}
				ar.b = nb;
				ar.cap = c;
			}
			memcpy(ar.b + ar.len, qr->val, (size_t)qr->vlen);
			zoff[zreq[t]] = ar.len;
			ar.len += (size_t)qr->vlen;
		}
		Py_END_ALLOW_THREADS
		for (int j = 0; j < m; j++) {
			if (q[j].rc < 0) {
				bad = j;
				break;
			}
		}
		if (bad >= 0) {
			lookup_error(r, part[bad], q[bad].in_log, q[bad].rc);
			goto fail_held;
		}
		int zi = 0;
		for (int j = 0; j < m; j++) {
			PyObject *v;
			if (q[j].rc == KVD_FOUND) {
				const uint8_t *vp = q[j].val;
				if (zi < nz && zreq[zi] == j) {
					vp = ar.b + zoff[j];
					zi++;
				}
				v = PyBytes_FromStringAndSize((const char *)vp, (Py_ssize_t)q[j].vlen);
				if (!v)
					goto fail_held;
			} else {
				if (zi < nz && zreq[zi] == j)
					zi++;
				v = dflt;
				Py_INCREF(v);
			}
			PyList_SET_ITEM(result, base + j, v);
		}
		ar.len = 0;
		for (int j = 0; j < held_n; j++)
			Py_DECREF(held[j]);
		continue;
	fail_held:
		for (int j = 0; j < held_n; j++)
			Py_DECREF(held[j]);
		goto fail;
	}
	r->busy--;
	kvd_zctx_free(&z);
	free(ar.b);
	Py_DECREF(seq);
	return result;
fail:
	r->busy--;
	kvd_zctx_free(&z);
	free(ar.b);
	Py_DECREF(seq);
	Py_DECREF(result);
	return NULL;
}

/* ---- life cycle */

static void release_parts(Reader *r)
{
	for (Py_ssize_t i = 0; i < r->nparts; i++) {
		rpart *p = &r->parts[i];
		if (p->fbuf.obj)
			PyBuffer_Release(&p->fbuf);
		if (p->vbuf.obj)
			PyBuffer_Release(&p->vbuf);
		if (p->hbuf.obj)
			PyBuffer_Release(&p->hbuf);
		Py_CLEAR(p->hix_name);
		kvd_part_free(&p->core);
		Py_CLEAR(p->first);
		Py_CLEAR(p->last);
		Py_CLEAR(p->fst_name);
		Py_CLEAR(p->vlog_name);
	}
	PyMem_Free(r->parts);
	r->parts = NULL;
	r->nparts = 0;
	kvd_zctx_free(&r->z);
}

static int frame_error(int rc, PyObject *name, const char *msg)
{
	PyObject *cls = rc == KVD_MAGIC ? FormatError : rc == KVD_VERSION ? VersionError : CorruptError;
	PyErr_Format(cls, "kvdict: %U: %s", name, msg);
	return -1;
}

/* Reader(parts, nkeys): parts is a list of tuples (fst_name, fst_buffer,
 * fst_count, fst_crc, vlog_name, vlog_buffer, vlog_count, vlog_crc,
 * first_key, last_key, hix_name, hix_buffer, hix_count, hix_crc, keyed),
 * the names being full paths for messages, the counts and CRCs the
 * MANIFEST's; hix_name and hix_buffer are None without a hash index, and
 * keyed says whether the MANIFEST lists keyed-records. */
static int Reader_init(Reader *r, PyObject *args, PyObject *kwds)
{
	PyObject *list;
	Py_ssize_t nkeys;
	static char *kwlist[] = {"parts", "nkeys", NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!n", kwlist, &PyList_Type, &list, &nkeys))
		return -1;
	if (r->parts) {
		PyErr_SetString(PyExc_RuntimeError, "kvdict: Reader initialised twice");
		return -1;
	}
	Py_ssize_t n = PyList_GET_SIZE(list);
	r->parts = PyMem_Calloc(n ? n : 1, sizeof(rpart));
	if (!r->parts) {
		PyErr_NoMemory();
		return -1;
	}
	r->nparts = n;
	r->nkeys = nkeys;
	for (Py_ssize_t i = 0; i < n; i++) {
		rpart *p = &r->parts[i];
		PyObject *fbo, *vbo, *fname, *vname, *first, *last, *hname, *hbo;
		unsigned long long fcount, vcount, hcount;
		unsigned int fcrc, vcrc, hcrc;
		int keyed, zstd_ok;
		if (!PyArg_ParseTuple(PyList_GET_ITEM(list, i), "UOKIUOKISSOOKIpp", &fname, &fbo, &fcount, &fcrc, &vname,
		                      &vbo, &vcount, &vcrc, &first, &last, &hname, &hbo, &hcount, &hcrc, &keyed, &zstd_ok))
			goto fail;
		Py_INCREF(hname);
		p->hix_name = hname;
		Py_INCREF(fname);
		p->fst_name = fname;
		Py_INCREF(vname);
		p->vlog_name = vname;
		Py_INCREF(first);
		p->first = first;
		Py_INCREF(last);
		p->last = last;
		if (PyObject_GetBuffer(fbo, &p->fbuf, PyBUF_SIMPLE) < 0)
			goto fail;
		if (PyObject_GetBuffer(vbo, &p->vbuf, PyBUF_SIMPLE) < 0)
			goto fail;
		kvd_frame ff, vf;
		int which;
		char err[256];
		int rc = kvd_part_init(&p->core, p->fbuf.buf, (uint64_t)p->fbuf.len, p->vbuf.buf, (uint64_t)p->vbuf.len,
		                       keyed, zstd_ok, &ff, &vf, &which, err, sizeof err);
		if (rc < 0) {
			frame_error(rc, which ? p->vlog_name : p->fst_name, err);
			goto fail;
		}
		if (ff.count != fcount || ff.body_crc != fcrc) {
			snprintf(err, sizeof err,
			         "footer (count %llu, crc %08x) does not match the MANIFEST (count %llu, crc %08x): file from another build?",
			         (unsigned long long)ff.count, ff.body_crc, fcount, fcrc);
			frame_error(KVD_CORRUPT, p->fst_name, err);
			goto fail;
		}
		if (vf.count != vcount || vf.body_crc != vcrc) {
			snprintf(err, sizeof err,
			         "footer (count %llu, crc %08x) does not match the MANIFEST (count %llu, crc %08x): file from another build?",
			         (unsigned long long)vf.count, vf.body_crc, vcount, vcrc);
			frame_error(KVD_CORRUPT, p->vlog_name, err);
			goto fail;
		}
		p->fst_crc = fcrc;
		p->nkeys = ff.count;
		if (hbo != Py_None) {
			kvd_frame hf;
			if (!PyUnicode_Check(hname)) {
				PyErr_SetString(PyExc_TypeError, "kvdict: hix_name must be str");
				goto fail;
			}
			if (PyObject_GetBuffer(hbo, &p->hbuf, PyBUF_SIMPLE) < 0)
				goto fail;
			rc = kvd_hix_init(&p->core, p->hbuf.buf, (uint64_t)p->hbuf.len, ff.count, &hf, err, sizeof err);
			if (rc < 0) {
				frame_error(rc, hname, err);
				goto fail;
			}
			if (hf.count != hcount || hf.body_crc != hcrc) {
				snprintf(err, sizeof err,
				         "footer (count %llu, crc %08x) does not match the MANIFEST (count %llu, crc %08x): file from another build?",
				         (unsigned long long)hf.count, hf.body_crc, hcount, hcrc);
				frame_error(KVD_CORRUPT, hname, err);
				goto fail;
			}
			p->hix_crc = hcrc;
		}
		p->vlog_crc = vcrc;
	}
	return 0;
fail:
	release_parts(r);
	return -1;
}

static PyObject *Reader_close(Reader *r, PyObject *unused)
{
	if (r->busy) {
		PyErr_SetString(PyExc_RuntimeError, "kvdict: close() while another thread is in get_many or verify");
		return NULL;
	}
	r->closed = 1;
	release_parts(r);
	Py_RETURN_NONE;
}

static void Reader_dealloc(Reader *r)
{
	release_parts(r);
	Py_TYPE(r)->tp_free((PyObject *)r);
}

static PyObject *Reader_get_closed(Reader *r, void *unused) { return PyBool_FromLong(r->closed); }

/* verify() checks the body CRC-32C of every file against its footer: it
 * reads the whole dictionary, without the GIL. */
static PyObject *Reader_verify(Reader *r, PyObject *unused)
{
	if (r->closed)
		return closed_error();
	for (Py_ssize_t i = 0; i < r->nparts; i++) {
		rpart *p = &r->parts[i];
		uint32_t fc, vc, hc = 0;
		r->busy++;
		Py_BEGIN_ALLOW_THREADS
		fc = kvd_crc32c(0, p->fbuf.buf, (size_t)p->fbuf.len - KVD_FRAME_FOOTER);
		vc = kvd_crc32c(0, p->vbuf.buf, (size_t)p->vbuf.len - KVD_FRAME_FOOTER);
		if (p->hbuf.obj)
			hc = kvd_crc32c(0, p->hbuf.buf, (size_t)p->hbuf.len - KVD_FRAME_FOOTER);
		Py_END_ALLOW_THREADS
		r->busy--;
		if (p->hbuf.obj && hc != p->hix_crc)
			return raise_corrupt(p->hix_name, "body checksum mismatch");
		if (fc != p->fst_crc)
			return raise_corrupt(p->fst_name, "body checksum mismatch");
		if (vc != p->vlog_crc)
			return raise_corrupt(p->vlog_name, "body checksum mismatch");
	}
	Py_RETURN_NONE;
}

/* ---- ordered iteration */

enum { MODE_KEYS = 0, MODE_VALUES = 1, MODE_ITEMS = 2 };

typedef struct {
	PyObject_HEAD
	Reader *r;
	PyObject *start, *stop; /* bytes or NULL */
	Py_ssize_t pi;
	kvd_iter it;
	kvd_zctx z; /* compressed values: the group of the last one stays decoded */
	int mode;
	int done;
} Iter;

static void *py_realloc(void *p, size_t n) { return PyMem_Realloc(p, n); }

/* Reader._iter(start, stop, mode): keys k with start <= k < stop (None:
 * unbounded), across partitions, in byte order. */
static PyObject *Reader_iter(Reader *r, PyObject *args)
{
	PyObject *start, *stop;
	int mode;
	if (!PyArg_ParseTuple(args, "OOi", &start, &stop, &mode))
		return NULL;
	if (r->closed)
		return closed_error();
	if ((start != Py_None && !PyBytes_Check(start)) || (stop != Py_None && !PyBytes_Check(stop))) {
		PyErr_SetString(PyExc_TypeError, "kvdict: bounds are bytes or None");
		return NULL;
	}
	Iter *it = PyObject_New(Iter, &IterType);
	if (!it)
		return NULL;
	Py_INCREF(r);
	it->r = r;
	it->start = start == Py_None ? NULL : (Py_INCREF(start), start);
	it->stop = stop == Py_None ? NULL : (Py_INCREF(stop), stop);
	it->mode = mode;
	it->done = 0;
	memset(&it->it, 0, sizeof it->it);
	memset(&it->z, 0, sizeof it->z);
	if (it->start) {
		it->it.start = (const uint8_t *)PyBytes_AS_STRING(it->start);
		it->it.start_len = (size_t)PyBytes_GET_SIZE(it->start);
	}
	/* first partition whose last key is >= start */
	Py_ssize_t lo = 0, hi = r->nparts;
	if (it->start) {
		while (lo < hi) {
			Py_ssize_t m = (lo + hi) / 2;
			PyObject *l = r->parts[m].last;
			if (kvd_keycmp((const uint8_t *)PyBytes_AS_STRING(l), PyBytes_GET_SIZE(l), it->it.start,
			               it->it.start_len) < 0)
				lo = m + 1;
			else
				hi = m;
		}
	}
	it->pi = lo - 1; /* Iter_next moves to lo */
	it->it.depth = 0;
	if (kvd_iter_grow(&it->it, 64, py_realloc) < 0) {
		Py_DECREF(it);
		return PyErr_NoMemory();
	}
	return (PyObject *)it;
}

static void Iter_dealloc(Iter *it)
{
	kvd_zctx_free(&it->z);
	PyMem_Free(it->it.stack);
	PyMem_Free(it->it.key);
	Py_XDECREF(it->start);
	Py_XDECREF(it->stop);
	Py_XDECREF(it->r);
	PyObject_Free(it);
}

static PyObject *Iter_next(Iter *it)
{
	Reader *r = it->r;
	if (it->done)
		return NULL;
	if (r->closed)
		return closed_error();
	for (;;) {
		if (it->it.depth == 0) {
			/* next partition */
			it->pi++;
			if (it->pi >= r->nparts) {
				it->done = 1;
				return NULL;
			}
			PyObject *f = r->parts[it->pi].first;
			if (it->stop && kvd_keycmp((const uint8_t *)PyBytes_AS_STRING(f), PyBytes_GET_SIZE(f),
			                           (const uint8_t *)PyBytes_AS_STRING(it->stop), PyBytes_GET_SIZE(it->stop)) >= 0) {
				it->done = 1;
				return NULL;
			}
			if (kvd_iter_reset(&it->it, &r->parts[it->pi].core, r->parts[it->pi].nkeys) < 0) {
				it->done = 1;
				return raise_corrupt(r->parts[it->pi].fst_name, "damaged root state");
			}
		}
		size_t klen;
		uint64_t off;
		int rc = kvd_iter_next(&it->it, &klen, &off, py_realloc);
		if (rc == KVD_MISSING)
			continue; /* depth is 0: next partition */
		if (rc == -4) {
			it->done = 1;
			return PyErr_NoMemory();
		}
		if (rc < 0) {
			it->done = 1;
			return raise_corrupt(r->parts[it->pi].fst_name, "damaged FST state during iteration");
		}
		if (it->stop && kvd_keycmp(it->it.key, klen, (const uint8_t *)PyBytes_AS_STRING(it->stop),
		                           PyBytes_GET_SIZE(it->stop)) >= 0) {
			it->done = 1;
			return NULL;
		}
		PyObject *k = NULL, *v = NULL;
		if (it->mode != MODE_VALUES) {
			k = PyBytes_FromStringAndSize((const char *)it->it.key, (Py_ssize_t)klen);
			if (!k)
				return NULL;
			if (it->mode == MODE_KEYS)
				return k;
		}
		const uint8_t *val;
		uint64_t len;
		int vr = kvd_value(&r->parts[it->pi].core, &it->z, off, it->it.key, klen, 0, &val, &len);
		if (vr == -4) {
			Py_XDECREF(k);
			return PyErr_NoMemory();
		}
		if (vr != KVD_FOUND) {
			Py_XDECREF(k);
			it->done = 1;
			return raise_corrupt(r->parts[it->pi].vlog_name, "value record out of bounds or damaged");
		}
		v = PyBytes_FromStringAndSize((const char *)val, (Py_ssize_t)len);
		if (!v || it->mode == MODE_VALUES) {
			Py_XDECREF(k);
			return v;
		}
		PyObject *t = PyTuple_New(2);
		if (!t) {
			Py_DECREF(k);
			Py_DECREF(v);
			return NULL;
		}
		PyTuple_SET_ITEM(t, 0, k);
		PyTuple_SET_ITEM(t, 1, v);
		return t;
	}
}

static PyTypeObject IterType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kvdict._kvdict.Iterator",
	.tp_basicsize = sizeof(Iter),
	.tp_dealloc = (destructor)Iter_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "An iterator over a dictionary's keys, values or items in byte order.",
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = (iternextfunc)Iter_next,
};

/* ---- module */

static PyMethodDef Reader_methods[] = {
	{"get", (PyCFunction)(void (*)(void))Reader_get, METH_FASTCALL,
	 "get(key, default=None): the value of key (bytes), or default."},
	{"get_many", (PyCFunction)(void (*)(void))Reader_get_many, METH_FASTCALL,
	 "get_many(keys, default=None): a list of values, default for absent keys; releases the GIL."},
	{"_iter", (PyCFunction)Reader_iter, METH_VARARGS, "_iter(start, stop, mode): an ordered iterator."},
	{"verify", (PyCFunction)Reader_verify, METH_NOARGS, "verify(): check every file's body checksum."},
	{"close", (PyCFunction)Reader_close, METH_NOARGS, "close(): release the mappings."},
	{NULL},
};

static PyGetSetDef Reader_getset[] = {
	{"closed", (getter)Reader_get_closed, NULL, "True after close().", NULL},
	{NULL},
};

static PyMappingMethods Reader_as_mapping = {
	.mp_length = (lenfunc)Reader_length,
	.mp_subscript = (binaryfunc)Reader_subscript,
};

static PySequenceMethods Reader_as_sequence = {
	.sq_contains = (objobjproc)Reader_contains,
};

static PyTypeObject ReaderType = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kvdict._kvdict.Reader",
	.tp_basicsize = sizeof(Reader),
	.tp_dealloc = (destructor)Reader_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "The C reader behind kvdict.Dict (use kvdict.open).",
	.tp_methods = Reader_methods,
	.tp_getset = Reader_getset,
	.tp_as_mapping = &Reader_as_mapping,
	.tp_as_sequence = &Reader_as_sequence,
	.tp_init = (initproc)Reader_init,
	.tp_new = PyType_GenericNew,
};

static PyObject *mod_crc32c(PyObject *self, PyObject *args)
{
	Py_buffer b;
	unsigned int crc = 0;
	if (!PyArg_ParseTuple(args, "y*|I", &b, &crc))
		return NULL;
	uint32_t c;
	Py_BEGIN_ALLOW_THREADS
	c = kvd_crc32c(crc, b.buf, (size_t)b.len);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&b);
	return PyLong_FromUnsignedLong(c);
}

/* _hix_hash(key, seed): the hash index's XXH3-64 of key (for tests that
 * craft fingerprint collisions). */
static PyObject *mod_hix_hash(PyObject *self, PyObject *args)
{
	Py_buffer b;
	unsigned long long seed;
	if (!PyArg_ParseTuple(args, "y*K", &b, &seed))
		return NULL;
#if KVD_HAVE_XXH3
	uint64_t h = XXH3_64bits_withSeed(b.buf, (size_t)b.len, seed);
	PyBuffer_Release(&b);
	return PyLong_FromUnsignedLongLong(h);
#else
	PyBuffer_Release(&b);
	PyErr_SetString(PyExc_NotImplementedError, "kvdict: built without xxhash.h");
	return NULL;
#endif
}

static PyMethodDef module_methods[] = {
	{"crc32c", mod_crc32c, METH_VARARGS, "crc32c(data, crc=0): CRC-32C (Castagnoli) of data, continuing crc."},
	{"_hix_hash", mod_hix_hash, METH_VARARGS, "_hix_hash(key, seed): XXH3-64 of key with seed (tests)."},
	{NULL},
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "kvdict._kvdict", "C reader of kvdict dictionaries (see kvdict).", -1, module_methods,
};

PyMODINIT_FUNC PyInit__kvdict(void)
{
	kvd_crc_init();
	PyObject *errs = PyImport_ImportModule("kvdict._errors");
	if (!errs)
		return NULL;
	CorruptError = PyObject_GetAttrString(errs, "CorruptError");
	VersionError = PyObject_GetAttrString(errs, "VersionError");
	FormatError = PyObject_GetAttrString(errs, "FormatError");
	Py_DECREF(errs);
	if (!CorruptError || !VersionError || !FormatError)
		return NULL;
	if (PyType_Ready(&ReaderType) < 0 || PyType_Ready(&IterType) < 0)
		return NULL;
	PyObject *m = PyModule_Create(&module);
	if (!m)
		return NULL;
	if (PyModule_AddIntConstant(m, "HASH_INDEX", KVD_HAVE_XXH3) < 0 ||
	    PyModule_AddIntConstant(m, "ZSTD", KVD_HAVE_ZSTD) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	Py_INCREF(&ReaderType);
	if (PyModule_AddObject(m, "Reader", (PyObject *)&ReaderType) < 0) {
		Py_DECREF(&ReaderType);
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
