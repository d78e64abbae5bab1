"""The pure-Python reader: the same format and API as the C extension
(src/kvd_read.h, src/_kvdict.c), for machines where the extension cannot be
built. About 20x slower per lookup; answers are identical (the tests run
both readers on the same dictionaries).

The layouts are described in src/kvd_read.h and docs/FORMAT.md. Every
offset read from a file is checked before use; damage raises CorruptError.
"""

import struct

from ._errors import CorruptError, FormatError, VersionError

HEADER, FOOTER = 16, 32
FST_MAGIC, VLOG_MAGIC = b"kvdFST\x00\x00", b"kvdVLOG\x00"
MAX_KEY_LEN = 65535
LO = 16  # the first byte of the states in a vellum body

# vellum's commonInputsInv[0:63]: the input of a one-transition state whose
# top byte's low 6 bits are c (1..63) is COMMON[c-1].
COMMON = b"te/oasripcnw.hlm-du012g=:bf3y5&_4v9678k%?xCDASFIBEjPTzRNM+LOqHG"


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC = _crc_table()


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) of data, continuing crc (pure Python: slow)."""
    crc ^= 0xFFFFFFFF
    t = _CRC
    for b in bytes(data):
        crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


class _Bad(Exception):
    """Internal: a state or record is damaged (turned into CorruptError)."""


def _frame(d, magic, name, max_version=1):
    n = len(d)
    if n < HEADER + FOOTER:
        raise CorruptError(f"kvdict: {name}: {n} bytes is too short for a kvdict file (at least 48)")
    if d[:8] != magic:
        raise FormatError(f"kvdict: {name}: bad magic: want {magic!r}")
    version, flags = struct.unpack_from("<II", d, 8)
    if version == 0 or version > max_version:
        raise VersionError(f"kvdict: {name}: file version {version}, this build reads 1 to {max_version}")
    ft = d[n - FOOTER :]
    if ft[24:32] != magic:
        raise CorruptError(f"kvdict: {name}: footer magic missing (file truncated or damaged at its end)")
    if crc32c(ft[:20]) != struct.unpack_from("<I", ft, 20)[0]:
        raise CorruptError(f"kvdict: {name}: footer checksum mismatch")
    count, body_len, body_crc = struct.unpack_from("<QQI", ft, 0)
    if body_len != n - HEADER - FOOTER:
        raise CorruptError(f"kvdict: {name}: footer says body is {body_len} bytes, file holds {n - HEADER - FOOTER}")
    return flags, count, body_len, body_crc


class _Part:
    __slots__ = ("body", "hi", "root", "vlog", "vend", "first", "last", "fst_name", "vlog_name",
                 "fst_crc", "vlog_crc", "pins", "nkeys", "keyed", "hix")

    def __init__(self, fst_name, fbuf, fcount, fcrc, vlog_name, vbuf, vcount, vcrc, first, last, hix_name=None,
                 hbuf=None, hcount=0, hcrc=0, keyed=False, compressed=False):
        # The hash index is optional: this reader checks its framing and (in
        # verify) its checksum, but always walks the FST.
        self.hix = None
        self.fst_name, self.vlog_name, self.first, self.last = fst_name, vlog_name, first, last
        self.fst_crc, self.vlog_crc, self.keyed = fcrc, vcrc, keyed
        # The memoryviews pin the mmaps (an export), as the C reader's
        # Py_buffer does; close() releases them.
        fm, vm = memoryview(fbuf), memoryview(vbuf)
        self.pins = (fm, vm)
        if hbuf is not None:
            hm = memoryview(hbuf)
            self.pins += (hm,)
            self.hix = (hix_name, hm, hcount, hcrc)
        self.body = None
        try:
            self._check(fm, vm, fcount, fcrc, vcount, vcrc)
        except BaseException:
            self.release()
            raise

    def _check(self, fm, vm, fcount, fcrc, vcount, vcrc):
        fst_name, vlog_name = self.fst_name, self.vlog_name
        flags, count, blen, bcrc = _frame(fm, FST_MAGIC, fst_name)
        if flags:
            raise CorruptError(f"kvdict: {fst_name}: header flags {flags:#x}, version 1 defines none")
        self.body = body = fm[HEADER : HEADER + blen]
        if blen < 32:
            raise CorruptError(f"kvdict: {fst_name}: body of {blen} bytes is too short for a vellum FST")
        if struct.unpack_from("<QQ", body, 0) != (1, 0):
            raise CorruptError(f"kvdict: {fst_name}: vellum header is not version 1, type 0")
        vcount_fst, root = struct.unpack_from("<QQ", body, blen - 16)
        if vcount_fst != count:
            raise CorruptError(f"kvdict: {fst_name}: vellum footer counts {vcount_fst} keys, frame footer {count}")
        if root != 0 and (root < 16 or root >= blen - 16):
            raise CorruptError(f"kvdict: {fst_name}: root address {root} outside the states")
        vflags, vc, vblen, vbcrc = _frame(vm, VLOG_MAGIC, vlog_name, 2)
        if vflags:
            # compressed logs (codec 1) need libzstd: the C reader only
            raise VersionError(f"kvdict: {vlog_name}: value-log codec {vflags}, the pure-Python reader reads codec 0 "
                               "(raw) only")
        if (vm[8] == 2) != bool(self.keyed):
            raise CorruptError(f"kvdict: {vlog_name}: value log version {vm[8]}, but the MANIFEST "
                               f"{'lists' if self.keyed else 'does not list'} feature keyed-records")
        for name, got, want in ((fst_name, (count, bcrc), (fcount, fcrc)), (vlog_name, (vc, vbcrc), (vcount, vcrc))):
            if got != want:
                raise CorruptError(
                    f"kvdict: {name}: footer (count {got[0]}, crc {got[1]:08x}) does not match the MANIFEST "
                    f"(count {want[0]}, crc {want[1]:08x}): file from another build?"
                )
        self.body, self.hi, self.root, self.nkeys = body, blen - 16, root, count
        if self.hix is not None:
            hname, hm, hcount, hcrc = self.hix
            _, hc, _, hbcrc = _frame(hm, b"kvdHIX\x00\x00", hname)
            if (hc, hbcrc) != (hcount, hcrc):
                raise CorruptError(f"kvdict: {hname}: footer (count {hc}, crc {hbcrc:08x}) does not match the "
                                   f"MANIFEST (count {hcount}, crc {hcrc:08x}): file from another build?")
        self.vlog, self.vend = vm, len(vm) - FOOTER

    def release(self):
        if self.body is not None:
            self.body.release()
        for m in self.pins:
            m.release()

    def state(self, addr):
        """Decode the state at addr: (final, final_out, transitions), where
        transitions is a list of (input, target, output) in input order."""
        if addr == 0:
            return True, 0, ()
        d = self.body
        if addr < LO or addr >= self.hi:
            raise _Bad
        bot = addr
        t = d[addr]
        if t & 0x80:
            c = t & 0x3F
            if c == 0:
                if bot - LO < 1:
                    raise _Bad
                bot -= 1
                inp = d[bot]
            else:
                inp = COMMON[c - 1]
            if t & 0x40:
                return False, 0, ((inp, bot - 1, 0),)
            if bot - LO < 1:
                raise _Bad
            bot -= 1
            ts, os_ = d[bot] >> 4, d[bot] & 15
            if ts > 8 or os_ > 8 or bot - LO < ts + os_:
                raise _Bad
            bot -= ts
            delta = int.from_bytes(d[bot : bot + ts], "little")
            bot -= os_
            out = int.from_bytes(d[bot : bot + os_], "little")
            if delta > bot:
                raise _Bad
            return False, 0, ((inp, bot - delta if delta else 0, out),)
        final = bool(t & 0x40)
        n = t & 0x3F
        if n == 0:
            if bot - LO < 1:
                raise _Bad
            bot -= 1
            n = d[bot]
            if n == 1:
                n = 256
        if bot - LO < 1:
            raise _Bad
        bot -= 1
        ts, os_ = d[bot] >> 4, d[bot] & 15
        if ts > 8 or os_ > 8 or bot - LO < n * (1 + ts + os_) + (os_ if final else 0):
            raise _Bad
        bot -= n
        ins = bytes(d[bot : bot + n])
        bot -= n * ts
        dest = bot
        fout = 0
        outs = 0
        if os_:
            bot -= n * os_
            outs = bot
            if final:
                bot -= os_
                fout = int.from_bytes(d[bot : bot + os_], "little")
        if n == 0 and not final:
            raise _Bad
        trans = []
        for i in range(n):
            pos = n - 1 - i
            delta = int.from_bytes(d[dest + pos * ts : dest + pos * ts + ts], "little")
            out = int.from_bytes(d[outs + pos * os_ : outs + pos * os_ + os_], "little") if os_ else 0
            if delta > bot:
                raise _Bad
            trans.append((ins[pos], bot - delta if delta else 0, out))
        return final, fout, trans

    def get(self, key):
        """The record offset of key, or None. The same walk as state(), but
        decoding only the transition taken (about 3x faster)."""
        if len(key) > MAX_KEY_LEN:
            return None
        d, hi = self.body, self.hi
        addr, total = self.root, 0
        for c in key:
            if addr == 0:
                return None
            if addr < LO or addr >= hi:
                raise _Bad
            bot = addr
            t = d[addr]
            if t & 0x80:
                cc = t & 0x3F
                if cc == 0:
                    if bot - LO < 1:
                        raise _Bad
                    bot -= 1
                    inp = d[bot]
                else:
                    inp = COMMON[cc - 1]
                if inp != c:
                    return None
                if t & 0x40:
                    addr = bot - 1
                    continue
                if bot - LO < 1:
                    raise _Bad
                bot -= 1
                ts, os_ = d[bot] >> 4, d[bot] & 15
                if ts > 8 or os_ > 8 or bot - LO < ts + os_:
                    raise _Bad
                bot -= ts
                delta = int.from_bytes(d[bot : bot + ts], "little")
                bot -= os_
                if os_:
                    total += int.from_bytes(d[bot : bot + os_], "little")
            else:
                n = t & 0x3F
                if n == 0:
                    if bot - LO < 1:
                        raise _Bad
                    bot -= 1
                    n = d[bot]
                    if n == 1:
                        n = 256
                if bot - LO < 1:
                    raise _Bad
                bot -= 1
                ts, os_ = d[bot] >> 4, d[bot] & 15
                if ts > 8 or os_ > 8 or bot - LO < n * (1 + ts + os_) + (os_ if t & 0x40 else 0):
                    raise _Bad
                bot -= n
                pos = d[bot : bot + n].tobytes().find(c)
                if pos < 0:
                    return None
                dest = bot - n * ts + pos * ts
                delta = int.from_bytes(d[dest : dest + ts], "little")
                bot -= n * ts
                if os_:
                    bot -= n * os_
                    o = bot + pos * os_
                    total += int.from_bytes(d[o : o + os_], "little")
                    if t & 0x40:
                        bot -= os_
            if delta > bot:
                raise _Bad
            addr = bot - delta if delta else 0
        final, fout, _ = self.state(addr)
        if not final:
            return None
        return (total + fout) & 0xFFFFFFFFFFFFFFFF

    def _uvarint(self, off):
        v, end = self.vlog, self.vend
        n = shift = 0
        for k in range(10):
            if off >= end:
                raise _Bad
            b = v[off]
            off += 1
            if k == 9 and b > 1:
                raise _Bad
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n, off
        raise _Bad

    def record(self, off, key=None):
        """The value at record offset off (bytes). In a keyed log (version
        2) the record must hold key (when given): tag 0 = key length, key,
        value length, value; tag 1 = key length, key, back distance to the
        tag-0 record holding the value."""
        v, end = self.vlog, self.vend
        if off < HEADER or off >= end:
            raise _Bad
        if not self.keyed:
            n, off = self._uvarint(off)
            if n > end - off:
                raise _Bad
            return bytes(v[off : off + n])
        tag = v[off]
        if tag > 1:
            raise _Bad
        k, o = self._uvarint(off + 1)
        if k > MAX_KEY_LEN or k > end - o:
            raise _Bad
        if key is not None and v[o : o + k] != key:
            raise _Bad  # the FST pointed at another key's record
        x, o = self._uvarint(o + k)
        if tag == 1:
            if x == 0 or x > off - HEADER or v[off - x] != 0:
                raise _Bad
            k, o = self._uvarint(off - x + 1)
            if k > MAX_KEY_LEN or k > end - o:
                raise _Bad
            x, o = self._uvarint(o + k)
        if x > end - o:
            raise _Bad
        return bytes(v[o : o + x])

    def walk(self, start):
        """Yield (key, record offset) for keys >= start (None: all), in order."""
        stack = [(self.root, b"", 0, start is not None)]
        emitted = 0
        # Depth-first, transitions pushed in reverse so the smallest pops first.
        while stack:
            addr, key, total, tight = stack.pop()
            if len(key) > MAX_KEY_LEN:
                raise _Bad
            final, fout, trans = self.state(addr)
            L = len(key)
            below = tight and L < len(start)
            if final and not below:
                emitted += 1
                if emitted > self.nkeys:  # damage can encode exponentially many paths
                    raise _Bad
                yield key, (total + fout) & 0xFFFFFFFFFFFFFFFF
            for inp, target, out in reversed(trans):
                if below and inp < start[L]:
                    continue
                if target != 0 and target >= addr:
                    raise _Bad
                stack.append((target, key + bytes((inp,)), total + out, below and inp == start[L]))


def _key(key):
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    try:
        return bytes(memoryview(key))
    except TypeError:
        raise TypeError(f"kvdict: keys are bytes or str, not {type(key).__name__}") from None


class Reader:
    """The pure-Python reader behind kvdict.Dict (use kvdict.open)."""

    def __init__(self, parts, nkeys):
        self._parts = []
        self._closed = False
        self._nkeys = nkeys
        try:
            for p in parts:
                self._parts.append(_Part(*p))
        except BaseException:
            for p in self._parts:
                p.release()
            raise
        self._firsts = [p.first for p in self._parts]

    def _check(self):
        if self._closed:
            raise ValueError("kvdict: operation on a closed dictionary")

    def _find(self, k):
        import bisect

        i = bisect.bisect_right(self._firsts, k) - 1
        return self._parts[i] if i >= 0 else None

    def _lookup(self, k):
        p = self._find(k)
        if p is None:
            return None
        try:
            off = p.get(k)
        except _Bad:
            raise CorruptError(f"kvdict: {p.fst_name}: damaged FST state on a key's path") from None
        if off is None:
            return None
        try:
            return p.record(off, k)
        except _Bad:
            raise CorruptError(f"kvdict: {p.vlog_name}: value record out of bounds or damaged") from None

    def __getitem__(self, key):
        self._check()
        v = self._lookup(_key(key))
        if v is None:
            raise KeyError(key)
        return v

    def get(self, key, default=None):
        self._check()
        v = self._lookup(_key(key))
        return default if v is None else v

    def __contains__(self, key):
        self._check()
        k = _key(key)
        p = self._find(k)
        if p is None:
            return False
        try:
            return p.get(k) is not None
        except _Bad:
            raise CorruptError(f"kvdict: {p.fst_name}: damaged FST state on a key's path") from None

    def __len__(self):
        self._check()
        return self._nkeys

    def get_many(self, keys, default=None):
        self._check()
        keys = [_key(k) for k in keys]
        out = []
        for k in keys:
            v = self._lookup(k)
            out.append(default if v is None else v)
        return out

    def _iter(self, start, stop, mode):
        self._check()
        return self._gen(start, stop, mode)

    def _gen(self, start, stop, mode):
        import bisect

        i = 0 if start is None else bisect.bisect_left([p.last for p in self._parts], start)
        for p in self._parts[i:]:
            if stop is not None and p.first >= stop:
                return
            it = p.walk(start)
            while True:
                self._check()
                try:
                    key, off = next(it)
                except StopIteration:
                    break
                except _Bad:
                    raise CorruptError(f"kvdict: {p.fst_name}: damaged FST state during iteration") from None
                if stop is not None and key >= stop:
                    return
                if mode == 0:
                    yield key
                    continue
                try:
                    v = p.record(off, key)
                except _Bad:
                    raise CorruptError(f"kvdict: {p.vlog_name}: value record out of bounds or damaged") from None
                yield v if mode == 1 else (key, v)

    def verify(self):
        self._check()
        for p in self._parts:
            fm, vm = p.pins[:2]
            if p.hix is not None:
                hname, hm, _, hcrc = p.hix
                if crc32c(hm[: len(hm) - FOOTER]) != hcrc:
                    raise CorruptError(f"kvdict: {hname}: body checksum mismatch")
            if crc32c(fm[: len(fm) - FOOTER]) != p.fst_crc:
                raise CorruptError(f"kvdict: {p.fst_name}: body checksum mismatch")
            if crc32c(vm[: len(vm) - FOOTER]) != p.vlog_crc:
                raise CorruptError(f"kvdict: {p.vlog_name}: body checksum mismatch")

    @property
    def closed(self):
        return self._closed

    def close(self):
        self._closed = True
        for p in self._parts:
            p.release()
        self._parts = []
        self._firsts = []
