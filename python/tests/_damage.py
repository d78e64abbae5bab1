"""Run by test_corrupt.py in a child interpreter, so that a crash (a
segfault in the C reader) fails the test instead of killing pytest.

usage: _damage.py BACKEND DICT MODE [SEED]
  MODE flip: flip each byte position chosen (all of small files), one at
        a time; after each flip, open, scan and look every key up. Only
        kvdict errors may come out, and open+verify must always fail
        (CRC-32C catches every single-byte error). Files this package
        ignores (.top) are left alone.
  MODE garbage: overwrite 1-16 random bytes with random values inside the
        FST and value-log bodies (where open checks no checksum), then
        read everything. Only kvdict errors may come out.
Prints "ok N" (N damaged copies tried) or raises.
"""

import faulthandler
import os
import random
import shutil
import sys
import tempfile

faulthandler.enable()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import kvdict  # noqa: E402


def read_all(path, backend, keys, verify, scan=True):
    """Open path and touch everything; return True if some kvdict error
    was raised (anything else propagates and fails the run)."""
    try:
        with kvdict.open(path, backend=backend) as d:
            n = 0
            for _ in d.items() if scan else ():
                n += 1
            for k in keys:
                try:
                    d[k]
                except KeyError:
                    pass
                k in d
            d.get_many(keys)
            for k in keys[:20]:
                list(d.items(prefix=k[:3]))
            if verify:
                d.verify()
    except (kvdict.CorruptError, kvdict.VersionError, kvdict.FormatError):
        return True
    return False


def main():
    backend, src, mode = sys.argv[1:4]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    rnd = random.Random(seed)
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "d")
        shutil.copytree(src, path)
        with kvdict.open(path, backend=backend) as d:
            keys = list(d.keys())
        keys = rnd.sample(keys, min(len(keys), 300)) + [b"", b"\xff" * 3, b"absent"]
        # Top files (optional feature fst-top, part-NNNNN.top) are not read
        # by this package: damage to them cannot change its answers.
        names = sorted(n for n in os.listdir(path) if not n.endswith(".top"))
        tried = 0
        for name in names:
            f = os.path.join(path, name)
            orig = open(f, "rb").read()
            n = len(orig)
            if mode == "flip":
                positions = range(n) if n <= 2048 else sorted(rnd.sample(range(n), 40))
                for pos in positions:
                    b = bytearray(orig)
                    b[pos] ^= 1 << rnd.randrange(8)
                    open(f, "wb").write(b)
                    read_all(path, backend, keys, verify=False, scan=tried % 10 == 0)
                    if not read_all(path, backend, [], verify=True, scan=False):
                        raise AssertionError(f"{name}: flipped byte {pos} went undetected by open+verify")
                    tried += 1
            else:
                if name == "MANIFEST":
                    continue
                for _ in range(150 if backend == "c" else 60):
                    b = bytearray(orig)
                    start = rnd.randrange(16, n - 32)
                    for i in range(start, min(start + rnd.randint(1, 16), n - 32)):
                        b[i] = rnd.randrange(256)
                    open(f, "wb").write(b)
                    read_all(path, backend, keys, verify=False)
                    tried += 1
            open(f, "wb").write(orig)
        print("ok", tried)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
