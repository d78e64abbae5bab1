"""get_many in the C reader looks keys up in chunks of 256 and groups of 16
whose memory loads overlap, and answers compressed partitions one by one:
its answers must equal single lookups' for every mix of key types, hits,
misses, partitions and format features, whatever the batch boundaries."""

import random
import shutil
import struct
import threading

import pytest

import kvdict
from conftest import opens

NAMES = ["url", "edge", "one", "empty", "pypi", "url-hix", "edge-hix", "url-zstd", "edge-zstd", "url-zstd-hix",
         "edge-zstd-hix"]


def _mixed(want, seed, n):
    """n keys: present ones as bytes, str, bytearray and memoryview, and
    misses next to them, in random order."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        if not want or rnd.random() < 0.3:
            k = rnd.choice(want)[0] + b"\x00" if want else b"absent"
            out.append(k)
            continue
        k = rnd.choice(want)[0]
        form = rnd.randrange(4)
        if form == 1:
            try:
                k = k.decode("utf-8")
            except UnicodeDecodeError:
                pass
        elif form == 2:
            k = bytearray(k)
        elif form == 3:
            k = memoryview(k)
        out.append(k)
    return out


# Ensure get_many equals d.get key by key, for lists of every length around
# the group (16) and chunk (256) sizes, with mixed key types and misses.
@pytest.mark.parametrize("name", NAMES)
def test_equals_single(dicts, backend, name):
    if name not in dicts:
        pytest.skip(f"{name} not built")
    path, want = dicts[name]
    if not opens(name, backend):
        pytest.skip("the pure-Python reader has no zstd")
    oracle = dict(want)
    with kvdict.open(path, backend=backend) as d:
        sizes = [0, 1, 15, 16, 17, 255, 256, 257, 1000] if backend == "c" else [0, 17, 257]
        for i, n in enumerate(sizes):
            keys = _mixed(want, i, n)
            got = d.get_many(keys, b"<absent>")
            exp = [oracle.get(bytes(k.encode() if isinstance(k, str) else k), b"<absent>") for k in keys]
            assert got == exp, n
            assert got == [d.get(k, b"<absent>") for k in keys]
        # any iterable, not only lists
        keys = [k for k, _ in want[:300]]
        assert d.get_many(iter(keys)) == [v for _, v in want[:300]]
        assert d.get_many(tuple(keys)) == [v for _, v in want[:300]]


# Ensure an absent key whose fingerprint matches an index slot is still
# absent, in single lookups and in get_many: the slots at the home of 200
# absent keys are rewritten to carry those keys' fingerprints (pointing at
# other keys' records), which open() does not notice (it checks no body
# checksum) and verify() does.
def test_fingerprint_collisions(dicts, tmp_path):
    if "c" not in kvdict.backends():
        pytest.skip("C extension not built")
    from kvdict import _kvdict
    src, want = dicts["url-hix"]
    dst = tmp_path / "d"
    shutil.copytree(src, dst)
    with kvdict.open(dst) as d:
        parts = d.manifest["partitions"]
    present = {k for k, _ in want}
    absent = [k + b"#" for k, _ in random.Random(5).sample(want, 2000)]
    absent = [k for k in absent if k not in present]
    forged = []
    for p in parts:
        hname = dst / p["hix"]["name"]
        b = bytearray(hname.read_bytes())
        body = b[16:-32]
        t = body[-64:]
        seed, m, _ = struct.unpack_from("<QQQ", t, 8)
        for k in absent:
            h = _kvdict._hix_hash(k, seed)
            home = (h * m) >> 64
            e = struct.unpack_from("<Q", body, home * 8)[0]
            if e == 0:
                continue
            body[home * 8:home * 8 + 8] = struct.pack("<Q", (e & ~0xFFFF) | (h & 0xFFFF))
            forged.append(k)
        b[16:-32] = body
        hname.write_bytes(bytes(b))
    forged = sorted(set(forged))
    assert len(forged) > 100
    with kvdict.open(dst, backend="c") as d:
        for k in forged:
            assert d.get(k) is None
            assert k not in d
        assert d.get_many(forged) == [None] * len(forged)
        with pytest.raises(kvdict.CorruptError):
            d.verify()


# Ensure close() from another thread while get_many runs either fails with
# RuntimeError (busy) or happens between calls, after which get_many raises
# ValueError: never a crash, never a wrong answer.
def test_close_during_get_many(dicts):
    if "c" not in kvdict.backends():
        pytest.skip("C extension not built")
    path, want = dicts["url-hix"]
    d = kvdict.open(path, backend="c")
    keys = [k for k, _ in want] * 3
    exp = [v for _, v in want] * 3
    errors, done = [], threading.Event()

    def work():
        try:
            while True:
                try:
                    got = d.get_many(keys)
                except ValueError:
                    return  # closed between calls
                if got != exp:
                    errors.append("wrong answer")
                    return
        except Exception as e:  # noqa: BLE001
            errors.append(e)
        finally:
            done.set()

    t = threading.Thread(target=work)
    t.start()
    refused = 0
    while True:
        try:
            d.close()
            break
        except RuntimeError:
            refused += 1
    t.join(60)
    assert not t.is_alive() and not errors


# Ensure a list that another thread resizes while get_many runs (without
# the GIL, between chunks) raises RuntimeError or answers for a consistent
# list, never reads past its end.
def test_list_resized_during_get_many(dicts):
    if "c" not in kvdict.backends():
        pytest.skip("C extension not built")
    path, want = dicts["url-hix"]
    keys = [k for k, _ in want] * 4
    stop = threading.Event()

    def shrink():
        while not stop.is_set():
            if len(keys) > 300:
                del keys[-100:]
            else:
                keys.extend([b"x"] * 1000)

    with kvdict.open(path, backend="c") as d:
        t = threading.Thread(target=shrink)
        t.start()
        try:
            for _ in range(200):
                try:
                    got = d.get_many(keys)
                except RuntimeError as e:
                    assert "changed size" in str(e)
                    continue
                assert len(got) >= 0
        finally:
            stop.set()
            t.join(60)


# Ensure a batch of hundreds of thousands of keys (over a thousand chunks,
# the same records met again and again) answers like the single lookups,
# from a list and from a generator, with str keys and misses mixed in.
def test_huge_batch(dicts, backend):
    path, want = dicts["url-hix"]
    n = 300_000 if backend == "c" else 20_000
    rnd = random.Random(7)
    keys, exp = [], []
    for _ in range(n):
        k, v = rnd.choice(want)
        r = rnd.random()
        if r < 0.2:
            keys.append(k + b"\x00")
            exp.append(None)
        elif r < 0.4:
            keys.append(k.decode())
            exp.append(v)
        else:
            keys.append(k)
            exp.append(v)
    with kvdict.open(path, backend=backend) as d:
        assert d.get_many(keys) == exp
        assert d.get_many(k for k in keys) == exp
