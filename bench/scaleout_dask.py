"""Benchmark for issue 14: one dictionary built through kvdict.dask on a
distributed.LocalCluster, and through the Beam pipeline (beam/cmd/kvbeam) on
the in-process Prism runner, against a single-machine kvbuild of the same
input, and kvbuild join of 64 parts.

    flock /work/bench.lock /usr/bin/python3 bench/scaleout_dask.py --lines 2000000 --workers 2 --runs 3
    # split into short lock holds on one input file made beforehand:
    python3 bench/scaleout_dask.py --lines 10000000 --make-input /tmp/in10m.tsv
    flock /work/bench.lock python3 bench/scaleout_dask.py --input /tmp/in10m.tsv --only single,dask --workers 4
    flock /work/bench.lock python3 bench/scaleout_dask.py --input /tmp/in3m.tsv --only beam --beam /tmp/kvbeam

Needs kvbuild and kvlookup on PATH and python/ importable (PYTHONPATH=python);
--beam names a kvbeam binary (cd beam && go build -o /tmp/kvbeam ./cmd/kvbeam).
Input: LINES rows "word<TAB>count" over LINES/4 distinct keys (URL-like),
built with --duplicates sum. Prints one line per measurement. Bytes
shuffled: for Dask, what the worker processes sent each other
(transfer_outgoing_bytes_total; rows a worker keeps do not count); for
Beam, the encoded rows sent to the range GroupByKey (its shuffled_bytes
counter; on Prism all of them cross the runner's data plane).
"""

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psutil


