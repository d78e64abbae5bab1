/*
 * kvd_read.h: the read path of the kvdict dictionary format, version 1, in
 * plain C (no Python, no allocation). It is the C twin of the Go packages
 * internal/frame, fst and valuelog; docs/FORMAT.md is the specification and
 * the Go reader the reference. Everything here is a static function, so the
 * header can be included by the CPython glue (_kvdict.c) and by a fuzzer.
 *
 * Safety rule: every offset read from a file is checked against the size of
 * the mapping before it is used. Damage gives KVD_CORRUPT, never a read
 * outside the mapping. A lookup touches at most one state per key byte; an
 * iteration at most 65,536 (MaxKeyLen+1) states deep, and every transition
 * points to a strictly lower address, so no damage can make a walk loop.
 *
 * # Framing (internal/frame/frame.go), all integers little-endian
 *
 *	header  0:8   magic ("kvdFST\0\0" or "kvdVLOG\0")
 *	        8:12  version (uint32), 1
 *	       12:16  flags (uint32): 0 (value log: the codec, 0 = raw)
 *	footer  0:8   count (uint64): keys (FST) or records (value log)
 *	        8:16  body length (uint64)
 *	       16:20  CRC-32C of header and body
 *	       20:24  CRC-32C of footer bytes 0:20
 *	       24:32  the magic again
 *
 * # FST body (fst/format.go): a vellum v1 FST
 *
 *	body  0:16        vellum header: version 1 (uint64), type 0 (uint64)
 *	      16:len-16   states; a state's address is the body offset of its
 *	                  last (highest) byte, and it is decoded backwards
 *	      len-16:+8   key count (uint64), equal to the frame footer's
 *	      len-8:+8    root address (uint64): 0 or in [16, len-16)
 *
 * Address 0 is the final state with no transitions and final output 0.
 * Otherwise the top byte t = d[a] says:
 *
 *   t & 0x80: one transition, not final. c = t & 0x3f is the input byte's
 *     index in COMMON plus one, or 0 when the input is the byte below t.
 *     t & 0x40 ("next"): the target is the state just below, output 0.
 *     Otherwise the next byte down packs sizes (ts = high nibble: address
 *     delta bytes, os = low nibble: output bytes); below it the delta (ts
 *     bytes), below that the output (os bytes). target = bottom - delta, or
 *     0 when delta is 0 ("bottom" is the lowest byte of the state).
 *   otherwise: several transitions; final = t & 0x40, n = t & 0x3f, or,
 *     when that is 0, the byte below (where 1 means 256). Below: the pack
 *     sizes byte, then n input bytes, n deltas of ts bytes, n outputs of os
 *     bytes and, when final and os > 0, the final output: each array stored
 *     in reverse transition order. Inputs ascend in transition order.
 *
 * A key's value is the sum of the outputs on its path plus the final state's
 * final output: the absolute offset of its record in the value log.
 *
 * # Value log record (valuelog/format.go), codec 0
 *
 *	0:k    value length n (uvarint, 1 <= k <= 10)
 *	k:k+n  value bytes
 */
#ifndef KVD_READ_H
#define KVD_READ_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

/* The hash index (optional feature "hash-index") needs XXH3-64; Debian's
 * libxxhash-dev provides it header-only. Without it the index is ignored
 * and lookups walk the FST, with the same answers. */
#if defined(__has_include)
#if __has_include(<xxhash.h>)
#define XXH_INLINE_ALL
#include <xxhash.h>
#define KVD_HAVE_XXH3 1
#endif
#endif
#ifndef KVD_HAVE_XXH3
#define KVD_HAVE_XXH3 0
#endif

/* Compressed value logs (codec 1: zstd record groups) need libzstd
 * (libzstd-dev). Without it they are refused with KVD_VERSION. */
#if defined(__has_include) && !defined(KVD_NO_ZSTD)
#if __has_include(<zstd.h>)
#include <stdlib.h>
#include <zstd.h>
#define KVD_HAVE_ZSTD 1
#endif
#endif
#ifndef KVD_HAVE_ZSTD
#define KVD_HAVE_ZSTD 0
#endif

#define KVD_FRAME_HEADER 16
#define KVD_FRAME_FOOTER 32
#define KVD_VELLUM_HEADER 16
#define KVD_VELLUM_FOOTER 16
#define KVD_MAX_KEY_LEN 65535

#define KVD_FST_MAGIC "kvdFST\0\0"
#define KVD_VLOG_MAGIC "kvdVLOG\0"

/* Results. Lookups return KVD_FOUND or KVD_MISSING; anything negative is an
 * error. */
enum {
	KVD_MORE = 2, /* kvd_fst_step only: the walk goes on */
	KVD_FOUND = 1,
	KVD_MISSING = 0,
	KVD_CORRUPT = -1, /* damaged file: kvdict.CorruptError */
	KVD_MAGIC = -2,   /* not a kvdict file: kvdict.FormatError */
	KVD_VERSION = -3, /* too new, or unknown codec: kvdict.VersionError */
};

static inline uint64_t kvd_le(const uint8_t *p, unsigned n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n == 8) { /* hash index slots, trailers: one load */
		uint64_t x;
		memcpy(&x, p, 8);
		return x;
	}
#endif
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline int kvd_keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* ---- CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), slicing-by-8 */

static uint32_t kvd_crc_table[8][256];

static void kvd_crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		kvd_crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			kvd_crc_table[t][i] = (kvd_crc_table[t - 1][i] >> 8) ^
			                      kvd_crc_table[0][kvd_crc_table[t - 1][i] & 0xff];
}

/* kvd_crc32c continues crc (0 to start) over n bytes at p, as Go's
 * crc32.Update with the Castagnoli table does. */
