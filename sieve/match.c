/* match.c: Sieve comparators (RFC 4790 i;octet, i;ascii-casemap,
 * i;ascii-numeric; RFC 5051 i;unicode-casemap) and match types (:is,
 * :contains, :matches with RFC 5229 match values, RFC 5231 :value/:count).
 *
 * How matching works.  A value is seen as a sequence of "units":
 *   - i;octet and i;ascii-casemap: one unit per octet (ASCII letters upper-
 *     cased for casemap).  RFC 5228 section 2.7.1 says these comparators
 *     define a character as one octet, so '?' matches exactly one octet;
 *     Pigeonhole 0.5.19 agrees (checked with sieve-test).
 *   - i;unicode-casemap: each UTF-8 character is replaced by its canonical
 *     form (below), one to four code points, each remembering the byte offset
 *     of the character it came from.  '?' matches one whole character of the
 *     value (RFC 5228 2.7.1), i.e. all the units of one character.  Literals
 *     compare unit by unit, so a literal may start or end inside a character
 *     (RFC 5051 defines substring on the canonical strings: "E" is a
 *     substring of canonical "E\u0301" = canonical "\u00c9").
 *
 * :matches splits the key at '*' into segments of literals and '?'.  The
 * first segment is anchored at the start, the last at the end (both parsed
 * deterministically), and each middle segment is placed at its leftmost
 * occurrence after the previous one.  Leftmost placement is optimal (if any
 * match exists, one exists with this segment leftmost), so there is no
 * backtracking at all, and it yields exactly RFC 5229's "each '*' matches as
 * little as possible" values that Pigeonhole's testsuite asserts.  The search
 * for a middle segment is a bit-parallel Shift-And scan (handles '?' without
 * backtracking), so :matches costs O(len(value) * (1 + len(segment)/64)).
 * Pigeonhole's own matcher backtracks and misses some matches (for example
 * "xa1bya2b" :matches "*a?b", "ab" :matches "*?*?*"); we match those.
 *
 * i;unicode-casemap canonical form (RFC 5051): simple titlecase mapping, then
 * compatibility decomposition, repeated to a fixed point, per character.
 * The tables (sieve/match-unicode.inc) are generated from Unicode 14.0 data
 * by scripts/gen-unicode-casemap.py and cover every code point (Hangul
 * syllables are computed).  Limits (deliberate): no canonical reordering of
 * combining marks (Dovecot does none either); invalid UTF-8 bytes are kept
 * as distinct pseudo-characters instead of making the comparison
 * "undefined", so mail with raw 8-bit headers still matches
 * bytewise.  Applying titlecase again after decomposition makes "\ufb00"
 * equal "FF", which plain RFC 5051 does not.
 *
 * Everything is reentrant: the tables are const and scratch memory comes
 * from malloc and is freed before returning.  An allocation failure makes a
 * match fail (false) rather than abort. */
#include "sieve/match.h"
#include "lib/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Units of invalid UTF-8 bytes: above every code point, so they only ever
 * equal the same invalid byte. */
#define MATCH_RAW_BASE 0x110000u
/* Key tokens for the wildcards, above every unit. */
#define MATCH_TOK_STAR 0xFFFFFFFFu
#define MATCH_TOK_QMARK 0xFFFFFFFEu
/* Shift-And mask tables larger than this fall back to a plain scan, so a
 * huge key cannot make us allocate quadratic memory. */
#define MATCH_SA_MAX_BYTES (8u * 1024u * 1024u)

struct match_title_rule {
	uint32_t lo, hi;
	int32_t delta;
	uint32_t stride;
};

/* A character's canonical form, when it is more than its titlecase: `len`
 * units at match_decomp_pool[off]. */
struct match_decomp {
	uint32_t cp;
	uint16_t off;
	uint8_t len;
};

#include "sieve/match-unicode.inc"

/*
 * Names
 */

