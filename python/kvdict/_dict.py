"""kvdict.open and the Dict type shared by the C and pure-Python readers.

open() does what must not differ between the readers: it reads and checks
the MANIFEST, maps every data file with Python's own mmap (read-only,
MAP_SHARED: pages are shared by every process that maps the file, and by
fork), and hands the mappings to a reader. The reader holds a buffer export
on each mapping for as long as it is open, so a mapping cannot be unmapped
under it; close() releases them, and every later call raises ValueError.
"""

import builtins
import collections.abc
import mmap
import os
import stat
import sys
import weakref

from . import _manifest, _pure
from ._errors import CorruptError, FormatError

try:
    from . import _kvdict
except ImportError as e:  # the extension was not built: pure Python only
    _kvdict = None
    _import_error = e
else:
    _import_error = None

BACKENDS = ("auto", "c", "python")
_ADVICE = {
    "normal": getattr(mmap, "MADV_NORMAL", None),
    "random": getattr(mmap, "MADV_RANDOM", None),
    "willneed": getattr(mmap, "MADV_WILLNEED", None),
}


def _bytes(key, what):
    if key is None or isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    try:
        return bytes(memoryview(key))
    except TypeError:
        raise TypeError(f"kvdict: {what} is bytes or str, not {type(key).__name__}") from None


