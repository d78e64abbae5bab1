"""Benchmark kvdict from Python against the standard library's options.

Run with Debian's interpreter, under the bench lock, from the repository:

    flock /work/bench.lock /usr/bin/python3 python/bench/bench.py \\
        --dict url10m.kvd --tsv url10m.tsv --workdir /tmp/kvpy/bench

What it measures, in one run (each figure the median of --rounds rounds):

1. One process: kvdict's d[key], d.get on absent keys, get_many (batches of
   1,000 and one call for every key), and the pure-Python reader, on the
   same random sample of present keys (warm: one untimed pass first).
2. 32 worker processes (fork; the dictionary opened once in the parent):
   each worker reads its own slice of the keys from a file (so no
   copy-on-write of the parent's objects), all start together at a barrier
   and look up for --seconds; aggregate lookups/s = all lookups / window.
   Each worker then reports its PSS (all of it, and the part in the
   dictionary's files) while every worker is still alive.
   The workers first make one pass over their keys, timed apart ("first
   pass"): a forked child starts with no page tables for the inherited
   mapping, so that pass mostly measures minor faults.
3. Peers on the same keys: a Python dict loaded from the TSV (one process;
   32 copies would need 32x its memory), dbm.ndbm and sqlite3 (a WITHOUT
   ROWID table), built from `kvlookup dump` (sorted) in --workdir, each
   opened in every worker for the 32-process figures. Build them first,
   outside the lock, with the same command plus --prepare.

One-process figures are given per second of wall clock and per second of
this process's CPU time (on a shared machine, what a core would do).
"""

import argparse
import dbm
import gc
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import kvdict  # noqa: E402


def pss_kib(under=None):
    """This process's PSS in KiB: all of it, and the part mapped from files
    whose path starts with under."""
    total = part = 0
    cur = None
    with open("/proc/self/smaps") as f:
        for line in f:
            if line[0] in "0123456789abcdef" and "-" in line.split(" ", 1)[0]:
                fields = line.split()
                cur = fields[5] if len(fields) > 5 else ""
            elif line.startswith("Pss:"):
                kb = int(line.split()[1])
                total += kb
                if under and cur and cur.startswith(under):
                    part += kb
    return total, part


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


CPU = {}  # label -> median lookups per CPU second (this process's CPU time)