static const char *const match_cmp_names[] = {
	[MATCH_CMP_OCTET] = "i;octet",
	[MATCH_CMP_ASCII_CASEMAP] = "i;ascii-casemap",
	[MATCH_CMP_ASCII_NUMERIC] = "i;ascii-numeric",
	[MATCH_CMP_UNICODE_CASEMAP] = "i;unicode-casemap",
};

static const char *const match_rel_names[] = {
	[MATCH_REL_GT] = "gt", [MATCH_REL_GE] = "ge", [MATCH_REL_LT] = "lt",
	[MATCH_REL_LE] = "le", [MATCH_REL_EQ] = "eq", [MATCH_REL_NE] = "ne",
};

/* Not toupper(): RFC 4790 warns that the C library may be locale
 * sensitive, and i;ascii-casemap must fold a-z only. */
static inline unsigned char match_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 'a' + 'A') : c;
}

static inline bool match_isdigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool match_ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		if (match_upper((unsigned char)*a) != match_upper((unsigned char)*b))
			return false;
	}
	return *a == *b;
}

/* RFC 4790 does not say whether collation names are case-sensitive;
 * Pigeonhole accepts any case (":comparator \"I;OCTET\"" works in
 * sieve-test), so we do too. */
int match_comparator_lookup(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(match_cmp_names) / sizeof(match_cmp_names[0]); i++) {
		if (match_ascii_caseeq(name, match_cmp_names[i]))
			return (int)i;
	}
	return -1;
}

const char *match_comparator_name(enum match_comparator c)
{
	if ((unsigned)c >= sizeof(match_cmp_names) / sizeof(match_cmp_names[0]))
		return "unknown";
	return match_cmp_names[c];
}

/* RFC 5231's ABNF writes the relations as quoted strings, which ABNF
 * compares case-insensitively.  (Pigeonhole rejects "GT"; we accept it.) */
int match_relation_lookup(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(match_rel_names) / sizeof(match_rel_names[0]); i++) {
		if (match_ascii_caseeq(name, match_rel_names[i]))
			return (int)i;
	}
	return -1;
}

/*
 * UTF-8 and the i;unicode-casemap canonical form
 */

/* Decodes the character at p (p < end) into *cp and returns its length.
 * Overlong forms, surrogates, values above U+10FFFF and truncated
 * sequences are not characters: their first byte becomes a raw unit. */
static size_t match_utf8_decode(const unsigned char *p, const unsigned char *end,
				uint32_t *cp)
{
	size_t n = utf8_decode(p, (size_t)(end - p), cp, UTF8_STRICT);
	if (n > 0)
		return n;
	*cp = MATCH_RAW_BASE + p[0];
	return 1;
}

