"""Decoding and validation of a dictionary's MANIFEST file.

The layout (internal/manifest/manifest.go, docs/FORMAT.md), little-endian::

     0:8      magic "kvdMANI\\0"
     8:12     manifest version (uint32), 1
    12:16     body length L (uint32), at most 16 MiB
    16:16+L   body: a UTF-8 JSON object
    16+L:+4   CRC-32C of bytes [0, 16+L)

Both readers share this module: the JSON body is parsed with the standard
library either way, and the checksum comes from the backend (C or Python).
Validation follows the Go reader (manifest.Validate) rule for rule, so the
same damaged manifest fails the same way in Go and in Python.
"""

import base64
import binascii
import json
import struct

from ._errors import CorruptError, FormatError, VersionError

MAGIC = b"kvdMANI\x00"
VERSION = 1
FORMAT_VERSION = 1
MAX_BODY_LEN = 16 << 20
FILE_NAME = "MANIFEST"

# Required format features ("features") this package reads. A manifest
# naming any other is refused with VersionError: never misread.
#   keyed-records  value logs of version 2: each key's record holds the key
#   zstd-records   value logs of codec 1: keyed records in zstd groups (the
#                  C reader with libzstd; the pure-Python one refuses them)
#   zstd-values    value logs of version 1, codec 1: the distinct values alone
#                  in zstd groups, FST outputs = group offset << 4 | index
#                  (C reader with libzstd; the pure-Python one refuses them)
KNOWN_FEATURES = frozenset({"keyed-records", "zstd-records", "zstd-values"})
# Optional features ("optional_features") may be ignored; this package uses
#   hash-index     a part-NNNNN.hix per partition (C reader, with XXH3)
# and ignores
#   fst-top        a part-NNNNN.top per partition (a compact copy of the FST's
#                  upper states that the Go reader starts its walk in): the
#                  FST alone answers the same
KEYED, HASH_INDEX = "keyed-records", "hash-index"
# The required features announcing compressed (zstd) value logs.
COMPRESSED = ("zstd-records", "zstd-values")


class Partition:
    """One key range: its FST and value-log files, as the MANIFEST lists them."""

    __slots__ = ("first_key", "last_key", "keys", "fst", "vlog", "hix")

    def __init__(self, first_key, last_key, keys, fst, vlog, hix):
        self.first_key = first_key
        self.last_key = last_key
        self.keys = keys
        self.fst = fst  # dict: name, size, crc32c, count
        self.vlog = vlog
        self.hix = hix  # the same, or None without a hash index


def _key(v, where):
    if v is None:
        return b""
    if not isinstance(v, str):
        raise CorruptError(f"kvdict: {where}: manifest key is not base64")
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise CorruptError(f"kvdict: {where}: manifest key is not base64") from None


def _uint(d, name, where):
    v = d.get(name, 0)
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 1 << 64:
        raise CorruptError(f"kvdict: {where}: manifest field {name!r} is not an unsigned integer")
    return v


def _file(p, name, where, i):
    f = p.get(name)
    if not isinstance(f, dict):
        raise CorruptError(f"kvdict: {where}: manifest partition {i} has no {name!r} file")
    fname = f.get("name")
    if (
        not isinstance(fname, str)
        or not fname
        or "/" in fname
        or "\\" in fname
        or fname.startswith(".")
        or fname == FILE_NAME
    ):
        raise CorruptError(f"kvdict: {where}: manifest partition {i} names an invalid file {fname!r}")
    crc = _uint(f, "crc32c", where)
    if crc >= 1 << 32:
        raise CorruptError(f"kvdict: {where}: manifest partition {i}: crc32c out of range")
    return {"name": fname, "size": _uint(f, "size", where), "crc32c": crc, "count": _uint(f, "count", where)}


