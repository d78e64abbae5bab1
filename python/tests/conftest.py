"""Shared fixtures: the Go tools (kvbuild, kvlookup) as oracles, dictionaries
built by kvbuild from real data shapes, and the backend parameter that runs
every reader test against both readers.

The tools are found through $KVDICT_KVBUILD / $KVDICT_KVLOOKUP, then PATH,
then built once per session with `go build` from this checkout. Without
them the oracle tests are skipped (the golden tests still run).
"""

import base64
import json
import os
import random
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(REPO, "reader", "testdata", "dict-v1")
# the same keys and values, with keyed records and a hash index
GOLDEN_HASH = os.path.join(REPO, "reader", "testdata", "dict-hash")

sys.path.insert(0, HERE)

import kvdict  # noqa: E402

if os.environ.get("KVDICT_REQUIRE_C") and "c" not in kvdict.backends():
    raise RuntimeError("KVDICT_REQUIRE_C is set but the C extension did not import: " + repr(kvdict._dict._import_error))
if os.environ.get("KVDICT_REQUIRE_C") and not kvdict._dict._kvdict.HASH_INDEX:
    raise RuntimeError("KVDICT_REQUIRE_C is set but the C extension was built without xxhash.h (libxxhash-dev)")
if os.environ.get("KVDICT_REQUIRE_C") and not kvdict._dict._kvdict.ZSTD:
    raise RuntimeError("KVDICT_REQUIRE_C is set but the C extension was built without libzstd (libzstd-dev)")


def opens(name, backend):
    """Whether backend reads dictionary name; the pure-Python reader refuses
    compressed ones (zstd) with VersionError, which is checked here."""
    if "zstd" in name and backend == "python":
        return False
    return True


@pytest.fixture(params=["c", "python"])
def backend(request):
    """Each test using it runs once per reader."""
    if request.param not in kvdict.backends():
        pytest.skip("C extension not built")
    return request.param


def _tool(name, tmp_path_factory):
    exe = os.environ.get("KVDICT_" + name.upper()) or shutil.which(name)
    if exe:
        return exe
    if not shutil.which("go") or not os.path.exists(os.path.join(REPO, "go.mod")):
        pytest.skip(f"{name} not found and no Go toolchain to build it")
    out = tmp_path_factory.getbasetemp() / "bin"
    out.mkdir(exist_ok=True)
    exe = str(out / name)
    if not os.path.exists(exe):
        subprocess.run(["go", "build", "-o", exe, "./cmd/" + name], cwd=REPO, check=True)
    return exe


@pytest.fixture(scope="session")
def kvbuild(tmp_path_factory):
    return _tool("kvbuild", tmp_path_factory)


@pytest.fixture(scope="session")
def kvlookup(tmp_path_factory):
    return _tool("kvlookup", tmp_path_factory)


def dump(kvlookup, path):
    """Every (key, value) of the dictionary at path, as the Go reader sees it."""
    out = subprocess.run([kvlookup, "dump", "--format", "json", path], capture_output=True, check=True).stdout
    pairs = []
    for line in out.splitlines():
        o = json.loads(line)
        k = base64.b64decode(o["key_b64"]) if "key_b64" in o else o["key"].encode("utf-8")
        v = base64.b64decode(o["value_b64"]) if "value_b64" in o else o["value"].encode("utf-8")
        pairs.append((k, v))
    return pairs


def url_pairs(n, seed):
    """URL-like keys (as bench's kvgen -keys url makes them) with values of
    varying length, some repeated so the value log deduplicates them."""
    rnd = random.Random(seed)
    hosts = [f"{rnd.choice(['www.', '', 'cdn.'])}{''.join(rnd.choices('abcdefghijklmnop', k=rnd.randint(4, 12)))}"
             f".{rnd.choice(['com', 'org', 'io', 'nl', 'de'])}" for _ in range(300)]
    words = ["docs", "v2", "help", "info", "de", "top", "finance", "local", "movies", "garden", "api", "x"]
    out = []
    for i in range(n):
        h = hosts[min(int(rnd.paretovariate(1.0)) - 1, len(hosts) - 1)]
        path = "/".join(rnd.choices(words, k=rnd.randint(1, 4)))
        k = f"{rnd.choice(['http', 'https'])}://{h}/{path}/{rnd.randrange(10**10)}".encode()
        # a value shared by many keys, long enough (>= 16 bytes) for compressed
        # logs to store it once and refer to it across groups
        v = b"a shared value, stored once" if i % 7 == 0 else "".join(rnd.choices("abcdefXYZ0123-_", k=rnd.randint(0, 60))).encode()
        out.append((k, v))
    return out


