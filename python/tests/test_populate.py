"""kvdict.open(path, populate=True) maps every page of the dictionary's
files at open, and again in each forked child (fork copies no page tables
of shared file mappings, so a child would otherwise fault every page in on
its first lookups); pickled Dicts reopen with the option. Linux only: the
page tables are read from /proc/self/smaps."""

import multiprocessing
import os
import pickle
import sys

import pytest

import _mp_workers
import kvdict

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")


def _full(kib, backend="c"):
    """Whether every mapping of the files lookups read has page table
    entries for all its pages: with the C reader and a hash index the value
    logs and indexes, otherwise the FSTs and value logs."""
    want = (".vlog", ".hix") if backend == "c" and kvdict._dict._kvdict.HASH_INDEX else (".fst", ".vlog")
    kib = {n: v for n, v in kib.items() if n.endswith(want)}
    return len(kib) >= 2 and all(rss >= size for rss, size in kib.values())


# Ensure populate=True maps every page at open, a plain open does not, and
# both answer alike.
def test_populate_at_open(dicts, backend):
    path, pairs = dicts["url-hix"]
    real = os.path.realpath(path)
    with kvdict.open(path, backend=backend) as d:
        assert not _full(_mp_workers.mapped_kib(real), backend)
        plain = d.get_many([k for k, _ in pairs[:2000]])
    with kvdict.open(path, backend=backend, populate=True) as d:
        kib = _mp_workers.mapped_kib(real)
        assert _full(kib, backend), kib
        assert d.get_many([k for k, _ in pairs[:2000]]) == plain == [v for _, v in pairs[:2000]]
        assert pickle.loads(pickle.dumps(d))._options["populate"] is True


# Ensure a forked child of a populate=True Dict starts with every page
# mapped (before its first lookup) and answers right, in fork, spawn and
# forkserver pools; with timeouts so a hang fails.
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_populate_in_workers(dicts, method):
    path, pairs = dicts["url-hix"]
    ctx = multiprocessing.get_context(method)
    with kvdict.open(path, populate=True) as d:
        if method == "fork":
            _mp_workers.init(d, pairs)
            pool = ctx.Pool(4)
        else:
            pool = ctx.Pool(4, initializer=_mp_workers.init, initargs=(d, pairs))
        try:
            res = pool.map_async(_mp_workers.resident, [(i * 200, (i + 1) * 200) for i in range(4)],
                                 chunksize=1).get(timeout=120)
            pool.close()
        except multiprocessing.TimeoutError:
            pytest.fail(f"{method} pool hung")
        finally:
            pool.terminate()
            pool.join()
            _mp_workers.init(None, None)
    for kib, (_, checked, wrong, _) in res:
        assert _full(kib), kib
        assert checked == 200 and wrong == 0


# Ensure a forked child of a plain Dict really starts without page tables,
# so the test above can fail.
def test_fork_copies_no_page_tables(dicts):
    path, pairs = dicts["url-hix"]
    with kvdict.open(path) as d:
        d.get_many([k for k, _ in pairs])
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            ok = not _full(_mp_workers.mapped_kib(os.path.realpath(d.version_path)))
            os.write(w, b"1" if ok else b"0")
            os._exit(0)
        os.close(w)
        got = os.read(r, 1)
        os.close(r)
        os.waitpid(pid, 0)
    assert got == b"1"
