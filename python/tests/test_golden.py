"""The golden version 1 dictionary (reader/testdata/dict-v1, the worked
example of docs/FORMAT.md) opens and reads the same in both readers,
forever: the Python twin of the Go reader's TestCompat_V1."""

import kvdict
from conftest import GOLDEN, GOLDEN_HASH

WANT = [
    (b"", b"empty key"),
    ("café".encode(), b"non-ASCII key"),
    (b"empty_value", b""),
    (b"https://example.com/a", b"shared"),
    (b"https://example.com/b", b"shared"),
    (b"\xff\xfe\x00", b"binary key"),
]


# Ensure every key, value and count of the golden dictionary.
def test_golden_items(backend):
    with kvdict.open(GOLDEN, backend=backend) as d:
        assert d.backend == backend
        assert len(d) == 6
        assert list(d.items()) == WANT
        assert list(d.keys()) == [k for k, _ in WANT]
        assert list(d.values()) == [v for _, v in WANT]
        assert list(d) == [k for k, _ in WANT]
        for k, v in WANT:
            assert d[k] == v
            assert k in d
        assert d.manifest["format_version"] == 1
        d.verify()


# Ensure keys absent from the golden dictionary are absent, including
# prefixes and extensions of present keys.
def test_golden_misses(backend):
    with kvdict.open(GOLDEN, backend=backend) as d:
        for k in [b"\x00", b"caf", "café!".encode(), b"empty_valu", b"empty_value\x00", b"https://example.com/",
                  b"https://example.com/c", b"\xff", b"\xff\xfe", b"\xff\xfe\x00\x00", b"zzz"]:
            assert k not in d
            assert d.get(k) is None
            assert d.get(k, b"dflt") == b"dflt"


# Ensure prefix and range scans over the golden dictionary.
def test_golden_scans(backend):
    with kvdict.open(GOLDEN, backend=backend) as d:
        assert list(d.items(prefix=b"https://")) == WANT[3:5]
        assert list(d.keys(prefix="caf")) == ["café".encode()]
        assert list(d.items(prefix=b"")) == WANT
        assert list(d.items(prefix=b"\xff")) == WANT[5:]
        assert list(d.items(prefix=b"nothing")) == []
        assert list(d.range(b"c", b"f")) == WANT[1:3]
        assert list(d.range(None, b"c")) == WANT[:1]
        assert list(d.range(b"empty_value", None)) == WANT[2:]
        assert list(d.range(b"empty_value\x00", b"https://example.com/b")) == WANT[3:4]
        assert list(d.range(b"z", b"a")) == []


# Ensure the golden dictionary with keyed records and a hash index
# (reader/testdata/dict-hash) reads the same as dict-v1 in both readers.
def test_golden_hash(backend):
    with kvdict.open(GOLDEN_HASH, backend=backend) as d:
        assert d.manifest["features"] == ["keyed-records"]
        assert list(d.items()) == WANT
        for k, v in WANT:
            assert d[k] == v and k in d
        for k in [b"\x00", b"caf", b"https://example.com/", b"zzz", b"\xff\xfe"]:
            assert k not in d and d.get(k) is None
        assert d.get_many([k for k, _ in WANT] + [b"x"]) == [v for _, v in WANT] + [None]
        assert list(d.items(prefix=b"https://")) == WANT[3:5]
        d.verify()