def edge_pairs(seed):
    """Binary keys with NUL and 0xFF, the empty key, a 65,535-byte key, a
    value over 64 KiB, empty values, TAB/LF/CR/backslash inside keys and
    values, single-byte keys (many transitions from the root) and keys that
    are prefixes of other keys."""
    rnd = random.Random(seed)
    pairs = [
        (b"", b"the empty key"),
        (b"\x00", b"nul"),
        (b"\x00\x00\xff", b"nul nul ff"),
        (b"\xff" * 8, b"all ff"),
        (b"\xff\xfe\x00", b"binary"),
        (b"k" * 65535, b"longest key"),
        (b"big", bytes(rnd.getrandbits(8) for _ in range(70000))),
        (b"empty", b""),
        (b"tab\tkey", b"tab\tvalue\nnewline\rcr\\backslash"),
        ("café".encode(), "non-ASCII ✓".encode()),
        (b"a", b"1"),
        (b"ab", b"2"),
        (b"abc", b"3"),
    ]
    pairs += [(bytes([b]), b"byte %d" % b) for b in range(1, 256, 3)]
    pairs += [(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 20))), bytes(rnd.getrandbits(8) for _ in
                                                                                  range(rnd.randint(0, 30))))
              for _ in range(3000)]
    seen, out = set(), []
    for k, v in pairs:
        if k not in seen:
            seen.add(k)
            out.append((k, v))
    return out


@pytest.fixture(scope="session")
def dicts(kvbuild, kvlookup, tmp_path_factory):
    """name -> (path, pairs in key order from kvlookup dump) for dictionaries
    built by kvbuild from several data shapes."""
    base = tmp_path_factory.mktemp("dicts")
    out = {}
    specs = {
        "url": (url_pairs(30000, 1), ["--threads", "3"]),
        "edge": (edge_pairs(2), ["--threads", "4"]),
        "url-hix": (url_pairs(30000, 1), ["--threads", "3", "--hash-index"]),
        "edge-hix": (edge_pairs(2), ["--threads", "4", "--hash-index"]),
        "url-zstd": (url_pairs(30000, 1), ["--threads", "3", "--compression", "zstd"]),
        "edge-zstd": (edge_pairs(2), ["--threads", "4", "--compression", "zstd"]),
        # keyed records in zstd groups, the hash index addressing groups
        "url-zstd-hix": (url_pairs(30000, 1), ["--threads", "3", "--compression", "zstd", "--hash-index"]),
        "edge-zstd-hix": (edge_pairs(2), ["--threads", "4", "--compression", "zstd", "--hash-index"]),
        "one": ([(b"only", b"key")], []),
        "empty": ([], []),
    }
    for name, (pairs, flags) in specs.items():
        path = str(base / f"{name}.kvd")
        kvdict.build(path, pairs, kvbuild=kvbuild, args=flags)
        out[name] = (path, dump(kvlookup, path))
    pypi = os.path.join(REPO, "testdata", "pypi-sample.tsv")
    if os.path.exists(pypi):
        path = str(base / "pypi.kvd")
        kvdict.build(path, pypi, kvbuild=kvbuild)
        out["pypi"] = (path, dump(kvlookup, path))
        # real text: groups compressed with a trained dictionary (zstd-values)
        path = str(base / "pypi-zstd.kvd")
        kvdict.build(path, pypi, kvbuild=kvbuild, args=["--threads", "2", "--compression", "zstd"])
        out["pypi-zstd"] = (path, dump(kvlookup, path))
    return out