def prefix_end(prefix):
    """The smallest key greater than every key starting with prefix, or None
    (unbounded) when prefix is empty or all 0xff bytes."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return None
    p[-1] += 1
    return bytes(p)


class Dict:
    """An open kvdict dictionary: an immutable mapping of bytes to bytes.

    Get one from kvdict.open(path). Keys are bytes (str keys are encoded as
    UTF-8; bytearray and memoryview work too); values are always new bytes
    objects, never views, so they stay valid after close(). Lookups::

        d[key]                  the value; KeyError when absent
        d.get(key, default)     the value or default
        key in d, len(d)
        d.get_many(keys)        a list, None (or default) for absent keys;
                                the C reader releases the GIL meanwhile

    Ordered iteration (byte order, across partitions; each call returns a
    new single-use iterator)::

        iter(d), d.keys(prefix=None), d.values(prefix=None)
        d.items(prefix=None)    (key, value) pairs
        d.range(start, stop)    (key, value) pairs with start <= key < stop

    A Dict may be used by many threads. Open it before forking: children
    share the parent's mappings and page cache. Pickling a Dict (spawn and
    forkserver pools) sends only its path and options; the receiver reopens
    the dictionary. After close() (or leaving a ``with`` block) every use
    raises ValueError. A damaged dictionary raises kvdict.CorruptError, from
    open() or from the call that meets the damage.
    """

    __slots__ = ()

    # The lookups (__getitem__, get, __contains__, __len__, get_many) come
    # from the reader class, so the C ones are called with no Python frame.

    def keys(self, prefix=None):
        """Iterate over the keys (bytes) in byte order, those starting with
        prefix if given."""
        return self._iter(*self._prefix(prefix), 0)

    def values(self, prefix=None):
        """Iterate over the values in key order."""
        return self._iter(*self._prefix(prefix), 1)

    def items(self, prefix=None):
        """Iterate over (key, value) pairs in key order, those whose key
        starts with prefix if given."""
        return self._iter(*self._prefix(prefix), 2)

    def range(self, start=None, stop=None):
        """Iterate over (key, value) pairs with start <= key < stop in key
        order; None leaves that side unbounded."""
        return self._iter(_bytes(start, "start"), _bytes(stop, "stop"), 2)

    def __iter__(self):
        return self.keys()

    @staticmethod
    def _prefix(prefix):
        if prefix is None:
            return None, None
        p = _bytes(prefix, "prefix")
        return p, prefix_end(p)

    @property
    def path(self):
        """The dictionary directory this Dict was opened from."""
        return self._path

    @property
    def version_path(self):
        """The dictionary directory read: path itself, or for a store the
        version its CURRENT named at open()."""
        return self._version_path

    @property
    def manifest(self):
        """The decoded MANIFEST (a dict; keys are base64 as in the file)."""
        return self._manifest

    @property
    def backend(self):
        """'c' or 'python': the reader in use."""
        return self._backend

    def close(self):
        """Release the mappings. Later calls raise ValueError; values
        already returned stay valid (they are copies). Idempotent."""
        if self.closed:
            return
        super().close()
        maps, self._mmaps, self._lookup_maps = self._mmaps, [], []
        for m in maps:
            try:
                m.close()
            except BufferError:
                pass  # a view elsewhere still exports it: unmapped when it goes
        lease, self._lease = self._lease, None
        if lease is not None:
            os.close(lease)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        # Reopen by path: a spawned worker maps the same files (sharing the
        # page cache) instead of receiving a copy of the dictionary. For a
        # store, the version this Dict reads (its lease keeps it from gc),
        # so parent and workers answer alike even after a new publication.
        return (_reopen, (self._version_path, self._options))

    def __repr__(self):
        state = "closed" if self.closed else f"{len(self)} keys"
        return f"<kvdict.Dict {self._path!r} ({state}, {self._backend})>"


collections.abc.Mapping.register(Dict)


def _reopen(path, options):
    return open(path, **options)


def _reader_classes():
    classes = {"python": type("PyDict", (Dict, _pure.Reader), {"__module__": "kvdict"})}
    if _kvdict is not None:
        classes["c"] = type("CDict", (Dict, _kvdict.Reader), {"__module__": "kvdict"})
    return classes


_CLASSES = _reader_classes()


def _choose(backend):
    if backend is None:
        backend = os.environ.get("KVDICT_BACKEND") or "auto"
    if backend not in BACKENDS:
        raise ValueError(f"kvdict: backend {backend!r}: want one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "c" if _kvdict is not None else "python"
    if backend == "c" and _kvdict is None:
        raise ImportError(f"kvdict: the C extension is not available: {_import_error}")
    return backend


def _hugepages(m):
    """Ask for transparent huge pages on a mapping (MADV_HUGEPAGE), as the
    Go reader does (internal/mmapfile): pages read from disk through it are
    then cached in 2 MiB folios, and 2 MiB folios (kvbuild writes its files
    in 2 MiB-aligned chunks) are mapped with 2 MiB pages, one TLB entry
    for 512: random lookups in GiB-sized files miss the TLB on nearly every
    access otherwise. Only a hint; kernels without THP refuse it."""
    adv = getattr(mmap, "MADV_HUGEPAGE", None)
    if adv is not None and len(m) >= 2 << 20:
        try:
            m.madvise(adv)
        except OSError:
            pass


# MADV_POPULATE_READ (Linux 5.14+; mmap has the constant from Python 3.13)
_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22 if sys.platform.startswith("linux") else None)
_PAGE = mmap.PAGESIZE

# The open Dicts made with populate=True, populated again in every forked
# child: fork does not copy the page tables of shared file mappings, so a
# child starts with none and would fault each page in on first use.
_POPULATED = weakref.WeakSet()


def _populate(maps):
    """Map every page of maps now: MADV_POPULATE_READ in one system call
    per file where the kernel has it (with MADV_HUGEPAGE, whole 2 MiB
    pages), else a read of one byte per page. Pages not yet in the page
    cache are read from disk: O(size)."""
    for m in maps:
        if len(m) == 0:
            continue
        if _POPULATE_READ is not None:
            try:
                m.madvise(_POPULATE_READ)
                continue
            except (OSError, ValueError):
                pass  # kernel before 5.14 (EINVAL): touch instead
        for i in range(0, len(m), _PAGE):
            m[i]


def _populate_after_fork():
    for d in list(_POPULATED):
        try:
            if not d.closed:
                _populate(d._lookup_maps)
        except Exception:  # noqa: BLE001 - only a speed-up: never break a child
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_populate_after_fork)


def _map(path, info):
    """Map one data file read-only after checking its size against the
    MANIFEST entry."""
    name = os.path.join(path, info["name"])
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise CorruptError(f"kvdict: {name}: file named in the MANIFEST is missing") from None
    try:
        size = os.fstat(fd).st_size
        if size != info["size"]:
            raise CorruptError(f"kvdict: {name}: {size} bytes, the MANIFEST says {info['size']} (truncated or replaced)")
        return name, mmap.mmap(fd, size, access=mmap.ACCESS_READ)
    finally:
        os.close(fd)


def open(path, *, backend=None, advice="normal", verify=False, populate=False):
    """Open the dictionary directory at path (made by kvbuild) and return a
    Dict. O(1) in the dictionary's size: it reads the MANIFEST and each
    file's header and footer, and checks them against each other. path may
    also be a store (kvbuild --publish): the version its CURRENT file names
    is opened, and kept from the store's gc (a shared flock on its
    MANIFEST) until close().

    backend: "auto" (the C reader if it was built, else pure Python), "c" or
      "python"; default: the KVDICT_BACKEND environment variable, or "auto".
    advice: "normal" (readahead, best when the dictionary fits in RAM),
      "random" (no readahead: larger-than-RAM dictionaries) or "willneed"
      (start reading it all into the page cache now).
    verify: also read every file and check its CRC-32C (O(size)).
    populate: map every page of the files lookups read (the value logs,
      and the hash indexes or else the FSTs) now, with MADV_POPULATE_READ
      or else a read per page, and again in every child forked while the
      Dict is open, so that no lookup waits on a page fault. Without it a
      forked worker's first lookups fault the inherited mappings in (fork
      copies no page tables of shared file mappings). This moves that work
      to open and fork rather than saving it (docs/BENCHMARKS.md 12.4).
      O(size) at open: a file not yet in the page cache is read from disk.
      Pickled Dicts (spawn, forkserver) reopen with the same option.

    Raises FileNotFoundError, FormatError (not a dictionary), VersionError
    (written by a newer kvdict, or a feature this build lacks) and
    CorruptError (damaged).
    """
    path = os.fspath(path)
    which = _choose(backend)
    if advice not in _ADVICE:
        raise ValueError(f"kvdict: advice {advice!r}: want one of {', '.join(_ADVICE)}")
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise FormatError(f"kvdict: {path}: a dictionary is a directory (made by kvbuild), this is a file")
    dpath, lease = _resolve(path)
    try:
        return _open_dir(path, dpath, lease, which, backend, advice, verify, populate)
    except BaseException:
        if lease is not None:
            os.close(lease)
        raise


def _decode_current(data, where):
    """The version directory name in a store's CURRENT file
    (internal/storefmt: v + 6 to 19 digits + .kvd + newline, nothing else)."""
    name = data[:-1].decode("ascii", "replace") if data.endswith(b"\n") else ""
    digits = name[1:-4]
    if (len(data) > 25 or not name.startswith("v") or not name.endswith(".kvd") or not 6 <= len(digits) <= 19
            or not digits.isdigit() or not digits.isascii() or int(digits) >= 1 << 64):
        raise CorruptError(f"kvdict: {where} holds {data[:40]!r}, not a version name like 'v000001.kvd'")
    return name


def _resolve(path):
    """The dictionary directory to open at path, and the lease fd: path
    itself (None) for a dictionary; for a store (kvbuild --publish), the
    version CURRENT names, with flock(LOCK_SH) held on its MANIFEST so the
    store's gc keeps it while it is mapped (internal/storefmt)."""
    if os.path.exists(os.path.join(path, _manifest.FILE_NAME)):
        return path, None
    cur = os.path.join(path, "CURRENT")
    for _ in range(10):
        try:
            with builtins.open(cur, "rb") as f:
                data = f.read(64)
        except FileNotFoundError:
            raise FormatError(f"kvdict: {path} is not a kvdict dictionary: it has no MANIFEST file") from None
        vdir = os.path.join(path, _decode_current(data, cur))
        try:
            fd = os.open(os.path.join(vdir, _manifest.FILE_NAME), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            continue  # gc removed it after a newer version was published: read CURRENT again
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_SH)
        except (ImportError, OSError):
            pass  # no flock here: rely on the store's minimum age
        return vdir, fd
    raise CorruptError(f"kvdict: {cur} keeps naming versions that do not exist")


