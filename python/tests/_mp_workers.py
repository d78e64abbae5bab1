"""Worker functions for test_multiprocessing.py (importable by spawned
children)."""

import os

D = None  # the Dict: inherited through fork, or set by init() after unpickling
PAIRS = None


def init(d, pairs):
    global D, PAIRS
    D, PAIRS = d, pairs


def check(job):
    """Look up PAIRS[lo:hi] (and misses) in D; return (pid, checked, wrong, threads)."""
    lo, hi = job
    wrong = 0
    pairs = PAIRS[lo:hi]
    for k, v in pairs:
        if D[k] != v or D.get(k + b"\x00missing") is not None:
            wrong += 1
    got = D.get_many([k for k, _ in pairs])
    wrong += sum(1 for g, (_, v) in zip(got, pairs) if g != v)
    return os.getpid(), len(pairs), wrong, len(os.listdir("/proc/self/task"))


def mapped_kib(directory):
    """KiB of this process's mappings of files in directory that have page
    table entries (Rss in /proc/self/smaps), and the KiB those mappings
    span: {file name: (rss, size)}."""
    out, cur = {}, None
    with open("/proc/self/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 6 and not fields[0].endswith(":"):
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                name = fields[5]
                cur = None
                if os.path.dirname(name) == directory:
                    cur = os.path.basename(name)
                    rss, size = out.get(cur, (0, 0))
                    out[cur] = (rss, size + (hi - lo) // 1024)
            elif cur is not None and fields[0] == "Rss:":
                rss, size = out[cur]
                out[cur] = (rss + int(fields[1]), size)
    return out


def resident(job):
    """Before any lookup: the mapped_kib of D's files; then check(job)."""
    before = mapped_kib(os.path.realpath(D.version_path))
    return before, check(job)
