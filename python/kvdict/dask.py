"""kvdict.dask: build one dictionary from a Dask bag or dataframe, on a cluster.

The steps are kvbuild's distributed build (README, "Across machines"):

1. sample the keys (a fixed number per input partition) and cut them into
   ``nparts`` ranges with ``kvbuild splits``;
2. shuffle the rows by range (``set_index`` on the range number with one
   division per range, so each output partition holds exactly one range);
3. on the workers, pipe each range's rows into ``kvbuild part`` (its own
   external sort; any order), under an attempt-unique name;
4. on the client, ``kvbuild join`` the parts the computation returned into
   one dictionary (atomic; hard links, no copy).

Requirements: ``kvbuild`` on every worker and on the client (PATH,
$KVDICT_KVBUILD or ``kvbuild=``), and ``workdir`` on a file system that the
workers and the client share, the same as the target's (the join links the
part files; it never copies them). Each range is one Dask partition, held
in a worker's memory during the shuffle: choose ``nparts`` so that a range
fits (input size / nparts well under a worker's memory).

Duplicate keys: all rows of a key reach one part, but a shuffle does not
keep their order, so only the order-independent policies are offered:
``error``, ``sum`` and ``count``. (``last``, ``first`` and ``concat`` would
need an order column carried through the shuffle.)
"""

import bisect
import json
import os
import shutil
import tempfile
import uuid

from ._build import _b, escape, find_kvbuild, run, tsv_chunks
from ._errors import BuildError

DUPLICATES = ("error", "sum", "count")


