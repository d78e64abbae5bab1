"""Damaged dictionaries raise kvdict errors; they never crash or hang the
interpreter. Each damage run happens in a child interpreter (a segfault
there fails the test) with a timeout (a hang fails it too)."""

import json
import os
import shutil
import struct
import subprocess
import sys

import pytest

import kvdict
from conftest import GOLDEN, GOLDEN_HASH

HERE = os.path.dirname(os.path.abspath(__file__))


def _run(backend, path, mode, seed=1, timeout=300):
    p = subprocess.run([sys.executable, os.path.join(HERE, "_damage.py"), backend, path, mode, str(seed)],
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    assert p.stdout.startswith("ok ")


# Ensure every single-bit flip in every file of the golden dictionary is
# caught by open or verify, with no crash on the way.
@pytest.mark.parametrize("path", [GOLDEN, GOLDEN_HASH])
def test_flip_golden(backend, path):
    _run(backend, path, "flip")


# Ensure flips in a bigger, multi-partition dictionary are caught too.
@pytest.mark.parametrize("name", ["pypi", "url-zstd", "edge-zstd-hix"])
def test_flip_built(backend, dicts, name):
    if backend == "python":
        pytest.skip("pure-Python verify is too slow on this size; the golden flips cover it")
    _run(backend, dicts[name][0], "flip")


# Ensure random garbage inside the FST and value-log bodies (which open
# does not checksum) gives kvdict errors or answers, never a crash or hang.
@pytest.mark.parametrize("name", ["golden", "golden-hash", "edge", "edge-hix", "edge-zstd", "edge-zstd-hix"])
def test_garbage(backend, dicts, name):
    if backend == "python" and not name.startswith("golden"):
        pytest.skip("too slow in pure Python; the golden garbage run covers its checks")
    path = {"golden": GOLDEN, "golden-hash": GOLDEN_HASH}.get(name) or dicts[name][0]
    _run(backend, path, "garbage", seed=7)


def _copy(tmp_path):
    dst = tmp_path / "d"
    shutil.copytree(GOLDEN, dst)
    return dst


# Ensure a truncated or extended file of any kind raises CorruptError.
@pytest.mark.parametrize("name", ["MANIFEST", "part-00000.fst", "part-00000.vlog"])
def test_truncated(backend, tmp_path, name):
    orig = (tmp_path / "x").write_bytes(b"") or open(os.path.join(GOLDEN, name), "rb").read()
    for n in [0, 1, 8, 15, 16, 19, 47, 48, len(orig) // 2, len(orig) - 1]:
        d = _copy(tmp_path)
        (d / name).write_bytes(orig[:n])
        with pytest.raises((kvdict.CorruptError, kvdict.FormatError)):
            kvdict.open(d, backend=backend)
        shutil.rmtree(d)
    d = _copy(tmp_path)
    (d / name).write_bytes(orig + b"\0")
    with pytest.raises(kvdict.CorruptError):
        kvdict.open(d, backend=backend)


# Ensure a missing data file raises CorruptError.
def test_missing_file(backend, tmp_path):
    d = _copy(tmp_path)
    os.remove(d / "part-00000.vlog")
    with pytest.raises(kvdict.CorruptError, match="missing"):
        kvdict.open(d, backend=backend)


def _rewrite_manifest(d, edit):
    data = (d / "MANIFEST").read_bytes()
    n = struct.unpack_from("<I", data, 12)[0]
    m = json.loads(data[16:16 + n])
    edit(m)
    body = json.dumps(m).encode()
    head = data[:12] + struct.pack("<I", len(body)) + body
    (d / "MANIFEST").write_bytes(head + struct.pack("<I", kvdict._pure.crc32c(head)))


# Ensure a required feature this build does not know (compressed records,
# until they are implemented here), or a newer format version, is refused
# with VersionError: never misread; an unknown optional feature is ignored.
@pytest.mark.parametrize("edit", [
    lambda m: m.__setitem__("features", ["some-future-feature"]),
    lambda m: m.__setitem__("format_version", 2),
    lambda m: m.__setitem__("features", ["keyed-records", "zstd"]),
])
def test_unknown_feature(backend, tmp_path, edit):
    d = _copy(tmp_path)
    _rewrite_manifest(d, edit)
    with pytest.raises(kvdict.VersionError):
        kvdict.open(d, backend=backend)


# Ensure a re-checksummed manifest that lies about the files (counts,
# sizes, order) is caught.
@pytest.mark.parametrize("edit", [
    lambda m: m.__setitem__("keys", 7),
    lambda m: m["partitions"][0]["fst"].__setitem__("count", 5),
    lambda m: m["partitions"][0]["vlog"].__setitem__("crc32c", 1),
    lambda m: m["partitions"][0]["fst"].__setitem__("name", "../MANIFEST"),
    lambda m: m["partitions"][0].__setitem__("first_key", "!!"),
])
def test_lying_manifest(backend, tmp_path, edit):
    d = _copy(tmp_path)
    _rewrite_manifest(d, edit)
    with pytest.raises(kvdict.CorruptError):
        kvdict.open(d, backend=backend)


# Ensure a value log with a codec this build does not know (flags != 0) is
# refused with VersionError, and a bad magic with FormatError.
def test_codec_and_magic(backend, tmp_path):
    for name, at, val, err in [("part-00000.vlog", 12, b"\x01", kvdict.VersionError),
                               ("part-00000.fst", 0, b"X", kvdict.FormatError),
                               ("part-00000.fst", 8, b"\x02", kvdict.VersionError)]:
        d = _copy(tmp_path)
        b = bytearray((d / name).read_bytes())
        b[at:at + 1] = val
        # keep the footer CRC and MANIFEST consistent: only the header changes
        (d / name).write_bytes(bytes(b))
        with pytest.raises(err):
            kvdict.open(d, backend=backend)
        shutil.rmtree(d)


# Ensure an optional feature this build does not know is ignored.
def test_unknown_optional_feature(backend, tmp_path):
    d = _copy(tmp_path)
    _rewrite_manifest(d, lambda m: m.__setitem__("optional_features", ["some-future-index"]))
    with kvdict.open(d, backend=backend) as x:
        assert x[b"empty_value"] == b""
