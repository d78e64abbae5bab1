"""The Python surface: key types, errors, life cycle, pickling, threads."""

import os
import pickle
import threading

import pytest

import kvdict
from conftest import GOLDEN


# Ensure str keys are their UTF-8 bytes, and bytearray and memoryview keys
# work wherever bytes do.
def test_key_types(backend):
    with kvdict.open(GOLDEN, backend=backend) as d:
        for k in ["café", "café".encode(), bytearray("café".encode()), memoryview("café".encode())]:
            assert d[k] == b"non-ASCII key"
            assert k in d
            assert d.get(k) == b"non-ASCII key"
        assert d.get_many(["café", bytearray(b"empty_value"), memoryview(b"\xff\xfe\x00"), "nope"]) == [
            b"non-ASCII key", b"", b"binary key", None]
        assert list(d.keys(prefix=bytearray(b"https"))) == [b"https://example.com/a", b"https://example.com/b"]
        assert list(d.range("https://example.com/b", "zz")) == [(b"https://example.com/b", b"shared")]


# Ensure keys of other types raise TypeError, and KeyError carries the key
# exactly as given.
def test_key_errors(backend):
    with kvdict.open(GOLDEN, backend=backend) as d:
        for bad in [1, 1.5, None, object()]:
            with pytest.raises(TypeError):
                d[bad]
            with pytest.raises(TypeError):
                d.get(bad)
            with pytest.raises(TypeError):
                bad in d
        with pytest.raises(TypeError):
            d.get_many([b"a", 3])
        with pytest.raises(KeyError) as e:
            d["absent ✓"]
        assert e.value.args == ("absent ✓",)
        with pytest.raises(TypeError):
            d.range(1, 2)


# Ensure every use after close() raises ValueError (never crashes), values
# taken before stay valid, and close() is idempotent.
def test_closed(backend):
    d = kvdict.open(GOLDEN, backend=backend)
    v = d[b""]
    it = d.items()
    assert next(it) == (b"", b"empty key")
    d.close()
    d.close()
    assert d.closed
    assert v == b"empty key"
    for use in [lambda: d[b""], lambda: d.get(b""), lambda: b"" in d, lambda: len(d), lambda: d.get_many([b""]),
                lambda: list(d.items()), lambda: next(it), lambda: d.verify(), lambda: list(d)]:
        with pytest.raises(ValueError):
            use()
    assert "closed" in repr(d)


# Ensure `with` closes the dictionary.
def test_with(backend):
    with kvdict.open(GOLDEN, backend=backend) as d:
        assert not d.closed
    assert d.closed


# Ensure a Dict pickles as its path and options: the copy is a new, open
# Dict on the same files, and the pickle is small whatever the size.
def test_pickle(backend):
    with kvdict.open(GOLDEN, backend=backend, advice="random") as d:
        s = pickle.dumps(d)
        assert len(s) < 300
        e = pickle.loads(s)
    assert isinstance(e, kvdict.Dict)
    assert e.path == GOLDEN and e.backend == backend and not e.closed
    assert e[b"empty_value"] == b""
    e.close()


# Ensure the backend is chosen by parameter, then KVDICT_BACKEND.
def test_backend_choice(monkeypatch):
    monkeypatch.setenv("KVDICT_BACKEND", "python")
    with kvdict.open(GOLDEN) as d:
        assert d.backend == "python"
    monkeypatch.delenv("KVDICT_BACKEND")
    with kvdict.open(GOLDEN) as d:
        assert d.backend == kvdict.backends()[0]
    with pytest.raises(ValueError):
        kvdict.open(GOLDEN, backend="go")
    with pytest.raises(ValueError):
        kvdict.open(GOLDEN, advice="sometimes")


# Ensure a Dict is a Mapping and behaves like one where it can.
def test_mapping(backend):
    import collections.abc

    with kvdict.open(GOLDEN, backend=backend) as d:
        assert isinstance(d, collections.abc.Mapping)
        assert dict(d.items()) == {k: d[k] for k in d}


# Ensure paths that are not dictionaries raise the right errors.
def test_not_a_dictionary(tmp_path):
    with pytest.raises(FileNotFoundError):
        kvdict.open(tmp_path / "missing")
    with pytest.raises(kvdict.FormatError):
        kvdict.open(tmp_path)  # a directory without MANIFEST
    f = tmp_path / "file.tsv"
    f.write_bytes(b"a\tb\n")
    with pytest.raises(kvdict.FormatError):
        kvdict.open(f)


# Ensure 4 threads running get_many and scans on one Dict get identical
# answers (get_many releases the GIL in the C reader).
def test_threads(backend):
    d = kvdict.open(GOLDEN, backend=backend)
    keys = [k for k in d] * 200 + [b"absent"] * 50
    want = d.get_many(keys)
    items = list(d.items())
    errors = []

    def work():
        try:
            for _ in range(30 if backend == "c" else 3):
                assert d.get_many(keys) == want
                assert list(d.items()) == items
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors
    d.close()


# Ensure open() starts no thread, so forking after it is safe (and 3.12+
# has nothing to warn about).
def test_no_threads(backend):
    before = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else None
    with kvdict.open(GOLDEN, backend=backend) as d:
        d.get_many([b""])
        if before is not None:
            assert len(os.listdir("/proc/self/task")) <= before


# Ensure a store (kvbuild --publish) opens at the version CURRENT names,
# holds the lease the store's gc respects, and pickles as that version.
def test_store(kvbuild, tmp_path, backend):
    import fcntl
    import subprocess

    (tmp_path / "a.tsv").write_bytes(b"k\t1\n")
    (tmp_path / "b.tsv").write_bytes(b"k\t2\nx\t3\n")
    store = tmp_path / "store"
    subprocess.run([kvbuild, "-q", "--publish", "-o", str(store), str(tmp_path / "a.tsv")], check=True)
    d = kvdict.open(store, backend=backend)
    subprocess.run([kvbuild, "-q", "--publish", "-o", str(store), str(tmp_path / "b.tsv")], check=True)
    e = kvdict.open(store, backend=backend)
    assert d[b"k"] == b"1" and len(d) == 1
    assert e[b"k"] == b"2" and len(e) == 2
    assert d.version_path.endswith("v000001.kvd") and e.version_path.endswith("v000002.kvd")
    assert pickle.loads(pickle.dumps(d))[b"k"] == b"1"
    with open(os.path.join(d.version_path, "MANIFEST"), "rb") as f:
        with pytest.raises(BlockingIOError):
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what gc tries
        d.close()
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released by close()
    e.close()
    (store / "CURRENT").write_bytes(b"v1.kvd\n")
    with pytest.raises(kvdict.CorruptError):
        kvdict.open(store, backend=backend)
