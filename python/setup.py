"""Build script for the kvdict Python package (metadata in pyproject.toml).

The C extension is optional: if it cannot be compiled (no compiler, no
Python headers), the package installs with the pure-Python reader only,
as maxminddb does.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class optional_build_ext(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as e:  # noqa: BLE001 - any failure: fall back
            if os.environ.get("KVDICT_REQUIRE_C"):
                raise
            self._warn(e)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:  # noqa: BLE001
            if os.environ.get("KVDICT_REQUIRE_C"):
                raise
            self._warn(e)

    def _warn(self, e):
        sys.stderr.write(f"warning: kvdict C extension not built ({e}); the pure-Python reader will be used\n")


def _have(header):
    dirs = ["/usr/include", "/usr/local/include"] + os.environ.get("CPATH", "").split(":")
    return any(d and os.path.exists(os.path.join(d, header)) for d in dirs)


# libzstd (Debian: libzstd-dev) reads compressed value logs; without it the
# C reader refuses them with VersionError. xxhash.h (libxxhash-dev) is
# header-only and detected by the C code itself.
ZSTD = _have("zstd.h")

setup(
    ext_modules=[
        Extension(
            "kvdict._kvdict",
            sources=["src/_kvdict.c"],
            depends=["src/kvd_read.h"],
            libraries=["zstd"] if ZSTD else [],
            define_macros=[] if ZSTD else [("KVD_NO_ZSTD", "1")],
            extra_compile_args=["-O2", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers", "-Wno-cast-function-type"],
        )
    ],
    cmdclass={"build_ext": optional_build_ext},
)