def make_input(path, lines, seed=1):
    rnd = random.Random(seed)
    distinct = max(lines // 4, 1)
    with open(path, "w") as f:
        buf = []
        for i in range(lines):
            k = rnd.randrange(distinct)
            buf.append(f"https://host{k % 997}.example.com/p/{k}\t{i % 10}\n")
            if len(buf) >= 100000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def single(inp, out):
    c0, t0 = children_cpu(), time.time()
    p = subprocess.run(["kvbuild", "-q", "--force", "--duplicates", "sum", "-o", out, inp], check=True)
    wall = time.time() - t0
    cpu = children_cpu() - c0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # MiB, the largest child so far
    return wall, cpu, peak


class Peaks:
    """Samples the RSS of each worker process plus its kvbuild children."""

    def __init__(self, pids):
        self.procs = [psutil.Process(p) for p in pids]
        self.peak = {p: 0 for p in pids}
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            for p in self.procs:
                try:
                    rss = p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
                except psutil.Error:
                    continue
                self.peak[p.pid] = max(self.peak[p.pid], rss)
            time.sleep(0.1)

    def done(self):
        self.stop = True
        self.t.join()
        return [v / 2**20 for v in self.peak.values()]


def cpu_of(pids):
    total = 0.0
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        total += t.user + t.system + t.children_user + t.children_system
    return total


def beam_run(exe, inp, out, nparts, work):
    """kvbeam on Prism: one process (the runner and its loopback workers are
    goroutines of it), so its peak RSS is the peak of all workers."""
    c0 = children_cpu()
    t0 = time.time()
    p = subprocess.Popen([exe, "--input", inp, "--output", out, "--force", "--parts", str(nparts),
                          "--duplicates", "sum", "--tmp_dir", work], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    peaks = Peaks([p.pid])
    err = p.stderr.read().decode()
    rc = p.wait()
    wall = time.time() - t0
    peak = peaks.done()[0]
    if rc != 0:
        raise SystemExit(f"kvbeam failed ({rc}): {err[-2000:]}")
    summary = [l for l in err.splitlines() if l.startswith("kvbeam: done")]
    return wall, children_cpu() - c0, peak, (summary[-1] if summary else "")


def dask_run(client, inp, out, nparts):
    import dask.bag as db
    import kvdict.dask

    pids = list(client.run(os.getpid).values())
    c0 = cpu_of(pids)
    me0 = sum(os.times()[:4])
    peaks = Peaks(pids)
    t0 = time.time()
    bag = db.read_text(inp, blocksize="16MiB").map(lambda l: tuple(l.rstrip("\n").split("\t", 1)))
    kvdict.dask.build_from_bag(out, bag, "sum", nparts=nparts, force=True)
    wall = time.time() - t0
    per_worker = peaks.done()
    cpu = cpu_of(pids) - c0 + sum(os.times()[:4]) - me0
    return wall, cpu, per_worker


def sent_bytes(client):
    return sum(client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total).values())


def join64(inp, work):
    """Route the input into 64 ranges, build each with kvbuild part, time
    kvbuild join with full checksums and with --skip-checksums."""
    import bisect
    sample = os.path.join(work, "sample.tsv")
    subprocess.run(f"awk 'NR % 50 == 1' {inp} > {sample}", shell=True, check=True)
    splits_file = os.path.join(work, "splits.txt")
    with open(splits_file, "wb") as f:
        f.write(subprocess.run(["kvbuild", "splits", "-n", "64", sample], check=True, capture_output=True).stdout)
    splits = [l for l in open(splits_file, "rb").read().split(b"\n") if l]
    outs = [open(os.path.join(work, f"r{i}.tsv"), "wb") for i in range(len(splits) + 1)]
    for line in open(inp, "rb"):
        outs[bisect.bisect_right(splits, line.split(b"\t", 1)[0])].write(line)
    for o in outs:
        o.close()
    parts = os.path.join(work, "parts")
    for i in range(len(outs)):
        subprocess.run(["kvbuild", "part", "-q", "--dir", parts, "--splits", splits_file, "--range", str(i),
                        "--name", f"p{i:05d}", "--duplicates", "sum", "--threads", "1",
                        os.path.join(work, f"r{i}.tsv")], check=True, stdout=subprocess.DEVNULL)
    size = sum(os.path.getsize(os.path.join(parts, f)) for f in os.listdir(parts))
    res = {}
    for flags in ([], ["--skip-checksums"]):
        ts = []
        for _ in range(3):
            t0 = time.time()
            subprocess.run(["kvbuild", "join", "-q", "--force", "-o", os.path.join(work, "joined.kvd")] + flags + [parts],
                           check=True)
            ts.append(time.time() - t0)
        res[" ".join(flags) or "full checksums"] = statistics.median(ts)
    return len(outs), size, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--nparts", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--input", default=None, help="use this input file (made by --make-input) instead of a fresh one")
    ap.add_argument("--make-input", default=None, metavar="FILE", help="only write the --lines input to FILE")
    ap.add_argument("--only", default="single,dask,join", help="comma-separated: single, dask, beam, join")
    ap.add_argument("--beam", default=None, metavar="KVBEAM", help="kvbeam binary, for 'beam'")
    a = ap.parse_args()
    if a.make_input:
        make_input(a.make_input, a.lines)
        print(f"wrote {a.make_input}: {a.lines} lines, {os.path.getsize(a.make_input) / 2**20:.1f} MiB")
        return 0
    only = set(a.only.split(","))
    work = tempfile.mkdtemp(prefix="kvdict-scaleout-", dir=a.dir)
    try:
        inp = a.input
        if inp is None:
            inp = os.path.join(work, "in.tsv")
            make_input(inp, a.lines)
        nlines = sum(1 for _ in open(inp, "rb"))
        print(f"input: {nlines} lines, {os.path.getsize(inp) / 2**20:.1f} MiB; load {os.getloadavg()}", flush=True)
        single_kvd = os.path.join(work, "single.kvd")
        if "single" in only:
            rows = []
            for _ in range(a.runs):
                rows.append(single(inp, single_kvd))
                print("single kvbuild: wall %.1fs cpu %.1fs peak %.0f MiB" % rows[-1], flush=True)
            print("single median: wall %.1fs cpu %.1fs" % (statistics.median(r[0] for r in rows),
                                                           statistics.median(r[1] for r in rows)), flush=True)
        elif only & {"dask", "beam"}:
            single(inp, single_kvd)  # the reference dump, not timed

        def same_as_single(kvd):
            return subprocess.run(f"cmp <(kvlookup dump {single_kvd}) <(kvlookup dump {kvd})",
                                  shell=True, executable="/bin/bash").returncode == 0

        if "dask" in only:
            import distributed
            with distributed.LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                                          dashboard_address=None, silence_logs=40) as cl, distributed.Client(cl) as c:
                drows = []
                for _ in range(a.runs):
                    s0 = sent_bytes(c)
                    drows.append(dask_run(c, inp, os.path.join(work, "dask.kvd"), a.nparts))
                    w, cpu, per = drows[-1]
                    print(f"dask {a.workers} workers, {a.nparts} parts: wall {w:.1f}s cpu {cpu:.1f}s "
                          f"peak per worker (+ its kvbuild) {', '.join('%.0f MiB' % p for p in per)}; "
                          f"sent between workers {(sent_bytes(c) - s0) / 2**20:.0f} MiB", flush=True)
                print("dask median: wall %.1fs cpu %.1fs" % (statistics.median(r[0] for r in drows),
                                                             statistics.median(r[1] for r in drows)), flush=True)
            print("dump of dask build == single build:", same_as_single(os.path.join(work, "dask.kvd")), flush=True)
        if "beam" in only:
            if not a.beam:
                raise SystemExit("--only beam needs --beam KVBEAM")
            brows = []
            for _ in range(a.runs):
                brows.append(beam_run(a.beam, inp, os.path.join(work, "beam.kvd"), a.nparts, work))
                w, cpu, peak, summ = brows[-1]
                print(f"beam prism, {a.nparts} parts: wall {w:.1f}s cpu {cpu:.1f}s peak {peak:.0f} MiB; {summ}",
                      flush=True)
            print("beam median: wall %.1fs cpu %.1fs" % (statistics.median(r[0] for r in brows),
                                                         statistics.median(r[1] for r in brows)), flush=True)
            print("dump of beam build == single build:", same_as_single(os.path.join(work, "beam.kvd")), flush=True)
        if "join" in only:
            n, size, res = join64(inp, work)
            print(f"join of {n} parts ({size / 2**20:.1f} MiB): " +
                  ", ".join(f"{k} {v:.2f}s" for k, v in res.items()) + " (median of 3)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