static uint32_t kvd_crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n >= 8) {
		uint32_t lo = (uint32_t)kvd_le(p, 4) ^ crc, hi = (uint32_t)kvd_le(p + 4, 4);
		crc = kvd_crc_table[7][lo & 0xff] ^ kvd_crc_table[6][(lo >> 8) & 0xff] ^
		      kvd_crc_table[5][(lo >> 16) & 0xff] ^ kvd_crc_table[4][lo >> 24] ^
		      kvd_crc_table[3][hi & 0xff] ^ kvd_crc_table[2][(hi >> 8) & 0xff] ^
		      kvd_crc_table[1][(hi >> 16) & 0xff] ^ kvd_crc_table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ kvd_crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* ---- framing */

typedef struct {
	uint32_t version, flags;
	uint64_t count, body_len;
	uint32_t body_crc;
} kvd_frame;

/* kvd_frame_decode checks the O(1) parts of a framed file of n bytes at d,
 * in the Go order: size, magic, version, footer magic, footer CRC, body
 * length. err (at least 160 bytes) receives the reason on failure. */
static int kvd_frame_decode(const uint8_t *d, uint64_t n, const char *magic, uint32_t max_version,
                            kvd_frame *f, char *err, size_t errlen)
{
	if (n < KVD_FRAME_HEADER + KVD_FRAME_FOOTER) {
		snprintf(err, errlen, "%llu bytes is too short for a kvdict file (at least %d)",
		         (unsigned long long)n, KVD_FRAME_HEADER + KVD_FRAME_FOOTER);
		return KVD_CORRUPT;
	}
	if (memcmp(d, magic, 8) != 0) {
		snprintf(err, errlen, "bad magic: want %s", magic);
		return KVD_MAGIC;
	}
	f->version = (uint32_t)kvd_le(d + 8, 4);
	f->flags = (uint32_t)kvd_le(d + 12, 4);
	if (f->version == 0 || f->version > max_version) {
		snprintf(err, errlen, "file version %u, this build reads 1 to %u", f->version, max_version);
		return KVD_VERSION;
	}
	const uint8_t *ft = d + n - KVD_FRAME_FOOTER;
	if (memcmp(ft + 24, magic, 8) != 0) {
		snprintf(err, errlen, "footer magic missing (file truncated or damaged at its end)");
		return KVD_CORRUPT;
	}
	uint32_t got = kvd_crc32c(0, ft, 20), want = (uint32_t)kvd_le(ft + 20, 4);
	if (got != want) {
		snprintf(err, errlen, "footer checksum mismatch (got %08x, want %08x)", got, want);
		return KVD_CORRUPT;
	}
	f->count = kvd_le(ft, 8);
	f->body_len = kvd_le(ft + 8, 8);
	f->body_crc = (uint32_t)kvd_le(ft + 16, 4);
	if (f->body_len != n - KVD_FRAME_HEADER - KVD_FRAME_FOOTER) {
		snprintf(err, errlen, "footer says body is %llu bytes, file holds %llu (truncated or trailing bytes)",
		         (unsigned long long)f->body_len, (unsigned long long)(n - KVD_FRAME_HEADER - KVD_FRAME_FOOTER));
		return KVD_CORRUPT;
	}
	return 0;
}

/* ---- one partition */

typedef struct {
	const uint8_t *body; /* the vellum FST: FST file + 16 */
	uint64_t body_len;
	uint64_t root;
	const uint8_t *vlog; /* the whole value log file */
	uint64_t vlog_end;   /* end of its body: size - 32 */
	int keyed;           /* value log version 2: keyed records */
	/* codec 1 (zstd groups); zcodec 0: records at file offsets */
	int zcodec, zcrc;
	uint64_t zstart, zend, zmax; /* groups lie in [zstart, zend); payloads <= zmax */
	void *ddict;                 /* ZSTD_DDict, or NULL without a dictionary */
	/* hash index (NULL table: none, or not used) */
	const uint8_t *hix;  /* the table: L slots of 8 bytes */
	uint64_t hix_l, hix_m, hix_seed;
	uint8_t hix_maxdisp;
	uint8_t hix_shift; /* 0: entries address records; 4: groups of a compressed keyed log */
} kvd_part;

/* kvd_part_init validates both files' framing and vellum's header and
 * footer, O(1). which is set to 0 (FST) or 1 (value log) on failure. */
static int kvd_zstd_init(kvd_part *p, const uint8_t *vlog, uint64_t vlog_size, char *err, size_t errlen);

static int kvd_part_init(kvd_part *p, const uint8_t *fst, uint64_t fst_size, const uint8_t *vlog,
                         uint64_t vlog_size, int keyed, int zstd_ok, kvd_frame *ff, kvd_frame *vf, int *which,
                         char *err, size_t errlen)
{
	int rc;
	*which = 0;
	if ((rc = kvd_frame_decode(fst, fst_size, KVD_FST_MAGIC, 1, ff, err, errlen)) < 0)
		return rc;
	if (ff->flags != 0) {
		snprintf(err, errlen, "header flags %#x, version %u defines none", ff->flags, ff->version);
		return KVD_CORRUPT;
	}
	const uint8_t *b = fst + KVD_FRAME_HEADER;
	uint64_t bl = ff->body_len;
	if (bl < KVD_VELLUM_HEADER + KVD_VELLUM_FOOTER) {
		snprintf(err, errlen, "body of %llu bytes is too short for a vellum FST (at least 32)", (unsigned long long)bl);
		return KVD_CORRUPT;
	}
	if (kvd_le(b, 8) != 1 || kvd_le(b + 8, 8) != 0) {
		snprintf(err, errlen, "vellum header is not version 1, type 0");
		return KVD_CORRUPT;
	}
	if (kvd_le(b + bl - 16, 8) != ff->count) {
		snprintf(err, errlen, "vellum footer counts %llu keys, frame footer %llu",
		         (unsigned long long)kvd_le(b + bl - 16, 8), (unsigned long long)ff->count);
		return KVD_CORRUPT;
	}
	uint64_t root = kvd_le(b + bl - 8, 8);
	if (root != 0 && (root < KVD_VELLUM_HEADER || root >= bl - KVD_VELLUM_FOOTER)) {
		snprintf(err, errlen, "root address %llu outside the states", (unsigned long long)root);
		return KVD_CORRUPT;
	}
	*which = 1;
	if ((rc = kvd_frame_decode(vlog, vlog_size, KVD_VLOG_MAGIC, 2, vf, err, errlen)) < 0)
		return rc;
	p->zcodec = 0;
	p->ddict = NULL;
	if (vf->flags == 1 && zstd_ok && KVD_HAVE_ZSTD) {
		/* version 2: keyed records (zstd-records); version 1: values
		 * alone (zstd-values); the keyed check below ties the version to
		 * the MANIFEST */
		p->zcodec = 1;
	} else if (vf->flags != 0) {
		snprintf(err, errlen, "value-log codec %u, this build reads codec 0 (raw)%s", vf->flags,
		         KVD_HAVE_ZSTD ? "" : " (built without libzstd)");
		return KVD_VERSION;
	}
	if ((vf->version == 2) != (keyed != 0)) {
		snprintf(err, errlen, "value log version %u, but the MANIFEST %s feature keyed-records", vf->version,
		         keyed ? "lists" : "does not list");
		return KVD_CORRUPT;
	}
	p->body = b;
	p->body_len = bl;
	p->root = root;
	p->vlog = vlog;
	p->vlog_end = vlog_size - KVD_FRAME_FOOTER;
	p->keyed = keyed;
	p->hix = NULL;
	if (p->zcodec)
		return kvd_zstd_init(p, vlog, vlog_size, err, errlen);
	return 0;
}

/* ---- hash index (hashindex/format.go), optional feature "hash-index"
 *
 *	header   0:8 "kvdHIX\0\0", 8:12 version 1, 12:16 flags 0
 *	table    L slots of 8 bytes (uint64 LE): bits 63..24 record address
 *	         >> shift, 23..16 displacement (saturated at 255), 15..0
 *	         fingerprint; 0 = empty
 *	trailer  the body's last 64 bytes: 0:4 hash (1 = XXH3-64 with seed),
 *	         4:5 layout (1), 5:6 shift (0), 6:8 reserved, 8:16 seed,
 *	         16:24 M home slots, 24:32 L slots, 32:40 keys, 40:41 largest
 *	         displacement, 41:64 reserved (0)
 *
 * home(key) = high 64 bits of XXH3(key, seed) * M; fingerprint = hash &
 * 0xffff. A candidate is confirmed by the key stored in its record. */

#define KVD_HIX_MAGIC "kvdHIX\0\0"
#define KVD_HIX_TRAILER 64

static int kvd_hix_init(kvd_part *p, const uint8_t *d, uint64_t n, uint64_t nkeys, kvd_frame *hf, char *err,
                        size_t errlen)
{
	int rc;
	if ((rc = kvd_frame_decode(d, n, KVD_HIX_MAGIC, 1, hf, err, errlen)) < 0)
		return rc;
	const uint8_t *body = d + KVD_FRAME_HEADER;
	uint64_t bl = hf->body_len;
	if (bl < KVD_HIX_TRAILER || (bl - KVD_HIX_TRAILER) % 8 != 0) {
		snprintf(err, errlen, "body of %llu bytes is not 8*L + 64", (unsigned long long)bl);
		return KVD_CORRUPT;
	}
	const uint8_t *t = body + bl - KVD_HIX_TRAILER;
	uint32_t hash = (uint32_t)kvd_le(t, 4);
	if (hash != 1 || t[4] != 1 || (t[5] != 0 && t[5] != 4)) {
		snprintf(err, errlen, "hash function %u, entry layout %u, address shift %u: this build reads 1, 1, 0 or 4",
		         hash, t[4], t[5]);
		return KVD_VERSION;
	}
	/* shift 4 addresses the groups of a compressed keyed log, shift 0 the
	 * records of a raw one: any other pairing compares the wrong bytes */
	if ((t[5] == 4) != (p->zcodec != 0) || !p->keyed) {
		snprintf(err, errlen, "address shift %u over a value log that is keyed %d, compressed %d", t[5], p->keyed,
		         p->zcodec);
		return KVD_CORRUPT;
	}
	int zero = t[6] == 0 && t[7] == 0;
	for (int i = 41; i < KVD_HIX_TRAILER; i++)
		zero &= t[i] == 0;
	uint64_t m = kvd_le(t + 16, 8), l = kvd_le(t + 24, 8), keys = kvd_le(t + 32, 8);
	if (!zero || l != (bl - KVD_HIX_TRAILER) / 8 || m == 0 || m > l || keys != hf->count || keys > l ||
	    keys != nkeys) {
		snprintf(err, errlen, "inconsistent trailer (M %llu, L %llu, keys %llu)", (unsigned long long)m,
		         (unsigned long long)l, (unsigned long long)keys);
		return KVD_CORRUPT;
	}
	if (KVD_HAVE_XXH3 && p->keyed) {
		p->hix = body;
		p->hix_l = l;
		p->hix_m = m;
		p->hix_seed = kvd_le(t + 8, 8);
		p->hix_maxdisp = t[40];
		p->hix_shift = t[5];
	}
	return 0;
}

/* ---- vellum v1 states */

/* vellum's commonInputsInv[0:63]: the input byte of a one-transition state
 * whose top byte's low 6 bits are c (1..63) is kvd_common[c-1]. */
static const uint8_t kvd_common[63] = "te/oasripcnw.hlm-du012g=:bf3y5&_4v9678k%?xCDASFIBEjPTzRNM+LOqHG";

typedef struct {
	uint64_t addr;
	uint32_t n;   /* transitions */
	uint8_t single;
	uint8_t final;
	uint8_t ts, os;
	uint64_t final_out;
	/* one transition */
	uint8_t s_in;
	uint64_t s_target, s_out;
	/* several: offsets in the body of the arrays, stored in reverse */
	uint64_t in_lo, dest_lo, out_lo, bottom;
} kvd_state;

#define KVD_NEED(k)                     \
	do {                                \
		if (bot - KVD_VELLUM_HEADER < (k)) \
			return KVD_CORRUPT;         \
	} while (0)

/* kvd_state_at decodes the state at addr. Its bytes must lie in the states
 * area [16, body_len-16); a state that is neither final nor has a
 * transition is damage (no vellum FST has one). */
static inline int kvd_state_at(const kvd_part *p, uint64_t addr, kvd_state *s)
{
	const uint8_t *d = p->body;
	s->addr = addr;
	if (addr == 0) {
		s->single = 0;
		s->final = 1;
		s->n = 0;
		s->final_out = 0;
		s->ts = s->os = 0;
		return 0;
	}
	if (addr < KVD_VELLUM_HEADER || addr >= p->body_len - KVD_VELLUM_FOOTER)
		return KVD_CORRUPT;
	uint64_t bot = addr;
	uint8_t t = d[addr];
	if (t & 0x80) {
		s->single = 1;
		s->final = 0;
		s->n = 1;
		s->final_out = 0;
		uint8_t c = t & 0x3f;
		if (c == 0) {
			KVD_NEED(1);
			s->s_in = d[--bot];
		} else {
			s->s_in = kvd_common[c - 1];
		}
		if (t & 0x40) {
			s->ts = s->os = 0;
			s->s_target = bot - 1;
			s->s_out = 0;
		} else {
			KVD_NEED(1);
			uint8_t pk = d[--bot];
			s->ts = pk >> 4;
			s->os = pk & 15;
			if (s->ts > 8 || s->os > 8)
				return KVD_CORRUPT;
			KVD_NEED((uint64_t)s->ts + s->os);
			bot -= s->ts;
			uint64_t delta = kvd_le(d + bot, s->ts);
			bot -= s->os;
			s->s_out = kvd_le(d + bot, s->os);
			if (delta > bot)
				return KVD_CORRUPT;
			s->s_target = delta ? bot - delta : 0;
		}
		s->bottom = bot;
		return 0;
	}
	s->single = 0;
	s->final = (t & 0x40) != 0;
	uint32_t n = t & 0x3f;
	if (n == 0) {
		KVD_NEED(1);
		n = d[--bot];
		if (n == 1)
			n = 256;
	}
	KVD_NEED(1);
	uint8_t pk = d[--bot];
	s->ts = pk >> 4;
	s->os = pk & 15;
	if (s->ts > 8 || s->os > 8)
		return KVD_CORRUPT;
	s->n = n;
	KVD_NEED(n);
	bot -= n;
	s->in_lo = bot;
	KVD_NEED((uint64_t)n * s->ts);
	bot -= (uint64_t)n * s->ts;
	s->dest_lo = bot;
	s->final_out = 0;
	if (s->os) {
		KVD_NEED((uint64_t)n * s->os);
		bot -= (uint64_t)n * s->os;
		s->out_lo = bot;
		if (s->final) {
			KVD_NEED(s->os);
			bot -= s->os;
			s->final_out = kvd_le(d + bot, s->os);
		}
	}
	s->bottom = bot;
	if (n == 0 && !s->final)
		return KVD_CORRUPT;
	return 0;
}

/* kvd_trans returns transition i (0 = the smallest input) of a decoded
 * state: its input byte, target address and output. */
static inline int kvd_trans(const kvd_part *p, const kvd_state *s, uint32_t i, uint8_t *in, uint64_t *target,
                            uint64_t *out)
{
	if (s->single) {
		*in = s->s_in;
		*target = s->s_target;
		*out = s->s_out;
		return 0;
	}
	const uint8_t *d = p->body;
	uint32_t pos = s->n - 1 - i; /* arrays are stored in reverse */
	*in = d[s->in_lo + pos];
	uint64_t delta = kvd_le(d + s->dest_lo + (uint64_t)pos * s->ts, s->ts);
	*out = s->os ? kvd_le(d + s->out_lo + (uint64_t)pos * s->os, s->os) : 0;
	if (delta > s->bottom)
		return KVD_CORRUPT;
	*target = delta ? s->bottom - delta : 0;
	return 0;
}

/* A key's walk through the FST, advanced one state at a time by
 * kvd_fst_step: kvd_fst_get runs one walk to its end, kvd_get_batch
 * interleaves several so that their cache misses overlap. */
typedef struct {
	uint64_t addr; /* the next state to read */
	uint64_t sum;  /* outputs so far */
	size_t i;      /* key bytes consumed */
} kvd_walk;

static inline void kvd_walk_start(const kvd_part *p, kvd_walk *w)
{
	w->addr = p->root;
	w->sum = 0;
	w->i = 0;
}

/* kvd_fst_step reads the state at w->addr and follows key[w->i]: KVD_MORE
 * when it moved on (w->addr is the next state to read), or, at the end of
 * the walk, KVD_FOUND with the record offset in *off, KVD_MISSING or
 * KVD_CORRUPT. klen must be at most KVD_MAX_KEY_LEN. */
static inline int kvd_fst_step(const kvd_part *p, kvd_walk *w, const uint8_t *key, size_t klen, uint64_t *off)
{
	kvd_state s;
	if (w->i == klen) {
		if (kvd_state_at(p, w->addr, &s) < 0)
			return KVD_CORRUPT;
		if (!s.final)
			return KVD_MISSING;
		*off = w->sum + s.final_out;
		return KVD_FOUND;
	}
	if (w->addr == 0)
		return KVD_MISSING;
	if (kvd_state_at(p, w->addr, &s) < 0)
		return KVD_CORRUPT;
	uint8_t c = key[w->i++];
	if (s.single) {
		if (s.s_in != c)
			return KVD_MISSING;
		w->sum += s.s_out;
		w->addr = s.s_target;
		return KVD_MORE;
	}
	const uint8_t *ins = p->body + s.in_lo;
	const uint8_t *hit = memchr(ins, c, s.n);
	if (!hit)
		return KVD_MISSING;
	uint32_t pos = (uint32_t)(hit - ins);
	uint64_t delta = kvd_le(p->body + s.dest_lo + (uint64_t)pos * s.ts, s.ts);
	if (s.os)
		w->sum += kvd_le(p->body + s.out_lo + (uint64_t)pos * s.os, s.os);
	if (delta > s.bottom)
		return KVD_CORRUPT;
	w->addr = delta ? s.bottom - delta : 0;
	return KVD_MORE;
}

/* kvd_fst_get looks key up in the partition's FST. On KVD_FOUND, *off is
 * the sum of outputs: the record's offset in the value log. */
static int kvd_fst_get(const kvd_part *p, const uint8_t *key, size_t klen, uint64_t *off)
{
	if (klen > KVD_MAX_KEY_LEN)
		return KVD_MISSING;
	kvd_walk w;
	kvd_walk_start(p, &w);
	int rc;
	while ((rc = kvd_fst_step(p, &w, key, klen, off)) == KVD_MORE)
		;
	return rc;
}

/* kvd_record decodes the record at absolute offset off of the value log:
 * the value's bytes are [*val, *val + *len). */
static inline int kvd_record(const kvd_part *p, uint64_t off, const uint8_t **val, uint64_t *len)
{
	if (off < KVD_FRAME_HEADER || off >= p->vlog_end)
		return KVD_CORRUPT;
	uint64_t n = 0;
	unsigned shift = 0;
	for (int k = 0;; k++) {
		if (k == 10 || off >= p->vlog_end)
			return KVD_CORRUPT;
		uint8_t b = p->vlog[off++];
		if (k == 9 && b > 1)
			return KVD_CORRUPT; /* over 64 bits */
		n |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (n > p->vlog_end - off)
		return KVD_CORRUPT;
	*val = p->vlog + off;
	*len = n;
	return 0;
}

/* kvd_uvarint reads a uvarint at *off (advanced) below end. */
static inline int kvd_uvarint(const uint8_t *d, uint64_t end, uint64_t *off, uint64_t *v)
{
	uint64_t x = 0, o = *off;
	unsigned shift = 0;
	for (int k = 0;; k++) {
		if (k == 10 || o >= end)
			return KVD_CORRUPT;
		uint8_t b = d[o++];
		if (k == 9 && b > 1)
			return KVD_CORRUPT;
		x |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	*off = o;
	*v = x;
	return 0;
}

/* Keyed record (valuelog/format.go, value log version 2):
 *
 *	tag 0x00: key length (uvarint <= 65535), key, value length (uvarint), value
 *	tag 0x01: key length, key, back distance d (uvarint, 1 <= d <= off-16):
 *	          the value is that of the tag-0x00 record at off-d
 *	other tags: corruption
 *
 * kvd_keyed decodes the record at off: its key, and its value (a reference
 * is resolved; a reference to anything but a tag-0 record is damage). */
static int kvd_keyed(const kvd_part *p, uint64_t off, const uint8_t **key, uint64_t *klen, const uint8_t **val,
                     uint64_t *vlen)
{
	const uint8_t *d = p->vlog;
	uint64_t end = p->vlog_end, o = off, k, x;
	if (off < KVD_FRAME_HEADER || off >= end)
		return KVD_CORRUPT;
	uint8_t tag = d[o++];
	if (tag > 1)
		return KVD_CORRUPT;
	if (kvd_uvarint(d, end, &o, &k) < 0 || k > KVD_MAX_KEY_LEN || k > end - o)
		return KVD_CORRUPT;
	*key = d + o;
	*klen = k;
	o += k;
	if (kvd_uvarint(d, end, &o, &x) < 0)
		return KVD_CORRUPT;
	if (tag == 1) {
		if (x == 0 || x > off - KVD_FRAME_HEADER)
			return KVD_CORRUPT;
		uint64_t r = off - x;
		if (d[r] != 0)
			return KVD_CORRUPT; /* a reference to a reference */
		r++;
		if (kvd_uvarint(d, end, &r, &k) < 0 || k > KVD_MAX_KEY_LEN || k > end - r)
			return KVD_CORRUPT;
		r += k;
		if (kvd_uvarint(d, end, &r, &x) < 0)
			return KVD_CORRUPT;
		o = r;
	}
	if (x > end - o)
		return KVD_CORRUPT;
	*val = d + o;
	*vlen = x;
	return 0;
}

/* ---- compressed value logs (valuelog/zstd.go, internal/zrec/doc.go)
 *
 * Codec 1 body: flags (uvarint; bit 0 = groups carry a CRC-32C, other bits
 * 0), dictionary length d (uvarint), d bytes of zstd dictionary (ID 1),
 * then groups back to back, then the largest payload (uint64) in the last
 * 8 bytes. A record's address is its group's file offset << 4 | its index
 * in the group (0..15). A group: H = n<<1 | s (uvarint; n = payload length,
 * s = stored raw), then for s = 0 m (uvarint, >= 3) and m bytes of zstd
 * blocks whose frame header is implied (28 b5 2f fd, e3 + dictionary ID 1
 * or e0 without a dictionary, n as 8 bytes), for s = 1 the n payload bytes;
 * then, with checksums, the CRC-32C of the payload. The payload is, in a
 * version 2 log (zstd-records), keyed records back to back, whose back
 * references count in the address space; in a version 1 log (zstd-values,
 * valuelog/zvalues.go) value records, each a uvarint length and that many
 * bytes, and the FST outputs addresses directly (no references). */

typedef struct {
#if KVD_HAVE_ZSTD
	ZSTD_DCtx *dctx;
#endif
	uint8_t *buf[2], *frame;
	size_t cap[2], fcap;
	const kvd_part *owner[2];
	uint64_t group[2];      /* the group decoded in slot i */
	const uint8_t *pay[2];  /* its payload (buf[i] or the mapping) */
	uint64_t plen[2];
} kvd_zctx;

static void kvd_zctx_free(kvd_zctx *z)
{
	if (!z)
		return;
#if KVD_HAVE_ZSTD
	if (z->dctx)
		ZSTD_freeDCtx(z->dctx);
#endif
	free(z->buf[0]);
	free(z->buf[1]);
	free(z->frame);
	memset(z, 0, sizeof *z);
}

static void kvd_part_free(kvd_part *p)
{
#if KVD_HAVE_ZSTD
	if (p->ddict)
		ZSTD_freeDDict(p->ddict);
#endif
	p->ddict = NULL;
}

static int kvd_zstd_init(kvd_part *p, const uint8_t *vlog, uint64_t vlog_size, char *err, size_t errlen)
{
#if KVD_HAVE_ZSTD
	uint64_t end = vlog_size - KVD_FRAME_FOOTER, o = KVD_FRAME_HEADER, flags, d;
	if (end - o < 8 || kvd_uvarint(vlog, end - 8, &o, &flags) < 0 || (flags & ~1ull) ||
	    kvd_uvarint(vlog, end - 8, &o, &d) < 0 || d > end - 8 - o) {
		snprintf(err, errlen, "compressed log head (flags, dictionary) damaged");
		return KVD_CORRUPT;
	}
	if (d) {
		p->ddict = ZSTD_createDDict(vlog + o, (size_t)d);
		if (!p->ddict || ZSTD_getDictID_fromDDict(p->ddict) != 1) {
			snprintf(err, errlen, "bad zstd dictionary (want a standard dictionary with ID 1)");
			kvd_part_free(p);
			return KVD_CORRUPT;
		}
	}
	p->zcrc = (int)(flags & 1);
	p->zstart = o + d;
	p->zend = end - 8;
	p->zmax = kvd_le(vlog + end - 8, 8);
	if (p->zmax > ((uint64_t)1 << 32)) {
		snprintf(err, errlen, "largest group payload %llu is implausible", (unsigned long long)p->zmax);
		kvd_part_free(p);
		return KVD_CORRUPT;
	}
	return 0;
#else
	snprintf(err, errlen, "compressed value log, and this build has no libzstd");
	return KVD_VERSION;
#endif
}

static int kvd_grow(uint8_t **b, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	uint8_t *n = realloc(*b, c);
	if (!n)
		return -1;
	*b = n;
	*cap = c;
	return 0;
}

/* kvd_group decodes the group at file offset g into slot i of z (kept as
 * a one-group cache per slot). */
static int kvd_group(const kvd_part *p, kvd_zctx *z, int i, uint64_t g)
{
#if KVD_HAVE_ZSTD
	if (z->owner[i] == p && z->group[i] == g)
		return 0;
	z->owner[i] = NULL;
	const uint8_t *d = p->vlog;
	uint64_t end = p->zend, o = g, h, n, m;
	const uint8_t *pay;
	if (g < p->zstart || g >= end || kvd_uvarint(d, end, &o, &h) < 0)
		return KVD_CORRUPT;
	n = h >> 1;
	if (n > p->zmax)
		return KVD_CORRUPT;
	if (h & 1) {
		if (n > end - o)
			return KVD_CORRUPT;
		pay = d + o;
		o += n;
	} else {
		if (kvd_uvarint(d, end, &o, &m) < 0 || m < 3 || m > end - o)
			return KVD_CORRUPT;
		if (!z->dctx && !(z->dctx = ZSTD_createDCtx()))
			return -4;
		if (kvd_grow(&z->frame, &z->fcap, 17 + m) < 0 || kvd_grow(&z->buf[i], &z->cap[i], n + 1) < 0)
			return -4;
		uint8_t *f = z->frame;
		size_t hl = 0;
		f[hl++] = 0x28, f[hl++] = 0xb5, f[hl++] = 0x2f, f[hl++] = 0xfd;
		f[hl++] = p->ddict ? 0xe3 : 0xe0;
		if (p->ddict)
			f[hl++] = 1, f[hl++] = 0, f[hl++] = 0, f[hl++] = 0;
		for (int k = 0; k < 8; k++)
			f[hl++] = (uint8_t)(n >> (8 * k));
		memcpy(f + hl, d + o, (size_t)m);
		size_t r = p->ddict ? ZSTD_decompress_usingDDict(z->dctx, z->buf[i], (size_t)n, f, hl + m, p->ddict)
		                    : ZSTD_decompressDCtx(z->dctx, z->buf[i], (size_t)n, f, hl + m);
		if (ZSTD_isError(r) || r != n)
			return KVD_CORRUPT;
		pay = z->buf[i];
		o += m;
	}
	if (p->zcrc && (4 > end - o || kvd_crc32c(0, pay, (size_t)n) != (uint32_t)kvd_le(d + o, 4)))
		return KVD_CORRUPT;
	z->owner[i] = p;
	z->group[i] = g;
	z->pay[i] = pay;
	z->plen[i] = n;
	return 0;
#else
	return KVD_CORRUPT;
#endif
}

/* kvd_znext decodes the keyed record at *o of a group payload b[0:end]:
 * its tag (0: value follows; 1: x is a back distance), key (b + *ko, *k
 * bytes) and x (value length or distance), leaving *o after the record.
 * 0, or KVD_CORRUPT when the record is damaged or past the payload. */
static inline int kvd_znext(const uint8_t *b, uint64_t end, uint64_t *o, int *tag, uint64_t *ko, uint64_t *k,
                            uint64_t *x)
{
	if (*o >= end || b[*o] > 1)
		return KVD_CORRUPT; /* past the last record, or an unknown tag */
	*tag = b[(*o)++];
	if (kvd_uvarint(b, end, o, k) < 0 || *k > KVD_MAX_KEY_LEN || *k > end - *o)
		return KVD_CORRUPT;
	*ko = *o;
	*o += *k;
	if (kvd_uvarint(b, end, o, x) < 0 || (*tag == 0 && *x > end - *o))
		return KVD_CORRUPT;
	if (*tag == 0)
		*o += *x;
	return 0;
}

/* kvd_zat decodes, through slot, the group of address addr and its keyed
 * records up to addr's: tag, key (b + *ko, *k bytes) and x as kvd_znext
 * gives them, with *val at the value of a tag-0 record. */
static int kvd_zat(const kvd_part *p, kvd_zctx *z, int slot, uint64_t addr, int *tag, const uint8_t **key,
                   uint64_t *klen, uint64_t *x, const uint8_t **val)
{
	int rc = kvd_group(p, z, slot, addr >> 4);
	if (rc < 0)
		return rc;
	/* the payload is keyed records back to back: skip addr & 15 of them */
	const uint8_t *b = z->pay[slot];
	uint64_t end = z->plen[slot], o = 0, ko;
	for (uint64_t i = 0; i <= (addr & 15); i++)
		if (kvd_znext(b, end, &o, tag, &ko, klen, x) < 0)
			return KVD_CORRUPT;
	*key = b + ko;
	*val = b + o - (*tag == 0 ? *x : 0);
	return 0;
}

/* kvd_zref resolves a back reference: the value of the tag-0 record at
 * address addr - x, decoded through slot 1. */
static int kvd_zref(const kvd_part *p, kvd_zctx *z, uint64_t addr, uint64_t x, const uint8_t **val,
                    uint64_t *vlen)
{
	if (x == 0 || x > addr || ((addr - x) >> 4) < p->zstart)
		return KVD_CORRUPT; /* a reference outside the groups */
	const uint8_t *k;
	uint64_t kl;
	int tag, rc = kvd_zat(p, z, 1, addr - x, &tag, &k, &kl, vlen, val);
	if (rc < 0)
		return rc;
	return tag == 0 ? 0 : KVD_CORRUPT; /* a reference to a reference */
}

/* kvd_zkeyed decodes the keyed record at address addr of a compressed log:
 * its key and value (a reference resolved through slot 1). */
static int kvd_zkeyed(const kvd_part *p, kvd_zctx *z, uint64_t addr, const uint8_t **key, uint64_t *klen,
                      const uint8_t **val, uint64_t *vlen)
{
	uint64_t x;
	int tag, rc = kvd_zat(p, z, 0, addr, &tag, key, klen, &x, val);
	if (rc < 0)
		return rc;
	if (tag == 1)
		return kvd_zref(p, z, addr, x, val, vlen);
	*vlen = x;
	return 0;
}

/* kvd_zvalue decodes the value record at address addr of a compressed
 * value-only log (group in slot 0; the value aliases the slot's buffer or
 * the mapping, valid until the next decode through z). */
static int kvd_zvalue(const kvd_part *p, kvd_zctx *z, uint64_t addr, const uint8_t **val, uint64_t *vlen)
{
	int rc = kvd_group(p, z, 0, addr >> 4);
	if (rc < 0)
		return rc;
	const uint8_t *b = z->pay[0];
	uint64_t end = z->plen[0], o = 0, x;
	for (uint64_t i = 0;; i++) {
		if (o >= end || kvd_uvarint(b, end, &o, &x) < 0 || x > end - o)
			return KVD_CORRUPT; /* past the last record, or damaged */
		if (i == (addr & 15)) {
			*val = b + o;
			*vlen = x;
			return KVD_FOUND;
		}
		o += x;
	}
}

/* kvd_zfind looks for key among the keyed records of the group at address
 * addr (index bits 0) of a compressed keyed log: a hash index with address
 * shift 4 names groups, not records. KVD_FOUND with the value (a
 * reference resolved by kvd_zref), KVD_MISSING, or KVD_CORRUPT. */
static int kvd_zfind(const kvd_part *p, kvd_zctx *z, uint64_t addr, const uint8_t *key, size_t klen,
                     const uint8_t **val, uint64_t *vlen)
{
	int rc = kvd_group(p, z, 0, addr >> 4);
	if (rc < 0)
		return rc;
	const uint8_t *b = z->pay[0];
	uint64_t end = z->plen[0], o = 0, ko, k, x;
	int tag;
	for (uint64_t i = 0; o < end; i++) {
		if (i == 16)
			return KVD_CORRUPT; /* more records than an address can name */
		if (kvd_znext(b, end, &o, &tag, &ko, &k, &x) < 0)
			return KVD_CORRUPT;
		if (k != klen || memcmp(b + ko, key, klen) != 0)
			continue;
		if (tag == 1) {
			if ((rc = kvd_zref(p, z, (addr & ~(uint64_t)15) | i, x, val, vlen)) < 0)
				return rc;
			return KVD_FOUND;
		}
		*val = b + o - x;
		*vlen = x;
		return KVD_FOUND;
	}
	return KVD_MISSING;
}

/* kvd_value returns the value of key, whose record is at off (from the FST
 * or the index). In a keyed log the record's key must be key: from the FST
 * a mismatch is damage (KVD_CORRUPT); from the index (probe != 0) it means
 * another key with the same fingerprint (KVD_MISSING). */
static inline int kvd_value(const kvd_part *p, kvd_zctx *z, uint64_t off, const uint8_t *key, size_t klen,
                            int probe, const uint8_t **val, uint64_t *vlen)
{
	if (!p->keyed && p->zcodec)
		return kvd_zvalue(p, z, off, val, vlen);
	if (!p->keyed)
		return kvd_record(p, off, val, vlen) < 0 ? KVD_CORRUPT : KVD_FOUND;
	if (probe && p->hix_shift)
		return kvd_zfind(p, z, off, key, klen, val, vlen);
	const uint8_t *k;
	uint64_t kl;
	if (p->zcodec) {
		int rc = kvd_zkeyed(p, z, off, &k, &kl, val, vlen);
		if (rc < 0)
			return rc;
	} else if (kvd_keyed(p, off, &k, &kl, val, vlen) < 0) {
		return KVD_CORRUPT;
	}
	if (kl != klen || memcmp(k, key, klen) != 0)
		return probe ? KVD_MISSING : KVD_CORRUPT;
	return KVD_FOUND;
}

/* The probe of the hash index, in steps that kvd_get_batch interleaves:
 * kvd_hix_hash, kvd_hix_home (the first slot to read), then kvd_hix_next
 * for each candidate, whose record kvd_value confirms or rejects. */
static inline uint64_t kvd_hix_hash(const kvd_part *p, const uint8_t *key, size_t klen)
{
#if KVD_HAVE_XXH3
	return XXH3_64bits_withSeed(key, klen, p->hix_seed);
#else
	return 0;
#endif
}

static inline uint64_t kvd_hix_home(const kvd_part *p, uint64_t h)
{
	return (uint64_t)(((unsigned __int128)h * p->hix_m) >> 64);
}

/* kvd_hix_next finds the next candidate for hash h at or after slot *i
 * (home at first): 1 with the slot in *i and its record address in *addr,
 * or 0 when the probe sequence ends (the key is absent). */
static inline int kvd_hix_next(const kvd_part *p, uint64_t h, uint64_t home, uint64_t *i, uint64_t *addr)
{
	uint64_t limit = p->hix_l;
	if (p->hix_maxdisp < 255 && home + p->hix_maxdisp + 1 < limit)
		limit = home + p->hix_maxdisp + 1;
	for (uint64_t j = *i; j < limit; j++) {
		uint64_t e = kvd_le(p->hix + j * 8, 8);
		if (e == 0)
			return 0;
		uint64_t disp = (e >> 16) & 0xff;
		if (disp < 255 && j - disp > home)
			return 0;
		if ((e & 0xffff) != (h & 0xffff))
			continue;
		*i = j;
		*addr = (e >> 24) << p->hix_shift;
		return 1;
	}
	return 0;
}

/* kvd_hix_probe tries the candidates from slot i on: KVD_FOUND with the
 * value, KVD_MISSING, or KVD_CORRUPT when a candidate's record is damaged.
 * A damaged table can only produce wrong candidates, which the key
 * comparison in kvd_value rejects: an absent key never returns a value. */
static inline int kvd_hix_probe(const kvd_part *p, kvd_zctx *z, const uint8_t *key, size_t klen, uint64_t h,
                                uint64_t home, uint64_t i, const uint8_t **val, uint64_t *vlen)
{
	uint64_t addr;
	while (kvd_hix_next(p, h, home, &i, &addr)) {
		/* a URL-sized record spans two cache lines, and the second is only
		 * addressed once the first is decoded: fetch the end of the stored
		 * key (its offset follows from klen) together with the first */
		if (!p->zcodec && addr + klen + 2 < p->vlog_end)
			__builtin_prefetch(p->vlog + addr + klen + 2);
		int rc = kvd_value(p, z, addr, key, klen, 1, val, vlen);
		if (rc != KVD_MISSING)
			return rc;
		i++;
	}
	return KVD_MISSING;
}

/* kvd_hix_get looks key up through the hash index. */
static int kvd_hix_get(const kvd_part *p, kvd_zctx *z, const uint8_t *key, size_t klen, const uint8_t **val,
                       uint64_t *vlen)
{
#if KVD_HAVE_XXH3
	uint64_t h = kvd_hix_hash(p, key, klen), home = kvd_hix_home(p, h);
	return kvd_hix_probe(p, z, key, klen, h, home, home, val, vlen);
#else
	return KVD_CORRUPT;
#endif
}

/* kvd_get looks key up in one partition, through the hash index when
 * there is one, else the FST. */
static inline int kvd_get(const kvd_part *p, kvd_zctx *z, const uint8_t *key, size_t klen, const uint8_t **val,
                          uint64_t *vlen, int *in_log)
{
	*in_log = 0;
	if (p->hix) {
		if (klen > KVD_MAX_KEY_LEN)
			return KVD_MISSING;
		*in_log = 2;
		return kvd_hix_get(p, z, key, klen, val, vlen);
	}
	uint64_t off;
	int rc = kvd_fst_get(p, key, klen, &off);
	if (rc != KVD_FOUND)
		return rc;
	*in_log = 1;
	return kvd_value(p, z, off, key, klen, 0, val, vlen);
}

/* ---- batched lookups (get_many)
 *
 * A lookup in a large dictionary waits on a few cache misses in a row (an
 * index slot, then a record; or one FST state per key byte), each
 * depending on the one before. kvd_get_batch looks up to KVD_BATCH keys
 * at once in stages, and at each stage issues the loads of every key
 * before using any (group prefetching): the misses of different keys
 * overlap instead of queueing. The answers are those of kvd_get.
 *
 * Requests on a compressed partition (zcodec) are not answered here: their
 * values live in decode buffers that the next lookup reuses, so the caller
 * looks them up one by one with kvd_get and copies each value out. */

#define KVD_BATCH 16

enum { KVD_ST_DONE, KVD_ST_FST, KVD_ST_HIX, KVD_ST_REC };

typedef struct {
	const kvd_part *p;   /* in: the partition that may hold key, or NULL */
	const uint8_t *key;  /* in */
	size_t klen;         /* in */
	const uint8_t *val;  /* out, with rc == KVD_FOUND */
	uint64_t vlen;       /* out */
	int rc;              /* out: KVD_FOUND, KVD_MISSING or an error */
	int in_log;          /* out: as kvd_get's (where an error is) */
	/* private */
	int stage;
	uint64_t h, home, slot, addr;
	kvd_walk w;
} kvd_req;

/* KVD_PREFETCH_FN marks a function whose only effect is to prefetch. It
 * must be inlined into its caller: GCC 12's mod/ref analysis (-fipa-modref,
 * on from -O1) finds such a function free of side effects and deletes every
 * call to it, which silently turned off the record and state prefetches
 * below until the extension was disassembled (get_many with the hash index
 * went 1.7x faster once they were back, docs/BENCHMARKS.md 12.4). A
 * __builtin_prefetch written in the caller itself is kept; tests/
 * test_prefetch.py checks the built extension for them. */
#if defined(__GNUC__) || defined(__clang__)
#define KVD_PREFETCH_FN static inline __attribute__((always_inline))
#else
#define KVD_PREFETCH_FN static inline
#endif

KVD_PREFETCH_FN void kvd_prefetch_state(const kvd_part *p, uint64_t addr)
{
	/* a state is read downwards from its address: its line and the one below */
	if (addr >= 64 && addr < p->body_len) {
		__builtin_prefetch(p->body + addr);
		__builtin_prefetch(p->body + addr - 63);
	}
}

KVD_PREFETCH_FN void kvd_prefetch_record(const kvd_part *p, uint64_t addr, size_t klen)
{
	/* its first line, and the one with the end of the stored key (keyed
	 * records) or the value's first bytes; in a compressed log, the
	 * group's first bytes */
	if (p->zcodec)
		addr >>= 4;
	if (addr < p->vlog_end) {
		__builtin_prefetch(p->vlog + addr);
		uint64_t end = addr + (p->keyed ? klen + 2 : 64);
		if (end < p->vlog_end)
			__builtin_prefetch(p->vlog + end);
	}
}

/* kvd_get_batch answers q[0:n] (n <= KVD_BATCH), none of which is on a
 * compressed partition. */
static void kvd_get_batch(kvd_req *q, int n)
{
	int fst[KVD_BATCH], nf = 0;
	/* stage 1: hash and prefetch each key's home slot; start the FST walks */
	for (int j = 0; j < n; j++) {
		kvd_req *r = &q[j];
		r->in_log = 0;
		r->stage = KVD_ST_DONE;
		r->rc = KVD_MISSING;
		if (!r->p || r->klen > KVD_MAX_KEY_LEN)
			continue;
		if (r->p->hix) {
			r->in_log = 2;
			r->h = kvd_hix_hash(r->p, r->key, r->klen);
			r->home = kvd_hix_home(r->p, r->h);
			__builtin_prefetch(r->p->hix + r->home * 8);
			r->stage = KVD_ST_HIX;
		} else {
			kvd_walk_start(r->p, &r->w);
			r->stage = KVD_ST_FST;
			fst[nf++] = j;
		}
	}
	/* stage 2: the FST walks, one state of each in turn; a walk that ends
	 * at a key prefetches its record */
	while (nf > 0) {
		for (int f = 0; f < nf;) {
			kvd_req *r = &q[fst[f]];
			uint64_t off;
			int rc = kvd_fst_step(r->p, &r->w, r->key, r->klen, &off);
			if (rc == KVD_MORE) {
				kvd_prefetch_state(r->p, r->w.addr);
				f++;
				continue;
			}
			if (rc == KVD_FOUND) {
				r->addr = off;
				r->in_log = 1;
				r->stage = KVD_ST_REC;
				kvd_prefetch_record(r->p, off, r->klen);
			} else {
				r->rc = rc;
				r->stage = KVD_ST_DONE;
			}
			fst[f] = fst[--nf];
		}
	}
	/* stage 3: read each key's slots (now cached) up to the first
	 * candidate, and prefetch its record */
	for (int j = 0; j < n; j++) {
		kvd_req *r = &q[j];
		if (r->stage != KVD_ST_HIX)
			continue;
		r->slot = r->home;
		if (kvd_hix_next(r->p, r->h, r->home, &r->slot, &r->addr)) {
			kvd_prefetch_record(r->p, r->addr, r->klen);
			r->stage = KVD_ST_REC;
		} else {
			r->stage = KVD_ST_DONE;
		}
	}
	/* stage 4: the records: values, and key checks; a rejected index
	 * candidate (same fingerprint, other key) goes on probing */
	for (int j = 0; j < n; j++) {
		kvd_req *r = &q[j];
		if (r->stage != KVD_ST_REC)
			continue;
		r->stage = KVD_ST_DONE;
		if (r->in_log == 1) {
			r->rc = kvd_value(r->p, NULL, r->addr, r->key, r->klen, 0, &r->val, &r->vlen);
			continue;
		}
		r->rc = kvd_value(r->p, NULL, r->addr, r->key, r->klen, 1, &r->val, &r->vlen);
		if (r->rc == KVD_MISSING)
			r->rc = kvd_hix_probe(r->p, NULL, r->key, r->klen, r->h, r->home, r->slot + 1, &r->val, &r->vlen);
	}
}

/* ---- ordered iteration over one partition */

typedef struct {
	kvd_state st;
	uint64_t out;  /* sum of outputs up to this state */
	int32_t next;  /* next transition to follow; -1: state not yet visited */
	uint8_t tight; /* the path to this state equals start[:depth] */
} kvd_iframe;

typedef struct {
	const kvd_part *p;
	kvd_iframe *stack; /* stack[i] is the state reached by key[0:i] */
	uint8_t *key;
	size_t depth, cap;
	const uint8_t *start; /* lower bound, or NULL */
	size_t start_len;
	uint64_t emitted, limit; /* keys emitted; the partition's key count */
} kvd_iter;

/* kvd_iter_reset starts a walk of p's keys >= start (start may be NULL).
 * The caller owns stack/key memory through kvd_iter_grow. */
static int kvd_iter_grow(kvd_iter *it, size_t need, void *(*realloc_fn)(void *, size_t))
{
	if (need <= it->cap)
		return 0;
	size_t cap = it->cap ? it->cap : 64;
	while (cap < need)
		cap *= 2;
	void *s = realloc_fn(it->stack, cap * sizeof(kvd_iframe));
	if (!s)
		return -1;
	it->stack = s;
	void *k = realloc_fn(it->key, cap);
	if (!k)
		return -1;
	it->key = k;
	it->cap = cap;
	return 0;
}

static int kvd_iter_reset(kvd_iter *it, const kvd_part *p, uint64_t nkeys)
{
	it->p = p;
	it->emitted = 0;
	it->limit = nkeys;
	it->depth = 1;
	it->stack[0].out = 0;
	it->stack[0].next = -1;
	it->stack[0].tight = it->start != NULL;
	return kvd_state_at(p, p->root, &it->stack[0].st);
}

/* kvd_iter_next advances to the next key: KVD_FOUND with the key in
 * it->key[0:*klen] and its record offset in *off, KVD_MISSING at the end,
 * or an error (-4 means out of memory). */
static int kvd_iter_next(kvd_iter *it, size_t *klen, uint64_t *off, void *(*realloc_fn)(void *, size_t))
{
	while (it->depth > 0) {
		size_t L = it->depth - 1;
		kvd_iframe *f = &it->stack[L];
		if (f->next < 0) {
			f->next = 0;
			int emit = f->st.final;
			if (f->tight && L < it->start_len) {
				/* below the start: skip inputs < start[L], and this key */
				emit = 0;
				uint8_t b = it->start[L];
				uint32_t i = 0;
				for (; i < f->st.n; i++) {
					uint8_t in;
					uint64_t t, o;
					if (kvd_trans(it->p, &f->st, i, &in, &t, &o) < 0)
						return KVD_CORRUPT;
					if (in >= b)
						break;
				}
				f->next = (int32_t)i;
			}
			if (emit) {
				/* a damaged FST can encode exponentially many paths:
				 * more keys than the footer counts is damage */
				if (++it->emitted > it->limit)
					return KVD_CORRUPT;
				*klen = L;
				*off = f->out + f->st.final_out;
				return KVD_FOUND;
			}
		}
		if ((uint32_t)f->next >= f->st.n) {
			it->depth--;
			continue;
		}
		uint8_t in;
		uint64_t target, out;
		if (kvd_trans(it->p, &f->st, (uint32_t)f->next, &in, &target, &out) < 0)
			return KVD_CORRUPT;
		f->next++;
		if (L >= KVD_MAX_KEY_LEN)
			return KVD_CORRUPT; /* no stored key is this long */
		if (kvd_iter_grow(it, it->depth + 1, realloc_fn) < 0)
			return -4;
		f = &it->stack[L]; /* the stack may have moved */
		kvd_iframe *c = &it->stack[L + 1];
		it->key[L] = in;
		c->out = f->out + out;
		c->next = -1;
		c->tight = f->tight && L < it->start_len && in == it->start[L];
		if (kvd_state_at(it->p, target, &c->st) < 0)
			return KVD_CORRUPT;
		if (target != 0 && target >= f->st.addr && f->st.addr != 0)
			return KVD_CORRUPT;
		it->depth++;
	}
	return KVD_MISSING;
}

#endif