def _unescape(b):
    out, i = bytearray(), 0
    while True:
        j = b.find(b"\\", i)
        if j < 0:
            out += b[i:]
            return bytes(out)
        out += b[i:j]
        out += {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r"}[b[j + 1:j + 2]]
        i = j + 2


def _value(v):
    if isinstance(v, bool):
        raise TypeError("kvdict.dask: a value is bytes, str or int, not bool")
    if isinstance(v, int):
        return str(v).encode()
    return _b(v, "a value")


def _worker_memory():
    """kvbuild part's --memory on this worker: half of the worker's memory
    limit per thread (the range's rows are held by the worker meanwhile), at
    least 256 MiB; None (kvbuild's default) outside a worker or without a
    limit."""
    try:
        from distributed import get_worker

        w = get_worker()
        mm = getattr(w, "memory_manager", None)
        limit = mm.memory_limit if mm is not None else w.memory_limit
        nthreads = w.state.nthreads if hasattr(w, "state") else w.nthreads
        if limit:
            return str(max(int(limit) // max(int(nthreads), 1) // 2, 256 << 20))
    except Exception:
        pass
    return None


def _build_part(df, partition_info=None, *, exe, parts_dir, splits_file, flags):
    """Worker side: one range's rows (any order) -> kvbuild part; returns
    the part's description (JSON) as a one-row frame."""
    import pandas as pd

    if "--memory" not in flags:
        mem = _worker_memory()
        if mem:
            flags = flags + ["--memory", mem]
    r = partition_info["number"]
    # Attempt-unique: a retried or speculative task never overwrites a part.
    name = f"part-{r:05d}-{uuid.uuid4().hex[:16]}"
    cmd = [exe, "part", "--quiet", "--dir", parts_dir, "--name", name, "--splits", splits_file,
           "--range", str(r), "--unescape"] + flags + ["-"]
    out, _ = run(cmd, tsv_chunks(zip(df["key"].tolist(), df["value"].tolist())), what="kvbuild part",
                 who="kvdict.dask")
    return pd.DataFrame({"range": [r], "path": [os.path.join(parts_dir, name + ".part.json")],
                         "info": [out.decode().strip()]})


def _sample(df, per):
    import pandas as pd

    keys = df["key"]
    if len(keys) > per:
        keys = keys.sample(n=per, random_state=0)  # deterministic: retries agree
    return pd.DataFrame({"key": list(keys)})


def build_from_dataframe(path, ddf, duplicates="error", *, key="key", value="value", nparts=None,
                         sample_per_partition=1000, workdir=None, kvbuild=None, force=False,
                         hash_index=False, memory=None, threads=1, args=(), keep_parts=False):
    """Build the dictionary directory ``path`` from the dask dataframe
    ``ddf``'s columns ``key`` and ``value`` (bytes or str, str encoded UTF-8;
    int values are written in decimal, for ``sum``).

    duplicates: ``error`` (default), ``sum`` or ``count`` (see the module
    doc). nparts: the number of key ranges, one part each (default: ddf's
    partition count). workdir: a directory shared by the workers and the
    client, on path's file system (default: a fresh one beside path,
    removed afterwards). memory and threads are each ``kvbuild part``'s
    (--memory: default half of the worker's memory limit per worker thread,
    at least 256 MiB, as the worker holds the range's rows meanwhile;
    --threads: default 1, as a worker usually runs one task per core); hash_index adds --hash-index; args are extra flags for
    every part. force replaces an existing dictionary atomically.

    Returns the joined dictionary's manifest summary as ``kvbuild join``
    prints it to stderr (a string). Raises BuildError with kvbuild's message
    and exit status (1 bad input, 2 usage or target exists, 3 I/O); the
    target is then untouched.
    """
    import dask
    import pandas as pd

    if duplicates not in DUPLICATES:
        raise ValueError(f"kvdict.dask: duplicates={duplicates!r}: want one of {', '.join(DUPLICATES)} "
                         "(last, first and concat depend on an input order that a shuffle does not keep)")
    exe = find_kvbuild(kvbuild)
    path = os.fspath(path)
    nparts = int(nparts or ddf.npartitions)
    if nparts < 1:
        raise ValueError("kvdict.dask: nparts must be at least 1")
    own_workdir = workdir is None
    if own_workdir:
        workdir = tempfile.mkdtemp(prefix="." + os.path.basename(path) + ".dask-",
                                   dir=os.path.dirname(os.path.abspath(path)))
    workdir = os.path.abspath(workdir)
    try:
        rows = ddf[[key, value]].rename(columns={key: "key", value: "value"})
        meta = pd.DataFrame({"key": pd.Series(dtype=object), "value": pd.Series(dtype=object)})
        rows = rows.map_partitions(
            lambda df: pd.DataFrame({"key": [_b(k, "a key") for k in df["key"]],
                                     "value": [_value(v) for v in df["value"]]}, index=df.index),
            meta=meta)
        # 1. split keys
        sample = rows.map_partitions(_sample, sample_per_partition, meta={"key": object}).compute()
        sample_file = os.path.join(workdir, "sample.txt")
        with open(sample_file, "wb") as f:
            for k in sample["key"]:
                f.write(escape(k) + b"\n")
        splits_out, _ = run([exe, "splits", "-n", str(nparts), sample_file], what="kvbuild splits",
                            who="kvdict.dask")
        splits_file = os.path.join(workdir, "splits.txt")
        with open(splits_file, "wb") as f:
            f.write(splits_out)
        splits = [_unescape(line) for line in splits_out.split(b"\n") if line]
        n = len(splits) + 1  # fewer when the sample has few distinct keys

        # 2. shuffle by range: partition r holds exactly range r
        ranged = rows.assign(r=rows["key"].map(lambda k: bisect.bisect_right(splits, k), meta=("r", "int64")))
        divisions = list(range(n)) + [n - 0.5]
        ranged = ranged.set_index("r", divisions=divisions)

        # 3. one part per partition, on the workers
        parts_dir = os.path.join(workdir, "parts")
        os.makedirs(parts_dir, exist_ok=True)
        flags = ["--duplicates", duplicates, "--threads", str(int(threads))]
        if memory is not None:
            flags += ["--memory", str(memory)]
        if hash_index:
            flags.append("--hash-index")
        flags += list(args)
        built = ranged.map_partitions(
            _build_part, exe=exe, parts_dir=parts_dir, splits_file=splits_file, flags=flags,
            meta={"range": "int64", "path": object, "info": object}).compute()
        if sorted(built["range"]) != list(range(n)):
            raise BuildError(f"kvdict.dask: parts for ranges {sorted(built['range'])}, want 0 to {n - 1}")
        for info in built["info"]:
            json.loads(info)  # the workers' answers are descriptions

        # 4. join the parts this computation returned (not any leftovers
        # of failed attempts in parts_dir)
        cmd = [exe, "join", "-o", path, "--move"]
        if force:
            cmd.append("--force")
        _, msg = run(cmd + list(built["path"]), what="kvbuild join", who="kvdict.dask")
        return msg
    finally:
        if own_workdir and not keep_parts:
            shutil.rmtree(workdir, ignore_errors=True)


def build_from_bag(path, bag, duplicates="error", **kw):
    """Build the dictionary ``path`` from a dask bag of (key, value) pairs;
    see build_from_dataframe for the options."""
    import pandas as pd

    meta = pd.DataFrame({"key": pd.Series(dtype=object), "value": pd.Series(dtype=object)})
    ddf = bag.map(lambda kv: (kv[0], kv[1])).to_dataframe(meta=meta)
    return build_from_dataframe(path, ddf, duplicates, **kw)
