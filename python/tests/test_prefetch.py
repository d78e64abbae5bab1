"""The built C extension still prefetches what get_many's batches rely on.

GCC 12 deleted every call to the small helpers whose only effect was a
__builtin_prefetch (its mod/ref analysis found them free of side effects),
so get_many ran for weeks with no record or FST-state prefetches at all:
correct answers, 1.7x slower with the hash index (docs/BENCHMARKS.md
12.4). No answer changes when a prefetch goes missing, so only the machine
code can tell: this test disassembles the extension and counts prefetch
instructions in Reader_get_many, into which kvd_get_batch and its helpers
are inlined.
"""

import re
import shutil
import subprocess

import pytest

import kvdict

# The prefetches written in Reader_get_many and kvd_get_batch: two for a key
# object 8 ahead, one for a hash index home slot, two for a record (its
# first line and the end of its stored key), two for an FST state (its line
# and the one below). The compiler may duplicate some, never drop one.
SITES = 7


def test_get_many_prefetches():
    if "c" not in kvdict.backends():
        pytest.skip("C extension not built")
    objdump = shutil.which("objdump")
    if not objdump:
        pytest.skip("objdump (binutils) not installed")
    so = kvdict._dict._kvdict.__file__
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", so], capture_output=True, text=True,
                         check=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            cur = m.group(1)
            continue
        # x86: prefetcht0/prefetchnta...; arm64: prfm
        if cur and ("prefetch" in line or re.search(r"\bprfm\b", line)):
            funcs[cur] = funcs.get(cur, 0) + 1
    batch = {f: n for f, n in funcs.items() if f.startswith(("Reader_get_many", "kvd_get_batch"))}
    if not any(f.startswith("Reader_get_many") for f in re.findall(r"<([^>]+)>:", out)):
        pytest.skip("the extension has no symbol table (stripped)")
    assert sum(batch.values()) >= SITES, f"prefetch instructions per function: {funcs}"
