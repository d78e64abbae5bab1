"""kvdict.build: Python pairs and TSV files through kvbuild."""

import os

import pytest

import kvdict


# Ensure any bytes survive the round trip through kvbuild's escaping: TAB,
# LF, CR and backslash in keys and values, str and bytes mixed.
def test_round_trip(kvbuild, tmp_path):
    pairs = [(b"a\tb", b"c\nd"), (b"back\\slash", b"\\t is not a tab"), ("ключ", "значение"), (b"cr\r", b"\r\n"),
             (b"", b"empty key"), (b"nul\x00", b"")]
    kvdict.build(tmp_path / "d", iter(pairs), kvbuild=kvbuild)
    with kvdict.open(tmp_path / "d") as d:
        assert len(d) == len(pairs)
        for k, v in pairs:
            k = k.encode() if isinstance(k, str) else k
            v = v.encode() if isinstance(v, str) else v
            assert d[k] == v


# Ensure the duplicate policies are kvbuild's.
@pytest.mark.parametrize("policy,want", [("last", b"3"), ("first", b"1"), ("sum", b"6"), ("count", b"3")])
def test_duplicates(kvbuild, tmp_path, policy, want):
    kvdict.build(tmp_path / "d", [(b"k", b"1"), (b"x", b"9"), (b"k", b"2"), (b"k", b"3")], policy, kvbuild=kvbuild)
    with kvdict.open(tmp_path / "d") as d:
        assert d[b"k"] == want


# Ensure kvbuild's failures come back as BuildError with its message, and
# leave no dictionary behind.
def test_errors(kvbuild, tmp_path):
    with pytest.raises(kvdict.BuildError, match="duplicate key"):
        kvdict.build(tmp_path / "d", [(b"k", b"1"), (b"k", b"2")], "error", kvbuild=kvbuild)
    assert not (tmp_path / "d").exists()
    with pytest.raises(kvdict.BuildError, match="65535"):
        kvdict.build(tmp_path / "d", [(b"k" * 65536, b"1")], kvbuild=kvbuild)
    with pytest.raises(ValueError):
        kvdict.build(tmp_path / "d", [], "random", kvbuild=kvbuild)
    with pytest.raises(kvdict.BuildError, match="cannot run"):
        kvdict.build(tmp_path / "d", [], kvbuild=str(tmp_path / "no-kvbuild"))
    with pytest.raises(TypeError):
        kvdict.build(tmp_path / "d", [(1, b"x")], kvbuild=kvbuild)
    assert not (tmp_path / "d").exists()
    kvdict.build(tmp_path / "d", [(b"a", b"b")], kvbuild=kvbuild)
    with pytest.raises(kvdict.BuildError, match="exists"):
        kvdict.build(tmp_path / "d", [(b"a", b"c")], kvbuild=kvbuild)
    kvdict.build(tmp_path / "d", [(b"a", b"c")], kvbuild=kvbuild, force=True)
    with kvdict.open(tmp_path / "d") as d:
        assert d[b"a"] == b"c"


# Ensure TSV paths are passed to kvbuild as they are (not escaped), one path
# or several.
def test_files(kvbuild, tmp_path):
    (tmp_path / "a.tsv").write_bytes(b"k1\tv1\nk2\tv\\t2\n")
    (tmp_path / "b.tsv").write_bytes(b"k3\tv3\n")
    kvdict.build(tmp_path / "one", tmp_path / "a.tsv", kvbuild=kvbuild)
    with kvdict.open(tmp_path / "one") as d:
        assert list(d.items()) == [(b"k1", b"v1"), (b"k2", b"v\\t2")]
    kvdict.build(tmp_path / "two", [str(tmp_path / "a.tsv"), tmp_path / "b.tsv"], kvbuild=kvbuild)
    with kvdict.open(tmp_path / "two") as d:
        assert len(d) == 3


# Ensure pairs that fail part-way, after several MiB went to kvbuild, raise
# their own error and leave nothing behind: no target and no temporary
# directory (kvbuild is stopped with SIGTERM, on which it cleans up).
def test_failure_mid_stream(kvbuild, tmp_path):
    def pairs():
        for i in range(200_000):
            yield b"key%09d" % i, b"v" * 40
        yield b"bad", 3

    with pytest.raises(TypeError, match="a value is bytes or str"):
        kvdict.build(tmp_path / "d.kvd", pairs(), kvbuild=kvbuild)
    assert os.listdir(tmp_path) == []
