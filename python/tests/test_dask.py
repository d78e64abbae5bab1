"""kvdict.dask on a distributed.LocalCluster with several worker processes:
the dictionary built through sample -> splits -> shuffle -> kvbuild part on
the workers -> kvbuild join holds exactly what a single kvbuild of the same
pairs holds, for the policies that do not depend on input order."""

import os
import random

import pytest

from conftest import HERE, dump, edge_pairs

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pandas")

import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402

import kvdict  # noqa: E402
import kvdict.dask  # noqa: E402


@pytest.fixture(scope="module")
def client(kvbuild):
    # Workers are fresh processes: they find kvdict and kvbuild through the
    # environment, as on a real cluster.
    os.environ["PYTHONPATH"] = os.path.dirname(HERE) + os.pathsep + os.environ.get("PYTHONPATH", "")
    os.environ["KVDICT_KVBUILD"] = kvbuild
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as c:
        yield c


def _pairs():
    """Binary keys (NUL, 0xFF, TAB, newline, backslash, the empty key) with
    duplicates, shuffled: counts in the values for sum."""
    rnd = random.Random(5)
    keys = [k for k, _ in edge_pairs(3)] + [b"url/%d" % i for i in range(2000)]
    pairs = [(rnd.choice(keys), rnd.randrange(1000)) for _ in range(12000)]
    rnd.shuffle(pairs)
    return pairs


@pytest.mark.parametrize("policy", ["sum", "count", "error"])
def test_dask_equals_single_build(client, kvbuild, kvlookup, tmp_path, policy):
    pairs = _pairs()
    if policy == "error":  # each key once, so that error never fires
        pairs = list({k: (k, v) for k, v in pairs}.values())
    bag = db.from_sequence(pairs, npartitions=6)
    out = tmp_path / "dask.kvd"
    summary = kvdict.dask.build_from_bag(out, bag, policy, nparts=5, hash_index=policy == "sum")
    assert "from 5 parts" in summary
    single = tmp_path / "single.kvd"
    kvdict.build(single, [(k, str(v)) for k, v in pairs], policy, kvbuild=kvbuild)
    got, want = dump(kvlookup, str(out)), dump(kvlookup, str(single))
    assert len(want) > 2000
    assert got == want
    with kvdict.open(out) as d:
        assert d[b"url/17"] == dict(want)[b"url/17"]
        assert d.get(b"absent\x00") is None
    assert sorted(os.listdir(tmp_path)) == ["dask.kvd", "single.kvd"]  # the work directory is gone


def test_dask_dataframe_and_errors(client, kvlookup, tmp_path):
    import pandas as pd

    pdf = pd.DataFrame({"word": ["b", "a", "c", "a", "b", "a"], "n": [1, 2, 3, 4, 5, 6]})
    ddf = dd.from_pandas(pdf, npartitions=3)
    out = tmp_path / "words.kvd"
    kvdict.dask.build_from_dataframe(out, ddf, "sum", key="word", value="n", nparts=2)
    assert dump(kvlookup, str(out)) == [(b"a", b"12"), (b"b", b"6"), (b"c", b"3")]
    # the target exists: kvbuild's exit 2, nothing changed
    with pytest.raises(kvdict.BuildError) as e:
        kvdict.dask.build_from_dataframe(out, ddf, "count", key="word", value="n", nparts=2)
    assert e.value.returncode == 2 and "already exists" in str(e.value)
    kvdict.dask.build_from_dataframe(out, ddf, "count", key="word", value="n", nparts=2, force=True)
    assert dump(kvlookup, str(out)) == [(b"a", b"3"), (b"b", b"2"), (b"c", b"1")]
    # a duplicate under error: exit 1 from the part that holds it
    with pytest.raises(kvdict.BuildError) as e:
        kvdict.dask.build_from_dataframe(tmp_path / "dup.kvd", ddf, "error", key="word", value="n", nparts=2)
    assert e.value.returncode == 1 and "duplicate key" in str(e.value)
    assert not (tmp_path / "dup.kvd").exists()
    # order-dependent policies are refused
    for p in ("last", "first", "concat"):
        with pytest.raises(ValueError, match="order"):
            kvdict.dask.build_from_dataframe(tmp_path / "x.kvd", ddf, p, key="word", value="n")
