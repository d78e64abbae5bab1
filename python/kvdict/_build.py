"""kvdict.build: write a dictionary by streaming into the kvbuild binary.

No FST builder lives in Python: kvbuild sorts in bounded memory, uses every
core and writes the dictionary atomically, and the Python side only formats
lines (research/python.md 1.5: about 200 k pairs/s from a Python loop; pass
files that are already on disk as paths instead, kvbuild reads them
directly).
"""

import os
import shutil
import subprocess
import tempfile

from ._errors import BuildError

DUPLICATES = ("last", "first", "error", "sum", "count", "concat")


def escape(b):
    """Escape backslash, TAB, LF and CR as kvbuild --unescape reads them
    (internal/escape: \\\\ \\t \\n \\r; every other byte stands for itself)."""
    if b"\\" in b:
        b = b.replace(b"\\", b"\\\\")
    if b"\t" in b:
        b = b.replace(b"\t", b"\\t")
    if b"\n" in b:
        b = b.replace(b"\n", b"\\n")
    if b"\r" in b:
        b = b.replace(b"\r", b"\\r")
    return b


def _b(x, what):
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode("utf-8")
    if isinstance(x, (bytearray, memoryview)):
        return bytes(x)
    raise TypeError(f"kvdict.build: {what} is bytes or str, not {type(x).__name__}")


def _files(source):
    """The TSV paths in source, or None when source is an iterable of pairs."""
    if isinstance(source, (str, bytes, os.PathLike)):
        return [os.fsdecode(source)]
    if isinstance(source, (list, tuple)) and source and all(isinstance(s, (str, os.PathLike)) for s in source):
        return [os.fsdecode(s) for s in source]
    return None


def find_kvbuild(kvbuild=None):
    """The kvbuild executable: kvbuild if given, else $KVDICT_KVBUILD, else
    the one on PATH."""
    exe = kvbuild or os.environ.get("KVDICT_KVBUILD") or shutil.which("kvbuild")
    if not exe:
        raise BuildError("kvdict.build: kvbuild not found: put it on PATH, set KVDICT_KVBUILD or pass kvbuild=")
    return os.fspath(exe)


def build(path, source, duplicates="last", *, kvbuild=None, force=False, threads=None, memory=None,
          sorted=False, args=()):
    """Build the dictionary directory path from source with kvbuild.

    source is either TSV input already on disk (a path, or a list or tuple of
    paths; gzip and zstd files work, and lines are key<TAB>value as kvbuild
    reads them, unescaped), or an iterable of (key, value) pairs of bytes or
    str (str encoded UTF-8), streamed to kvbuild with TAB, newline, CR and
    backslash escaped, so any bytes survive.

    duplicates: kvbuild's --duplicates policy (last, first, error, sum,
    count, concat). force replaces an existing dictionary (atomically);
    threads, memory ("512M") and sorted map to kvbuild's flags; args are
    extra flags. The build is atomic: on any error the target is untouched
    and BuildError carries kvbuild's message and exit status.
    """
    if duplicates not in DUPLICATES:
        raise ValueError(f"kvdict.build: duplicates={duplicates!r}: want one of {', '.join(DUPLICATES)}")
    cmd = [find_kvbuild(kvbuild), "--quiet", "-o", os.fspath(path), "--duplicates", duplicates]
    if force:
        cmd.append("--force")
    if threads is not None:
        cmd += ["--threads", str(int(threads))]
    if memory is not None:
        cmd += ["--memory", str(memory)]
    if sorted:
        cmd.append("--sorted")
    cmd += list(args)
    files = _files(source)
    if files is not None:
        run(cmd + ["--"] + files, what="kvbuild")
    else:
        run(cmd + ["--unescape", "-"], tsv_chunks(source), what="kvbuild")


def tsv_chunks(pairs):
    """Lines key<TAB>value for kvbuild --unescape, escaped, in chunks of
    about 1 MiB: the bytes to stream into its stdin."""
    buf, size = [], 0
    for pair in pairs:
        k, v = pair
        line = escape(_b(k, "a key")) + b"\t" + escape(_b(v, "a value")) + b"\n"
        buf.append(line)
        size += len(line)
        if size >= 1 << 20:
            yield b"".join(buf)
            buf, size = [], 0
    yield b"".join(buf)


def run(cmd, chunks=None, *, what, who="kvdict.build"):
    """Run kvbuild (cmd) to its end and return (stdout bytes, stderr text).

    chunks: an iterable of bytes written to its stdin, or None (no stdin).
    kvbuild's stdout and stderr go to temporary files, so neither pipe can
    fill up while stdin is being written. A non-zero exit raises BuildError
    "{who}: {what} exited with status N: <kvbuild's message>" carrying the
    status. If producing the chunks raises (bad input on our side, Ctrl-C),
    kvbuild is stopped with SIGTERM, on which it removes its temporary
    directory and leaves the target untouched (SIGKILL, used before, left
    the directory behind), and the exception propagates. A kvbuild that
    stops reading early (BrokenPipeError) is reported by its exit status.
    """
    with tempfile.TemporaryFile() as outf, tempfile.TemporaryFile() as errf:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL if chunks is None else subprocess.PIPE,
                                    stdout=outf, stderr=errf)
        except OSError as e:
            raise BuildError(f"{who}: cannot run {cmd[0]}: {e}") from None
        if chunks is not None:
            try:
                for chunk in chunks:
                    proc.stdin.write(chunk)
            except BrokenPipeError:
                pass  # kvbuild stopped reading: its exit status and stderr say why
            except BaseException:
                _stop(proc)
                raise
            finally:
                _close(proc.stdin)
        rc = proc.wait()
        outf.seek(0)
        errf.seek(0)
        out, msg = outf.read(), errf.read().decode("utf-8", "replace").strip()
    if rc != 0:
        raise BuildError(f"{who}: {what} exited with status {rc}: {msg}", rc)
    return out, msg


def _close(f):
    try:
        f.close()
    except BrokenPipeError:
        pass


def _stop(proc, grace=60):
    """Stop kvbuild the way it cleans up after: end of input, SIGTERM, then
    SIGKILL only if it has not exited within grace seconds."""
    _close(proc.stdin)
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
