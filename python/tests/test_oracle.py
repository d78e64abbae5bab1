"""Dictionaries built by kvbuild, read by both readers, compared with the Go
reader (kvlookup dump): every key, every value, misses, scans."""

import bisect
import os
import random

import pytest

import kvdict
from conftest import dump, opens  # noqa: F401

NAMES = ["url", "edge", "one", "empty", "pypi", "url-hix", "edge-hix", "url-zstd", "edge-zstd", "pypi-zstd",
         "url-zstd-hix", "edge-zstd-hix"]


def _get(dicts, name, backend):
    if name not in dicts:
        pytest.skip(f"{name} not built")
    if not opens(name, backend):
        with pytest.raises(kvdict.VersionError, match="codec 1"):
            kvdict.open(dicts[name][0], backend=backend)
        pytest.skip("refused, as it must be: the pure-Python reader has no zstd")
    return dicts[name]


# Ensure a full scan equals kvlookup dump, and every key's value and
# membership, through d[k], get, in and get_many.
@pytest.mark.parametrize("name", NAMES)
def test_every_key(dicts, backend, name):
    path, want = _get(dicts, name, backend)
    with kvdict.open(path, backend=backend) as d:
        assert len(d) == len(want)
        assert list(d.items()) == want
        sample = want if backend == "c" else random.Random(1).sample(want, min(len(want), 1000))
        for k, v in sample:
            assert d[k] == v
            assert d.get(k) == v
            assert k in d
        assert d.get_many([k for k, _ in sample]) == [v for _, v in sample]


# Ensure absent keys near present ones (one byte appended, the last byte
# dropped or changed, before the first key, after the last) are absent.
@pytest.mark.parametrize("name", NAMES)
def test_misses(dicts, backend, name):
    path, want = _get(dicts, name, backend)
    present = {k for k, _ in want}
    cands = [b"\x00" * 3, b"\xff" * 70000, b"k" * 65536]
    for k, _ in random.Random(2).sample(want, min(len(want), 2000 if backend == "c" else 300)):
        cands += [k + b"\x00", k + b"x", k[:-1], k[:-1] + bytes([(k[-1] + 1) % 256]) if k else b"\x01"]
    misses = [k for k in cands if k not in present]
    assert misses
    with kvdict.open(path, backend=backend) as d:
        for k in misses:
            assert k not in d
            assert d.get(k) is None
            with pytest.raises(KeyError) as e:
                d[k]
            assert e.value.args == (k,)
        assert d.get_many(misses, b"?") == [b"?"] * len(misses)


# Ensure prefix scans and ranges equal the filtered oracle, across
# partition boundaries.
@pytest.mark.parametrize("name", ["url", "edge", "pypi", "url-hix", "url-zstd", "pypi-zstd", "url-zstd-hix"])
def test_scans(dicts, backend, name):
    path, want = _get(dicts, name, backend)
    keys = [k for k, _ in want]
    rnd = random.Random(3)
    with kvdict.open(path, backend=backend) as d:
        if not name.startswith("edge"):
            assert len(d.manifest["partitions"]) >= 2, "want several partitions"
        prefixes = [b"", b"h", b"http://", b"https://w", b"\xff", b"\x00"] + [k[: rnd.randint(0, len(k))]
                                                                              for k in rnd.sample(keys, 20)]
        for p in prefixes:
            exp = [kv for kv in want if kv[0].startswith(p)]
            if backend == "python" and len(exp) > 5000:
                continue
            assert list(d.items(prefix=p)) == exp, p
        for _ in range(20):
            a, b = sorted(rnd.sample(keys, 2))
            a2 = a + b"\x00" if rnd.random() < 0.5 else a
            lo, hi = bisect.bisect_left(keys, a2), bisect.bisect_left(keys, b)
            if backend == "python" and hi - lo > 5000:
                continue
            assert list(d.range(a2, b)) == want[lo:hi]


# Ensure the C reader answers through the hash index when there is one: with
# the index's table zeroed (its footer left intact, so open accepts it),
# present keys become absent in C while the pure-Python reader, which walks
# the FST, still finds them. Never a wrong value either way.
@pytest.mark.parametrize("name", ["url-hix", "url-zstd-hix"])
def test_hash_index_used(dicts, tmp_path, name):
    import kvdict._dict

    if "c" not in kvdict.backends() or not getattr(kvdict._dict._kvdict, "HASH_INDEX", 0):
        pytest.skip("C reader without XXH3")
    import shutil

    path, want = dicts[name]
    dst = tmp_path / "d"
    shutil.copytree(path, dst)
    for f in os.listdir(dst):
        if f.endswith(".hix"):
            b = bytearray((dst / f).read_bytes())
            b[16:len(b) - 32 - 64] = bytes(len(b) - 32 - 64 - 16)
            (dst / f).write_bytes(b)
    with kvdict.open(dst, backend="c") as c:
        for k, v in want[:200]:
            assert c.get(k) is None
        with pytest.raises(kvdict.CorruptError):
            c.verify()
    if opens(name, "python"):
        with kvdict.open(dst, backend="python") as p:
            for k, v in want[:200]:
                assert p[k] == v
