"""kvdict: read kvdict dictionaries from Python, at C speed.

A kvdict dictionary is an immutable directory (made by the kvbuild tool)
mapping bytes keys to bytes values: a MANIFEST plus, per key range, an FST
and a value log, all memory-mapped. Opening one is O(1); lookups cost
about a microsecond; every process that opens the same dictionary (or
inherits it through fork) shares its pages::

    import kvdict
    with kvdict.open("urls.kvd") as d:
        d[b"https://example.com/"]       # bytes; KeyError when absent
        d.get("https://example.com/")    # str keys are UTF-8
        d.get_many([b"a", b"b"])         # [value or None, ...]
        for k, v in d.items(prefix=b"https://example.com/"): ...

    kvdict.build("small.kvd", [(b"k", b"v")])   # streams into kvbuild

Two readers implement the same API: a C extension (kvdict._kvdict) and a
pure-Python fallback used where the extension was not built. Choose with
open(..., backend="c"|"python") or the KVDICT_BACKEND environment variable.
"""

from ._build import build
from ._dict import Dict, open, prefix_end
from ._errors import BuildError, CorruptError, Error, FormatError, VersionError
from . import _dict

__all__ = ["open", "build", "Dict", "Error", "CorruptError", "FormatError", "VersionError", "BuildError",
           "prefix_end", "backends"]
__version__ = "0.1.0"


def backends():
    """The readers available here: ("c", "python") or ("python",)."""
    return tuple(sorted(_dict._CLASSES, key=lambda b: b != "c"))