def rate(fn, keys, rounds, label=None):
    """Median lookups/s of fn(keys) over rounds, after one untimed pass:
    wall-clock (returned), and per second of this process's CPU time
    (recorded in CPU[label]): on a shared machine the second says what a
    core would do, the first what this process got."""
    fn(keys)
    out, cpu = [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        fn(keys)
        c = time.process_time() - c
        out.append(len(keys) / (time.perf_counter() - t))
        cpu.append(len(keys) / c if c > 0 else float("inf"))
    if label:
        CPU[label] = statistics.median(cpu)
    return statistics.median(out)


def loop_getitem(d):
    def f(keys):
        for k in keys:
            d[k]
    return f


def loop_get(d):
    def f(keys):
        g = d.get
        for k in keys:
            g(k)
    return f


def batches(d, n):
    def f(keys):
        gm = d.get_many
        for i in range(0, len(keys), n):
            gm(keys[i:i + n])
    return f


def sqlite_get(con):
    def f(keys):
        ex = con.execute
        for k in keys:
            ex("SELECT v FROM kv WHERE k = ?", (k,)).fetchone()
    return f


# ---- 32 workers


def _worker(opener, keyfile, lo, hi, seconds, barrier, barrier2, q, under):
    with open(keyfile, "rb") as f:
        keys = f.read().split(b"\n")[lo:hi]
    get = opener()
    # First pass over this worker's keys, timed apart: a forked child has
    # no page tables for the inherited mapping, so its first touch of each
    # page is a minor fault (~50 us here under load), whatever the reader.
    barrier.wait()
    f0 = time.perf_counter()
    for k in keys:
        get(k)
    f1 = time.perf_counter()
    barrier.wait()
    t0 = time.perf_counter()
    n = 0
    while True:
        for k in keys:
            get(k)
        n += len(keys)
        if time.perf_counter() - t0 >= seconds:
            break
    t1 = time.perf_counter()
    barrier2.wait()  # everyone done: measure PSS while all are alive
    total, part = pss_kib(under)
    q.put((n, t0, t1, total, part, len(keys), f0, f1))
    barrier2.wait()


def workers(opener, keyfile, nkeys, nworkers, seconds, under):
    ctx = multiprocessing.get_context("fork")
    barrier, barrier2, q = ctx.Barrier(nworkers), ctx.Barrier(nworkers + 1), ctx.Queue()
    per = nkeys // nworkers
    ps = [ctx.Process(target=_worker, args=(opener, keyfile, i * per, (i + 1) * per, seconds, barrier, barrier2, q,
                                            under)) for i in range(nworkers)]
    gc.freeze()
    for p in ps:
        p.start()
    barrier2.wait(timeout=seconds * 20 + 1200)
    ptotal, ppart = pss_kib(under)  # the parent's share, measured with the workers alive
    res = [q.get(timeout=600) for _ in ps]
    barrier2.wait(timeout=600)
    for p in ps:
        p.join(60)
    gc.unfreeze()
    n = sum(r[0] for r in res)
    window = max(r[2] for r in res) - min(r[1] for r in res)
    first = sum(r[5] for r in res) / (max(r[7] for r in res) - min(r[6] for r in res))
    return {
        "lookups_per_s": n / window,
        "first_pass_per_s": first,
        "pss_total_mib": (sum(r[3] for r in res) + ptotal) / 1024,
        "pss_data_mib": (sum(r[4] for r in res) + ppart) / 1024,
        "window_s": window,
    }


def pairs(path):
    with open(path, "rb") as f:
        for line in f:
            k, _, v = line.rstrip(b"\n").partition(b"\t")
            yield k, v


def build_peers(a, peers):
    """Build the dbm and sqlite peers in a.workdir from `kvlookup dump`
    (sorted) unless they are there; return their build times."""
    built = {}
    sorted_tsv = os.path.join(a.workdir, "sorted.tsv")
    if ("dbm" in peers or "sqlite" in peers) and not os.path.exists(sorted_tsv):
        with open(sorted_tsv + ".tmp", "wb") as f:
            subprocess.run([a.kvlookup, "dump", a.dict], stdout=f, check=True)
        os.rename(sorted_tsv + ".tmp", sorted_tsv)
    if "dbm" in peers:
        # dbm.ndbm (Berkeley DB's hash here): dbm.gnu builds 5x slower
        # (8.5k against 42k inserts/s measured), too slow for 10M keys.
        import dbm.ndbm

        dpath = os.path.join(a.workdir, "peer.ndbm")
        if not os.path.exists(dpath + ".db"):
            t0 = time.perf_counter()
            db = dbm.ndbm.open(dpath + ".tmp", "n")
            for k, v in pairs(sorted_tsv):
                db[k] = v
            db.close()
            os.rename(dpath + ".tmp.db", dpath + ".db")
            built["dbm"] = {"build_s": time.perf_counter() - t0}
    if "sqlite" in peers:
        spath = os.path.join(a.workdir, "peer.sqlite")
        if not os.path.exists(spath):
            t0 = time.perf_counter()
            con = sqlite3.connect(spath + ".tmp")
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.execute("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")
            con.executemany("INSERT INTO kv VALUES (?, ?)", pairs(sorted_tsv))
            con.commit()
            con.close()
            os.rename(spath + ".tmp", spath)
            built["sqlite"] = {"build_s": time.perf_counter() - t0}
    return built


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dict", required=True)
    ap.add_argument("--hash-dict", help="the same data built with kvbuild --hash-index: measured too")
    ap.add_argument("--tsv", required=True, help="the dictionary's TSV input (for the Python dict peer)")
    ap.add_argument("--workdir", required=True, help="where the dbm and sqlite peers are built (kept for reuse)")
    ap.add_argument("--kvlookup", default="kvlookup")
    ap.add_argument("--lookups", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--peers", default="dict,dbm,sqlite")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--pure", action="store_true", help="also measure the pure-Python reader")
    ap.add_argument("--only-workers", action="store_true", help="skip the one-process figures")
    ap.add_argument("--prepare", action="store_true",
                    help="only build what the run needs in --workdir (the key sample, the dbm and sqlite peers), "
                         "outside the bench lock, and exit")
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    res = {"dict": a.dict, "lookups": a.lookups, "workers": a.workers, "rounds": a.rounds,
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "loadavg_start": os.getloadavg()}
    size = sum(os.path.getsize(os.path.join(a.dict, f)) for f in os.listdir(a.dict))
    res["dict_size_mib"] = size / 2**20

    d = kvdict.open(a.dict)
    res["keys"] = len(d)
    rnd = random.Random(1)
    # a uniform sample of present keys: every len(d)/lookups-th key in order, shuffled
    step = max(1, len(d) // a.lookups)
    keys = [k for i, k in enumerate(d.keys()) if i % step == 0][:a.lookups]
    rnd.shuffle(keys)
    keyfile = os.path.join(a.workdir, "keys.txt")
    with open(keyfile, "wb") as f:
        f.write(b"\n".join(keys))
    # The lookups use the keys as read back from the file: bytes objects
    # made one after another, as a batch read from input would be. The
    # sample above was made in key order and shuffled, so its objects lie
    # scattered in memory; get_many is measured on it too.
    scattered = keys
    with open(keyfile, "rb") as f:
        keys = f.read().split(b"\n")
    absent = [k + b"\x00" for k in keys]
    print(f"{len(d):,} keys, {size / 2**20:.0f} MiB; {len(keys):,} lookup keys", flush=True)
    peers = a.peers.split(",") if a.peers else []
    if a.prepare:
        print("built", build_peers(a, peers))
        return

    t = []
    for _ in range(a.rounds):
        t0 = time.perf_counter()
        kvdict.open(a.dict).close()
        t.append(time.perf_counter() - t0)
    res["open_ms"] = statistics.median(t) * 1e3
    one = res["one_process"] = {}
    multi = res["workers_32"] = {}
    d.close()
    for label, dpath in [("kvdict", a.dict), ("kvdict hash index", a.hash_dict)]:
        if not dpath:
            continue
        d = kvdict.open(dpath)
        cases = [("d[key]", loop_getitem(d), keys), ("d.get(absent)", loop_get(d), absent),
                 ("get_many, 100 a call", batches(d, 100), keys),
                 ("get_many, 1,000 a call", batches(d, 1000), keys),
                 ("get_many, one call", batches(d, len(keys)), keys),
                 ("get_many, 1,000 a call, key objects scattered in memory", batches(d, 1000), scattered),
                 ("get_many(absent), 1,000 a call", batches(d, 1000), absent)]
        for name, fn, ks in [] if a.only_workers else cases:
            one[f"{label} {name}"] = rate(fn, ks, a.rounds, f"{label} {name}")
        if a.pure and not a.only_workers:
            p = kvdict.open(dpath, backend="python")
            one[f"{label} pure Python d[key]"] = rate(loop_getitem(p), keys[:len(keys) // 20], max(1, a.rounds // 2),
                                                      f"{label} pure Python d[key]")
            p.close()
        res[f"{label} size_mib"] = sum(os.path.getsize(os.path.join(dpath, f)) for f in os.listdir(dpath)) / 2**20
        print(json.dumps(one, indent=1), flush=True)
        multi[label] = workers(lambda: d.__getitem__, keyfile, len(keys), a.workers, a.seconds,
                               os.path.abspath(dpath))
        print(label, "workers", multi[label], flush=True)
        d.close()

    built = build_peers(a, peers)

    if "dict" in peers:
        gc.collect()
        r0 = rss_kib()
        t0 = time.perf_counter()
        pd = {}
        for k, v in pairs(a.tsv):
            pd[k] = v
        load = time.perf_counter() - t0
        info = {"load_s": load, "rss_mib": (rss_kib() - r0) / 1024,
                "d[key]": rate(loop_getitem(pd), keys, a.rounds, "Python dict d[key]")}
        one["Python dict d[key]"] = info["d[key]"]
        res["python_dict"] = info
        print("python dict", info, flush=True)
        del pd
        gc.collect()

    if "dbm" in peers:
        # dbm.ndbm (Berkeley DB's hash here): dbm.gnu builds 5x slower
        # (8.5k against 42k inserts/s measured), too slow for 10M keys.
        import dbm.ndbm

        dpath = os.path.join(a.workdir, "peer.ndbm")
        info = {}
        info.update(built.get("dbm", {}))
        info["size_mib"] = os.path.getsize(dpath + ".db") / 2**20
        db = dbm.ndbm.open(dpath, "r")
        one["dbm.ndbm db[key]"] = info["db[key]"] = rate(loop_getitem(db), keys, a.rounds, "dbm.ndbm db[key]")
        db.close()
        multi["dbm.ndbm"] = workers(lambda: dbm.ndbm.open(dpath, "r").__getitem__, keyfile, len(keys), a.workers,
                                    a.seconds, dpath)
        res["dbm_ndbm"] = info
        print("dbm", info, multi["dbm.ndbm"], flush=True)

    if "sqlite" in peers:
        spath = os.path.join(a.workdir, "peer.sqlite")
        info = {}
        info.update(built.get("sqlite", {}))
        info["size_mib"] = os.path.getsize(spath) / 2**20
        con = sqlite3.connect(f"file:{spath}?mode=ro", uri=True)
        one["sqlite3 SELECT"] = info["select"] = rate(sqlite_get(con), keys, a.rounds, "sqlite3 SELECT")
        con.close()

        def sq_open():
            c = sqlite3.connect(f"file:{spath}?mode=ro", uri=True)
            ex = c.execute
            return lambda k: ex("SELECT v FROM kv WHERE k = ?", (k,)).fetchone()

        multi["sqlite3"] = workers(sq_open, keyfile, len(keys), a.workers, a.seconds, spath)
        res["sqlite3"] = info
        print("sqlite", info, multi["sqlite3"], flush=True)

    res["one_process_cpu"] = CPU
    res["loadavg_end"] = os.getloadavg()
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