def _open_dir(path, dpath, lease, which, backend, advice, verify, populate):
    mpath = os.path.join(dpath, _manifest.FILE_NAME)
    try:
        with builtins.open(mpath, "rb") as f:
            data = f.read(_manifest.MAX_BODY_LEN + 21)
    except FileNotFoundError:
        raise FormatError(f"kvdict: {path} is not a kvdict dictionary: it has no MANIFEST file") from None
    crc = _kvdict.crc32c if which == "c" else _pure.crc32c
    m, parts, keyed, compressed = _manifest.decode(data, mpath, crc)
    # The hash index is optional: the C reader answers through it (when
    # built with XXH3), the pure-Python one through the FST; both check its
    # framing at open and its checksum in verify().
    maps, args, lookup_maps = [], [], []
    try:
        for p in parts:
            fname, fmap = _map(dpath, p.fst)
            maps.append(fmap)
            vname, vmap = _map(dpath, p.vlog)
            maps.append(vmap)
            hname, hmap = None, None
            if p.hix is not None:
                hname, hmap = _map(dpath, p.hix)
                maps.append(hmap)
            if _ADVICE[advice] is not None and hasattr(fmap, "madvise"):
                for x in (fmap, vmap, hmap):
                    if x is not None:
                        x.madvise(_ADVICE[advice])
                        if advice != "random":
                            _hugepages(x)
            # the files lookups read: with the C reader's hash index, not the FST
            if hmap is not None and which == "c" and _kvdict.HASH_INDEX:
                lookup_maps += [vmap, hmap]
            else:
                lookup_maps += [fmap, vmap]
            args.append(
                (fname, fmap, p.fst["count"], p.fst["crc32c"], vname, vmap, p.vlog["count"], p.vlog["crc32c"],
                 p.first_key, p.last_key, hname, hmap, p.hix["count"] if hmap else 0,
                 p.hix["crc32c"] if hmap else 0, keyed, compressed)
            )
        d = _CLASSES[which](args, m.get("keys", 0))
    except BaseException:
        for x in maps:
            try:
                x.close()
            except BufferError:  # still exported by a traceback's frame: freed with it
                pass
        raise
    d._path, d._manifest, d._backend, d._mmaps, d._lease = path, m, which, maps, lease
    d._version_path = dpath
    d._options = {"backend": backend, "advice": advice, "populate": bool(populate)}
    if verify:
        try:
            d.verify()
        except BaseException:
            d._lease = None  # open() closes it
            d.close()
            raise
    d._lookup_maps = lookup_maps
    if populate:
        _populate(lookup_maps)
        _POPULATED.add(d)
    return d
