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