def decode(data, where, crc32c):
    """Decode and validate MANIFEST bytes; where names the file in errors.

    Returns (the JSON object, [Partition], keyed, compressed). Raises FormatError (bad magic),
    VersionError (newer manifest or format version, unknown feature) or
    CorruptError (anything damaged)."""
    if len(data) < 20:
        if len(data) >= 8 and data[:8] != MAGIC:
            raise FormatError(f"kvdict: {where}: not a kvdict MANIFEST (bad magic)")
        raise CorruptError(f"kvdict: {where}: manifest of {len(data)} bytes is truncated")
    if data[:8] != MAGIC:
        raise FormatError(f"kvdict: {where}: not a kvdict MANIFEST (bad magic)")
    version, n = struct.unpack_from("<II", data, 8)
    if version == 0 or version > VERSION:
        raise VersionError(f"kvdict: {where}: manifest version {version}, this build reads 1 to {VERSION}")
    if n > MAX_BODY_LEN or 16 + n + 4 != len(data):
        raise CorruptError(f"kvdict: {where}: manifest body length {n} does not match file size {len(data)}")
    got, want = crc32c(data[: 16 + n]), struct.unpack_from("<I", data, 16 + n)[0]
    if got != want:
        raise CorruptError(f"kvdict: {where}: manifest checksum mismatch (got {got:08x}, want {want:08x})")
    try:
        m = json.loads(bytes(data[16 : 16 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CorruptError(f"kvdict: {where}: manifest body: {e}") from None
    if not isinstance(m, dict):
        raise CorruptError(f"kvdict: {where}: manifest body is not a JSON object")
    fv = m.get("format_version")
    if not isinstance(fv, int) or fv < 1 or fv > FORMAT_VERSION:
        raise VersionError(f"kvdict: {where}: dictionary format version {fv}, this build reads 1 to {FORMAT_VERSION}")
    features = m.get("features") or []
    if not isinstance(features, list):
        raise CorruptError(f"kvdict: {where}: manifest features is not a list")
    unknown = [f for f in features if f not in KNOWN_FEATURES]
    if unknown:
        raise VersionError(f"kvdict: {where}: dictionary uses features {unknown} that this build does not implement")
    optional = m.get("optional_features") or []
    if not isinstance(optional, list):
        raise CorruptError(f"kvdict: {where}: manifest optional_features is not a list")
    keyed, hix = KEYED in features, HASH_INDEX in features or HASH_INDEX in optional
    if hix and not keyed:
        raise CorruptError(f"kvdict: {where}: manifest lists {HASH_INDEX!r} without {KEYED!r}")
    if ("zstd-records" in features) != (keyed and any(f in features for f in COMPRESSED)) or (
            "zstd-values" in features and keyed):
        raise CorruptError(f"kvdict: {where}: manifest features {features}: zstd-records goes with {KEYED!r}, "
                           "zstd-values without it")
    raw = m.get("partitions") or []
    if not isinstance(raw, list):
        raise CorruptError(f"kvdict: {where}: manifest partitions is not a list")
    parts, keys, values = [], 0, 0
    for i, p in enumerate(raw):
        if not isinstance(p, dict):
            raise CorruptError(f"kvdict: {where}: manifest partition {i} is not an object")
        fst, vlog = _file(p, "fst", where, i), _file(p, "vlog", where, i)
        pk = _uint(p, "keys", where)
        if (p.get("hix") is not None) != hix:
            raise CorruptError(f"kvdict: {where}: manifest partition {i}: hash index file present "
                               f"{p.get('hix') is not None}, feature {HASH_INDEX!r} listed {hix}")
        hfile = _file(p, "hix", where, i) if hix else None
        if hfile and hfile["count"] != pk:
            raise CorruptError(f"kvdict: {where}: manifest partition {i}: hash index counts {hfile['count']} keys")
        if keyed and vlog["count"] != pk:
            raise CorruptError(f"kvdict: {where}: manifest partition {i}: keyed log has {vlog['count']} records")
        if pk == 0 or fst["count"] != pk or vlog["count"] > pk:
            raise CorruptError(
                f"kvdict: {where}: manifest partition {i}: inconsistent counts "
                f"(keys {pk}, fst {fst['count']}, records {vlog['count']})"
            )
        first, last = _key(p.get("first_key"), where), _key(p.get("last_key"), where)
        if first > last or (pk == 1) != (first == last):
            raise CorruptError(f"kvdict: {where}: manifest partition {i}: bad key range")
        if parts and parts[-1].last_key >= first:
            raise CorruptError(f"kvdict: {where}: manifest partitions {i - 1} and {i} overlap or are out of order")
        parts.append(Partition(first, last, pk, fst, vlog, hfile))
        keys += pk
        values += vlog["count"]
    if keys != _uint(m, "keys", where) or values != _uint(m, "values", where):
        raise CorruptError(
            f"kvdict: {where}: manifest totals (keys {m.get('keys')}, values {m.get('values')}) "
            f"do not match its partitions (keys {keys}, values {values})"
        )
    return m, parts, keyed, any(f in features for f in COMPRESSED)
