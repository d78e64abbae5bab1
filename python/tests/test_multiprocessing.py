"""Open once in the parent, query in 32 worker processes: fork (the mapping
is inherited), spawn and forkserver (the Dict is pickled by path and
reopened). Every wait has a timeout, so a hang fails instead of stalling."""

import multiprocessing
import os
import time

import pytest

import _mp_workers
import kvdict

WORKERS = 32


def _pool_run(method, d, pairs, per_worker):
    ctx = multiprocessing.get_context(method)
    jobs = [(i * per_worker, (i + 1) * per_worker) for i in range(WORKERS)]
    if method == "fork":
        _mp_workers.init(d, pairs)  # inherited by the children
        pool = ctx.Pool(WORKERS)
    else:
        pool = ctx.Pool(WORKERS, initializer=_mp_workers.init, initargs=(d, pairs))
    try:
        res = pool.map_async(_mp_workers.check, jobs, chunksize=1).get(timeout=240)
        pool.close()
    except multiprocessing.TimeoutError:
        pytest.fail(f"{method} pool of {WORKERS} hung")
    finally:
        pool.terminate()
        pool.join()
        _mp_workers.init(None, None)
    return res


@pytest.mark.parametrize("method,name", [("fork", "url"), ("spawn", "url"), ("forkserver", "url"),
                                         ("fork", "url-hix"), ("fork", "url-zstd")])
def test_pool(dicts, backend, method, name):
    if backend == "python" and (method != "fork" or name != "url"):
        pytest.skip("the start methods differ only in how the Dict arrives; fork covers the pure reader")
    path, pairs = dicts[name]
    per_worker = 300 if backend == "c" else 30
    assert len(pairs) >= WORKERS * per_worker
    with kvdict.open(path, backend=backend) as d:
        res = _pool_run(method, d, pairs, per_worker)
        assert d[pairs[0][0]] == pairs[0][1]  # the parent's Dict still works
    assert len(res) == WORKERS
    assert sum(r[1] for r in res) == WORKERS * per_worker
    assert sum(r[2] for r in res) == 0, "wrong answers in workers"
    assert len({r[0] for r in res}) > 1
    assert all(r[3] <= 2 for r in res), "a worker started threads"  # Pool's worker has none of ours


# Ensure a bare os.fork() child reads the parent's Dict.
def test_bare_fork(dicts, backend):
    path, pairs = dicts["url"]
    d = kvdict.open(path, backend=backend)
    pids = []
    for i in range(4):
        pid = os.fork()
        if pid == 0:
            ok = all(d[k] == v for k, v in pairs[i * 100:(i + 1) * 100])
            os._exit(0 if ok else 1)
        pids.append(pid)
    deadline = time.time() + 60
    while pids and time.time() < deadline:
        for pid in list(pids):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                pids.remove(pid)
                assert os.waitstatus_to_exitcode(status) == 0
        time.sleep(0.01)
    for pid in pids:
        os.kill(pid, 9)
    assert not pids, "forked children hung"
    d.close()