static uint32_t match_titlecase(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(match_title_rules) / sizeof(match_title_rules[0]);

	/* Rules are disjoint and sorted: find the last one starting <= cp. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (match_title_rules[mid].lo <= cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return cp;
	const struct match_title_rule *r = &match_title_rules[lo - 1];
	if (cp > r->hi || (cp - r->lo) % r->stride != 0)
		return cp;
	return (uint32_t)((int64_t)cp + r->delta);
}

static const struct match_decomp *match_decomp_find(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(match_decomps) / sizeof(match_decomps[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (match_decomps[mid].cp == cp)
			return &match_decomps[mid];
		if (match_decomps[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Canonical form of one character: 1..MATCH_CANON_MAX units into out. */
static size_t match_canon(uint32_t cp, uint32_t out[MATCH_CANON_MAX])
{
	const struct match_decomp *d;
	size_t n = 0;

	/* ASCII is most of any header: skip the table searches. */
	if (cp < 0x80) {
		out[0] = match_upper((unsigned char)cp);
		return 1;
	}
	if (cp >= MATCH_RAW_BASE) {
		out[0] = cp;
		return 1;
	}
	if (cp >= 0xAC00 && cp <= 0xD7A3) {
		/* Hangul syllables decompose arithmetically (Unicode 3.12). */
		uint32_t s = cp - 0xAC00;
		out[n++] = 0x1100 + s / 588;
		out[n++] = 0x1161 + (s % 588) / 28;
		if (s % 28 != 0)
			out[n++] = 0x11A7 + s % 28;
		return n;
	}
	/* The table holds every character whose form is more than its
	   titlecase (the generator checks the form is a fixed point). */
	d = match_decomp_find(cp);
	if (d == NULL) {
		out[0] = match_titlecase(cp);
		return 1;
	}
	for (n = 0; n < d->len; n++)
		out[n] = match_decomp_pool[d->off + n];
	return n;
}

/* Streams the canonical units of a string, for comparisons that need no
 * positions and so no allocation. */
struct match_canon_iter {
	const unsigned char *p, *end;
	uint32_t buf[MATCH_CANON_MAX];
	size_t bi, bn;
};

static bool match_canon_next(struct match_canon_iter *it, uint32_t *u)
{
	if (it->bi == it->bn) {
		uint32_t cp;
		if (it->p >= it->end)
			return false;
		it->p += match_utf8_decode(it->p, it->end, &cp);
		it->bn = match_canon(cp, it->buf);
		it->bi = 0;
	}
	*u = it->buf[it->bi++];
	return true;
}

/*
 * Comparison
 */

static int match_sign(int v)
{
	return (v > 0) - (v < 0);
}

/* RFC 4790 9.1: the number is the leading run of digits, compared as a
 * digit string with leading zeros stripped (no overflow however long); a
 * string not starting with a digit is positive infinity. */
static int match_numeric_compare(const unsigned char *a, size_t alen,
				 const unsigned char *b, size_t blen)
{
	bool ainf = alen == 0 || !match_isdigit(a[0]);
	bool binf = blen == 0 || !match_isdigit(b[0]);
	size_t ai = 0, ae, bi = 0, be;
	int r;

	if (ainf || binf)
		return ainf == binf ? 0 : (ainf ? 1 : -1);
	while (ai < alen && a[ai] == '0')
		ai++;
	for (ae = ai; ae < alen && match_isdigit(a[ae]); ae++)
		;
	while (bi < blen && b[bi] == '0')
		bi++;
	for (be = bi; be < blen && match_isdigit(b[be]); be++)
		;
	if (ae - ai != be - bi)
		return ae - ai < be - bi ? -1 : 1;
	r = ae - ai == 0 ? 0 : memcmp(a + ai, b + bi, ae - ai);
	return match_sign(r);
}

/* RFC 4790 9.2.1: as i;octet after upper-casing a-z.  (Pigeonhole uses
 * strncasecmp, which lower-cases: the two differ only in how "[\]^_`"
 * order against letters.) */
static int match_casemap_compare(const unsigned char *a, size_t alen,
				 const unsigned char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++) {
		unsigned char ca = match_upper(a[i]), cb = match_upper(b[i]);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return alen == blen ? 0 : (alen < blen ? -1 : 1);
}

static int match_unicode_compare(const unsigned char *a, size_t alen,
				 const unsigned char *b, size_t blen)
{
	struct match_canon_iter ia = { a, a + alen, { 0 }, 0, 0 };
	struct match_canon_iter ib = { b, b + blen, { 0 }, 0, 0 };

	for (;;) {
		uint32_t ua = 0, ub = 0;
		bool ha = match_canon_next(&ia, &ua), hb = match_canon_next(&ib, &ub);
		if (!ha || !hb)
			return ha == hb ? 0 : (ha ? 1 : -1);
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
}

int match_compare(enum match_comparator c, const char *a, size_t alen,
		  const char *b, size_t blen)
{
	const unsigned char *ua = (const unsigned char *)(a != NULL ? a : "");
	const unsigned char *ub = (const unsigned char *)(b != NULL ? b : "");
	size_t n;

	if (a == NULL)
		alen = 0;
	if (b == NULL)
		blen = 0;
	switch (c) {
	case MATCH_CMP_ASCII_CASEMAP:
		return match_casemap_compare(ua, alen, ub, blen);
	case MATCH_CMP_ASCII_NUMERIC:
		return match_numeric_compare(ua, alen, ub, blen);
	case MATCH_CMP_UNICODE_CASEMAP:
		return match_unicode_compare(ua, alen, ub, blen);
	case MATCH_CMP_OCTET:
	default:
		n = alen < blen ? alen : blen;
		if (n > 0) {
			int r = memcmp(ua, ub, n);
			if (r != 0)
				return match_sign(r);
		}
		return alen == blen ? 0 : (alen < blen ? -1 : 1);
	}
}

bool match_is(enum match_comparator c, const char *val, size_t vlen,
	      const char *key, size_t klen)
{
	/* Equal lengths first: cheap, and exact for the octet comparators. */
	if ((c == MATCH_CMP_OCTET || c == MATCH_CMP_ASCII_CASEMAP) && vlen != klen)
		return false;
	return match_compare(c, val, vlen, key, klen) == 0;
}

bool match_value(enum match_comparator c, enum match_relation rel,
		 const char *val, size_t vlen, const char *key, size_t klen)
{
	int r = match_compare(c, val, vlen, key, klen);

	switch (rel) {
	case MATCH_REL_GT: return r > 0;
	case MATCH_REL_GE: return r >= 0;
	case MATCH_REL_LT: return r < 0;
	case MATCH_REL_LE: return r <= 0;
	case MATCH_REL_EQ: return r == 0;
	case MATCH_REL_NE: return r != 0;
	}
	return false;
}

/* RFC 5231 section 4.1: the count is rendered as a decimal string and
 * compared with the key under the given comparator (normally
 * i;ascii-numeric; with i;octet "10" sorts before "9", as specified). */
bool match_count(enum match_comparator c, enum match_relation rel,
		 size_t count, const char *key, size_t klen)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%zu", count);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return false;
	return match_value(c, rel, buf, (size_t)n, key, klen);
}

/*
 * Values as unit sequences
 */

struct match_text {
	const unsigned char *b;	/* the value's bytes */
	size_t blen;
	bool fold;		/* octet mode: upper-case ASCII letters */
	uint32_t *u;		/* unicode mode: canonical units; NULL in octet mode */
	size_t *src;		/* unicode mode: byte offset of each unit's character */
	size_t n;		/* number of units */
};

static inline uint32_t match_text_unit(const struct match_text *t, size_t i)
{
	if (t->u != NULL)
		return t->u[i];
	return t->fold ? match_upper(t->b[i]) : t->b[i];
}

/* Whether unit position i is a character boundary (0 and n always are). */
static inline bool match_text_boundary(const struct match_text *t, size_t i)
{
	if (t->u == NULL || i == 0 || i >= t->n)
		return true;
	return t->src[i] != t->src[i - 1];
}

/* Byte offset for unit position i.  A position inside a character rounds
 * up to the character's end: that character was partly consumed by what
 * comes before, so it belongs there. */
static size_t match_text_bytepos(const struct match_text *t, size_t i)
{
	if (t->u == NULL)
		return i;
	while (i < t->n && !match_text_boundary(t, i))
		i++;
	return i < t->n ? t->src[i] : t->blen;
}

static void match_text_free(struct match_text *t)
{
	free(t->u);
	free(t->src);
	t->u = NULL;
	t->src = NULL;
}

static bool match_text_init(struct match_text *t, enum match_comparator c,
			    const char *val, size_t vlen)
{
	const unsigned char *p, *end;
	size_t n = 0;
	uint32_t buf[MATCH_CANON_MAX];

	memset(t, 0, sizeof(*t));
	t->b = (const unsigned char *)(val != NULL ? val : "");
	t->blen = val != NULL ? vlen : 0;
	if (c != MATCH_CMP_UNICODE_CASEMAP) {
		t->fold = c == MATCH_CMP_ASCII_CASEMAP;
		t->n = t->blen;
		return true;
	}
	/* Two passes (count, then fill) so the size is exact and cannot
	   overflow: a character of at least one byte yields at most
	   MATCH_CANON_MAX units. */
	end = t->b + t->blen;
	for (p = t->b; p < end;) {
		uint32_t cp;
		p += match_utf8_decode(p, end, &cp);
		n += match_canon(cp, buf);
	}
	t->u = malloc((n ? n : 1) * sizeof(*t->u));
	t->src = malloc((n ? n : 1) * sizeof(*t->src));
	if (t->u == NULL || t->src == NULL) {
		match_text_free(t);
		return false;
	}
	t->n = 0;
	for (p = t->b; p < end;) {
		uint32_t cp;
		size_t off = (size_t)(p - t->b), k;
		p += match_utf8_decode(p, end, &cp);
		k = match_canon(cp, buf);
		for (size_t i = 0; i < k; i++) {
			t->u[t->n] = buf[i];
			t->src[t->n] = off;
			t->n++;
		}
	}
	return true;
}

/* Turns a key into tokens: units folded like the value's, plus
 * MATCH_TOK_STAR / MATCH_TOK_QMARK when `wild` (for :matches, where '\\'
 * makes the next character literal; a trailing lone '\\' is a literal
 * backslash: Pigeonhole 0.5.19 asserts on that key). */
static uint32_t *match_key_tokens(enum match_comparator c, const char *key,
				  size_t klen, bool wild, size_t *count)
{
	const unsigned char *p = (const unsigned char *)(key != NULL ? key : "");
	const unsigned char *end = p + (key != NULL ? klen : 0);
	bool uni = c == MATCH_CMP_UNICODE_CASEMAP;
	size_t max = (size_t)(end - p), n = 0;
	uint32_t *tok;

	if (max > (SIZE_MAX / sizeof(*tok) - 1) / 4)
		return NULL;
	tok = malloc(((uni ? 4 * max : max) + 1) * sizeof(*tok));
	if (tok == NULL)
		return NULL;
	while (p < end) {
		if (wild && *p == '*') {
			tok[n++] = MATCH_TOK_STAR;
			p++;
			continue;
		}
		if (wild && *p == '?') {
			tok[n++] = MATCH_TOK_QMARK;
			p++;
			continue;
		}
		if (wild && *p == '\\' && p + 1 < end)
			p++;
		if (uni) {
			uint32_t cp, buf[MATCH_CANON_MAX];
			size_t k;
			p += match_utf8_decode(p, end, &cp);
			k = match_canon(cp, buf);
			for (size_t i = 0; i < k; i++)
				tok[n++] = buf[i];
		} else {
			tok[n++] = c == MATCH_CMP_ASCII_CASEMAP ? match_upper(*p) : *p;
			p++;
		}
	}
	*count = n;
	return tok;
}

/*
 * Segment matching
 */

struct match_span {
	size_t s, e;	/* unit positions */
};

/* Captures of the wildcards, by ordinal (0 = first wildcard = ${1}). */
struct match_caps {
	struct match_span v[MATCH_MAX_VALUES - 1];
};

static void match_cap_set(struct match_caps *caps, size_t ord, size_t s, size_t e)
{
	if (caps != NULL && ord < MATCH_MAX_VALUES - 1) {
		caps->v[ord].s = s;
		caps->v[ord].e = e;
	}
}

/* Matches segment tok[0..m) forward from *pos; '?' takes one character. */
static bool match_seg_forward(const struct match_text *t, const uint32_t *tok,
			      size_t m, size_t *pos, struct match_caps *caps,
			      size_t ord)
{
	size_t p = *pos;

	for (size_t j = 0; j < m; j++) {
		if (tok[j] == MATCH_TOK_QMARK) {
			size_t s = p;
			if (p >= t->n || !match_text_boundary(t, p))
				return false;
			p++;
			while (p < t->n && !match_text_boundary(t, p))
				p++;
			match_cap_set(caps, ord++, s, p);
		} else {
			if (p >= t->n || match_text_unit(t, p) != tok[j])
				return false;
			p++;
		}
	}
	*pos = p;
	return true;
}

/* Matches segment tok[0..m) so that it ends exactly at `end`, walking
 * backwards; the parse is unique, so this also recovers where a segment
 * found by its end position starts and what each '?' took. */
static bool match_seg_backward(const struct match_text *t, const uint32_t *tok,
			       size_t m, size_t end, size_t *start,
			       struct match_caps *caps, size_t ord)
{
	size_t p = end, nq = 0;

	for (size_t j = 0; j < m; j++)
		nq += tok[j] == MATCH_TOK_QMARK;
	for (size_t j = m; j-- > 0;) {
		if (tok[j] == MATCH_TOK_QMARK) {
			size_t e = p;
			if (p == 0 || !match_text_boundary(t, p))
				return false;
			p--;
			while (p > 0 && !match_text_boundary(t, p))
				p--;
			match_cap_set(caps, ord + --nq, p, e);
		} else {
			if (p == 0 || match_text_unit(t, p - 1) != tok[j])
				return false;
			p--;
		}
	}
	*start = p;
	return true;
}

static int match_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Shift-And (Baeza-Yates & Gonnet) over units: bit j of the state says
 * "tok[0..j] matches ending here".  '?' positions accept any unit that
 * starts a character and then stay set through that character's other
 * units; a position right after a '?' can only be entered at a character
 * start.  One pass, no backtracking.  Returns the leftmost end position in
 * [cur, limit] of a match starting at or after cur, or SIZE_MAX. */
static size_t match_shift_and(const struct match_text *t, const uint32_t *tok,
			      size_t m, size_t cur, size_t limit, bool *oom)
{
	size_t W = (m + 63) / 64, nd = 0, ntab, found = SIZE_MAX;
	size_t f = m - 1;
	bool fq = tok[f] == MATCH_TOK_QMARK;
	uint32_t *keys = NULL;
	uint64_t *mem, *q, *a, *d, *zero, *tab;

	if (t->u == NULL) {
		ntab = 256;
	} else {
		keys = malloc(m * sizeof(*keys));
		if (keys == NULL) {
			*oom = true;
			return SIZE_MAX;
		}
		for (size_t j = 0; j < m; j++) {
			if (tok[j] != MATCH_TOK_QMARK)
				keys[nd++] = tok[j];
		}
		qsort(keys, nd, sizeof(*keys), match_u32_cmp);
		ntab = 0;
		for (size_t j = 0; j < nd; j++) {
			if (ntab == 0 || keys[ntab - 1] != keys[j])
				keys[ntab++] = keys[j];
		}
		nd = ntab;
	}
	if (W > MATCH_SA_MAX_BYTES / sizeof(uint64_t) / (ntab + 4)) {
		free(keys);
		*oom = true;	/* caller falls back to the plain scan */
		return SIZE_MAX;
	}
	mem = calloc((ntab + 4) * W, sizeof(uint64_t));
	if (mem == NULL) {
		free(keys);
		*oom = true;
		return SIZE_MAX;
	}
	q = mem;
	a = q + W;
	d = a + W;
	zero = d + W;
	tab = zero + W;
	for (size_t j = 0; j < m; j++) {
		uint64_t bit = (uint64_t)1 << (j % 64);
		if (tok[j] == MATCH_TOK_QMARK) {
			q[j / 64] |= bit;
			if (j + 1 < m)
				a[(j + 1) / 64] |= (uint64_t)1 << ((j + 1) % 64);
		} else if (t->u == NULL) {
			tab[tok[j] * W + j / 64] |= bit;
		} else {
			const uint32_t *k = bsearch(&tok[j], keys, nd, sizeof(*keys),
						    match_u32_cmp);
			tab[(size_t)(k - keys) * W + j / 64] |= bit;
		}
	}
	for (size_t i = cur;; i++) {
		bool start = match_text_boundary(t, i);
		const uint64_t *mk = zero;
		uint32_t u;
		uint64_t carry = 1;

		if (((d[f / 64] >> (f % 64)) & 1) && (!fq || start)) {
			found = i;
			break;
		}
		if (i >= limit)
			break;
		u = match_text_unit(t, i);
		if (t->u == NULL) {
			mk = tab + (size_t)u * W;
		} else {
			const uint32_t *k = bsearch(&u, keys, nd, sizeof(*keys),
						    match_u32_cmp);
			if (k != NULL)
				mk = tab + (size_t)(k - keys) * W;
		}
		for (size_t w = 0; w < W; w++) {
			uint64_t old = d[w], sh = (old << 1) | carry;
			carry = old >> 63;
			if (start)
				d[w] = sh & (mk[w] | q[w]);
			else
				d[w] = (sh & mk[w] & ~a[w]) | (old & q[w]);
		}
	}
	free(mem);
	free(keys);
	return found;
}

/* Leftmost occurrence of segment tok[0..m) starting at or after cur and
 * ending at or before limit.  On success sets [*s, *e) and the '?'
 * captures (ordinals from ord). */
static bool match_seg_find(const struct match_text *t, const uint32_t *tok,
			   size_t m, size_t cur, size_t limit, size_t *s,
			   size_t *e, struct match_caps *caps, size_t ord)
{
	bool has_q = false, oom = false;
	size_t end;

	if (m == 0) {
		*s = *e = cur;
		return true;
	}
	/* Every token takes at least one unit. */
	if (limit < cur || limit - cur < m)
		return false;
	for (size_t j = 0; j < m; j++)
		has_q = has_q || tok[j] == MATCH_TOK_QMARK;
	if (t->u == NULL && !t->fold && !has_q) {
		/* Plain octets: the C library's memmem is linear (two-way) and
		   much faster than a bit-parallel scan. */
		unsigned char stackbuf[256], *needle = stackbuf;
		const unsigned char *hit;
		if (m > sizeof(stackbuf)) {
			needle = malloc(m);
			if (needle == NULL)
				return false;
		}
		for (size_t j = 0; j < m; j++)
			needle[j] = (unsigned char)tok[j];
		hit = memmem(t->b + cur, limit - cur, needle, m);
		if (needle != stackbuf)
			free(needle);
		if (hit == NULL)
			return false;
		*s = (size_t)(hit - t->b);
		*e = *s + m;
		return true;
	}
	end = match_shift_and(t, tok, m, cur, limit, &oom);
	if (oom) {
		/* Table too large or no memory: try each start in turn.
		   Slower (len(value) * len(segment)) but needs no memory. */
		for (size_t p = cur; p + m <= limit; p++) {
			size_t q = p;
			if (match_seg_forward(t, tok, m, &q, NULL, 0) && q <= limit) {
				end = q;
				break;
			}
		}
	}
	if (end == SIZE_MAX)
		return false;
	*e = end;
	return match_seg_backward(t, tok, m, end, s, caps, ord);
}

/* The :matches algorithm on units; see the top of the file. */
static bool match_glob(const struct match_text *t, const uint32_t *tok,
		       size_t ntok, struct match_caps *caps, size_t *nwild)
{
	size_t first_star = ntok, last_star = ntok, pos = 0, ord = 0;
	size_t last_ord = 0, lstart, cur, i;

	*nwild = 0;
	for (i = 0; i < ntok; i++) {
		if (tok[i] == MATCH_TOK_STAR || tok[i] == MATCH_TOK_QMARK)
			(*nwild)++;
		if (tok[i] == MATCH_TOK_STAR) {
			if (first_star == ntok)
				first_star = i;
			last_star = i;
			last_ord = *nwild;	/* wildcards up to and including it */
		}
	}
	if (!match_seg_forward(t, tok, first_star, &pos, caps, 0))
		return false;
	if (first_star == ntok)
		return pos == t->n;
	for (i = 0; i < first_star; i++)
		ord += tok[i] == MATCH_TOK_QMARK;
	if (!match_seg_backward(t, tok + last_star + 1, ntok - last_star - 1,
				t->n, &lstart, caps, last_ord))
		return false;
	if (lstart < pos)
		return false;
	cur = pos;
	i = first_star;
	while (i < last_star) {
		size_t j = i + 1, s, e, star_ord = ord++;

		while (tok[j] != MATCH_TOK_STAR)
			j++;
		if (!match_seg_find(t, tok + i + 1, j - i - 1, cur, lstart, &s, &e,
				    caps, ord))
			return false;
		match_cap_set(caps, star_ord, cur, s);
		for (size_t k = i + 1; k < j; k++)
			ord += tok[k] == MATCH_TOK_QMARK;
		cur = e;
		i = j;
	}
	match_cap_set(caps, ord, cur, lstart);
	return true;
}

bool match_matches(enum match_comparator c, const char *val, size_t vlen,
		   const char *key, size_t klen, struct match_values *mv)
{
	struct match_text t;
	struct match_caps caps;
	uint32_t *tok;
	size_t ntok = 0, nwild = 0;
	bool ok;

	/* RFC 4790: i;ascii-numeric has no substring operation. */
	if (c == MATCH_CMP_ASCII_NUMERIC)
		return false;
	tok = match_key_tokens(c, key, klen, true, &ntok);
	if (tok == NULL)
		return false;
	if (!match_text_init(&t, c, val, vlen)) {
		free(tok);
		return false;
	}
	memset(&caps, 0, sizeof(caps));
	ok = match_glob(&t, tok, ntok, &caps, &nwild);
	if (ok && mv != NULL) {
		size_t n = nwild < MATCH_MAX_VALUES - 1 ? nwild : MATCH_MAX_VALUES - 1;
		mv->v[0].p = (const char *)t.b;
		mv->v[0].len = t.blen;
		for (size_t k = 0; k < n; k++) {
			size_t bs = match_text_bytepos(&t, caps.v[k].s);
			size_t be = match_text_bytepos(&t, caps.v[k].e);
			mv->v[k + 1].p = (const char *)t.b + bs;
			mv->v[k + 1].len = be - bs;
		}
		mv->count = n + 1;
	}
	match_text_free(&t);
	free(tok);
	return ok;
}

bool match_contains(enum match_comparator c, const char *val, size_t vlen,
		    const char *key, size_t klen)
{
	struct match_text t;
	uint32_t *tok;
	size_t ntok = 0, s, e;
	bool ok;

	if (c == MATCH_CMP_ASCII_NUMERIC)
		return false;
	if (key == NULL || klen == 0)
		return true;	/* RFC 4790 4.2.3: "" is a substring of everything */
	if (val == NULL)
		vlen = 0;
	if (c == MATCH_CMP_OCTET)
		return vlen >= klen && memmem(val, vlen, key, klen) != NULL;
	tok = match_key_tokens(c, key, klen, false, &ntok);
	if (tok == NULL)
		return false;
	if (!match_text_init(&t, c, val, vlen)) {
		free(tok);
		return false;
	}
	ok = match_seg_find(&t, tok, ntok, 0, t.n, &s, &e, NULL, 0);
	match_text_free(&t);
	free(tok);
	return ok;
}
