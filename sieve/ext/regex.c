/* regex.c: the regex extension (draft-murchison-sieve-regex-08): the
 * :regex match type, POSIX extended regular expressions (regcomp with
 * REG_EXTENDED, plus REG_ICASE under i;ascii-casemap, the only other
 * comparator allowed besides i;octet).  ${0}..${31} receive the match and
 * its parenthesized subexpressions.
 *
 * Constant patterns are checked when the script is compiled (Pigeonhole's
 * wording) and compiled once per binary at run time, in a lock-free table
 * kept with the binary; patterns built from variables are compiled once
 * per test.  To keep hostile scripts bounded, a pattern whose repetitions
 * multiply out past sieve_regex_max_size (a Tamis setting) is refused as
 * "too big", and back-references (not POSIX ERE, only a glibc extension,
 * and exponential to match) are refused too. */
#include "sieve/engine.h"
#include <regex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* sieve/ext/variables.c: the :quoteregex modifier of set and extracttext. */
extern const struct sieve_tag_link sieve_variables_quoteregex_link[];

#define REGEX_MAX_SIZE_DEFAULT 16384
#define REGEX_MAX_NESTING      256
#define REGEX_CACHE_SLOTS      256

static const struct sieve_tag_def tag_regex = { "regex", SV_TC_MATCH, SV_MATCH_REGEX, 0, NULL };
static const struct sieve_tag_def *const regex_tags[] = { &tag_regex, NULL };

/* ------------------------------------------------------------------ */
/* Compiling                                                           */

static uint64_t sat_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) { return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

/* Skips a bracket expression starting at p ('['); returns the position
 * after its ']' (or end when it is not closed: regcomp reports that). */
static const char *skip_bracket(const char *p, const char *end)
{
	p++;
	if (p < end && *p == '^')
		p++;
	if (p < end && *p == ']')
		p++;
	while (p < end && *p != ']') {
		if (*p == '[' && p + 1 < end && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char close = p[1];
			p += 2;
			while (p + 1 < end && !(p[0] == close && p[1] == ']'))
				p++;
			p = p + 1 < end ? p + 2 : end;
			continue;
		}
		p++;
	}
	return p < end ? p + 1 : end;
}

/* Parses "{m}", "{m,}" or "{m,n}" at p; returns the position after '}'
 * and the repetition count that the compiled form holds, or NULL when it
 * is not an interval (regcomp decides what it is). */
static const char *parse_interval(const char *p, const char *end, uint64_t *count_r)
{
	uint64_t m = 0, n = 0;
	bool has_n = false, comma = false;
	p++;
	const char *s = p;
	while (p < end && *p >= '0' && *p <= '9') {
		m = sat_add(sat_mul(m, 10), (uint64_t)(*p - '0'));
		p++;
	}
	if (p == s)
		return NULL;
	if (p < end && *p == ',') {
		comma = true;
		p++;
		while (p < end && *p >= '0' && *p <= '9') {
			n = sat_add(sat_mul(n, 10), (uint64_t)(*p - '0'));
			has_n = true;
			p++;
		}
	}
	if (p >= end || *p != '}')
		return NULL;
	uint64_t c = has_n ? (n > m ? n : m) : (comma ? sat_add(m, 1) : m);
	*count_r = c == 0 ? 1 : c;
	return p + 1;
}

/* Estimates what the pattern costs once compiled: every atom counts one,
 * an interval multiplies what it repeats and '+' doubles it (glibc copies
 * it that often; '*' and '?' copy nothing).
 * Returns REG_ESIZE when over max, REG_ESUBREG on a back-reference, else 0. */
static int regex_precheck(const char *pat, uint64_t max)
{
	const char *p = pat, *end = pat + strlen(pat);
	uint64_t cost[REGEX_MAX_NESTING + 1];
	unsigned depth = 0;
	uint64_t last = 0;             /* cost of the atom an interval would repeat */
	cost[0] = 0;
	while (p < end) {
		uint64_t atom = 1;
		switch (*p) {
		case '\\':
			if (p + 1 < end && p[1] >= '1' && p[1] <= '9')
				return REG_ESUBREG;
			p += p + 1 < end ? 2 : 1;
			break;
		case '[':
			p = skip_bracket(p, end);
			break;
		case '(':
			if (depth >= REGEX_MAX_NESTING)
				return REG_ESIZE;
			cost[++depth] = 0;
			p++;
			last = 0;
			continue;
		case ')':
			p++;
			if (depth == 0)
				break;
			atom = sat_add(cost[depth], 1);
			depth--;
			break;
		case '{': {
			uint64_t count;
			const char *q = parse_interval(p, end, &count);
			if (q == NULL || last == 0) {
				p++;
				break;
			}
			p = q;
			/* the repeated atom is already counted once */
			uint64_t more = sat_mul(last, count - 1);
			cost[depth] = sat_add(cost[depth], more);
			last = sat_mul(last, count);
			if (cost[depth] > max)
				return REG_ESIZE;
			continue;
		}
		case '+':
			/* glibc compiles "x+" as "xx*": what it repeats is copied
			   once more, so each of "x++++..." doubles the cost (40
			   of them took regcomp past 2 GB under the fuzzer). */
			p++;
			if (last != 0) {
				cost[depth] = sat_add(cost[depth], last);
				last = sat_mul(last, 2);
				if (cost[depth] > max)
					return REG_ESIZE;
			}
			continue;
		case '*': case '?': case '|': case '^': case '$':
			p++;
			if (*(p - 1) == '|' || *(p - 1) == '^')
				last = 0;
			continue;
		default:
			p++;
			break;
		}
		cost[depth] = sat_add(cost[depth], atom);
		last = atom;
		if (cost[depth] > max)
			return REG_ESIZE;
	}
	return 0;
}

/* regerror() text with a lower-case first letter (as Pigeonhole). */
static const char *regex_error_text(struct arena *a, int code, const regex_t *re)
{
	char buf[256];
	regerror(code, re, buf, sizeof(buf));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] + 32);
	return arena_strdup(a, buf);
}

static uint64_t regex_max_size(const struct sieve_config *cfg)
{
	return sieve_config_uint(cfg, "sieve_regex_max_size", REGEX_MAX_SIZE_DEFAULT);
}

/* Compiles pat into re; on failure returns the error text (re is then
 * not to be freed). */
static const char *regex_compile(struct arena *a, const struct sieve_config *cfg, regex_t *re,
				 const char *pat, int cflags)
{
	int r = regex_precheck(pat, regex_max_size(cfg));
	if (r == 0)
		r = regcomp(re, pat, cflags);
	else
		return regex_error_text(a, r, NULL);
	if (r != 0) {
		const char *err = regex_error_text(a, r, re);
		regfree(re);
		return err;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static int regex_match_validate(struct sieve_validator *v, struct sieve_cmd *c,
				const struct sieve_ctag *mt, enum match_comparator cmp)
{
	if (cmp != MATCH_CMP_OCTET && cmp != MATCH_CMP_ASCII_CASEMAP) {
		sieve_validator_error(v, mt->loc,
			"regex match type only supports i;octet and i;ascii-casemap comparators");
		return -1;
	}
	if (c->npos == 0)
		return 0;
	int cflags = REG_EXTENDED | REG_NOSUB | (cmp == MATCH_CMP_ASCII_CASEMAP ? REG_ICASE : 0);
	const struct sieve_cval *keys = &c->pos[c->npos - 1];
	struct arena *a = sieve_validator_arena(v);
	for (size_t i = 0; i < keys->nstrs; i++) {
		const struct sieve_cstring *s = &keys->strs[i];
		if (!sieve_cstring_is_const(s))
			continue;   /* checked when it runs */
		regex_t re;
		const char *pat = arena_memdup(a, s->data, s->len);
		const char *err = regex_compile(a, sieve_validator_config(v), &re, pat, cflags);
		if (err != NULL) {
			sieve_validator_error(v, s->loc, "invalid regular expression '%s' for regex match: %s",
					      sieve_str_sanitize(a, pat, strlen(pat), 128), err);
			return -1;
		}
		regfree(&re);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The per-binary cache of compiled constant patterns                  */

struct regex_entry {
	uint32_t off;              /* the pattern's constant-pool offset */
	int cflags;
	regex_t re;
};

struct regex_bin_cache {
	struct sieve_binary_cache base;
	_Atomic(struct regex_entry *) slots[REGEX_CACHE_SLOTS];
};

static void regex_bin_cache_free(struct sieve_binary_cache *c)
{
	struct regex_bin_cache *rc = (struct regex_bin_cache *)c;
	for (size_t i = 0; i < REGEX_CACHE_SLOTS; i++) {
		struct regex_entry *e = atomic_load(&rc->slots[i]);
		if (e != NULL) {
			regfree(&e->re);
			free(e);
		}
	}
	free(rc);
}

static struct regex_bin_cache *regex_bin_cache(struct sieve_binary *b)
{
	if (b->cache == NULL)
		return NULL;
	_Atomic(void *) *slot0 = (_Atomic(void *) *)&b->cache[0];
	void *cur = atomic_load(slot0);
	if (cur != NULL)
		return cur;
	struct regex_bin_cache *rc = calloc(1, sizeof(*rc));
	if (rc == NULL)
		return NULL;
	rc->base.free_fn = regex_bin_cache_free;
	for (size_t i = 0; i < REGEX_CACHE_SLOTS; i++)
		atomic_init(&rc->slots[i], NULL);
	void *expected = NULL;
	if (!atomic_compare_exchange_strong(slot0, &expected, rc)) {
		free(rc);
		return expected;
	}
	return rc;
}

/* The compiled form of the constant pattern at pool offset off, compiling
 * and publishing it on first use.  NULL when it does not compile (the
 * caller then compiles it per test, which reports the error) or the table
 * is full. */
static const regex_t *regex_cached(struct sieve_runtime *rt, uint32_t off, const char *pat, int cflags)
{
	struct regex_bin_cache *rc = regex_bin_cache(rt->bin);
	if (rc == NULL)
		return NULL;
	size_t h = ((size_t)off * 2654435761u + (size_t)cflags) % REGEX_CACHE_SLOTS;
	struct regex_entry *mine = NULL;
	for (size_t n = 0; n < REGEX_CACHE_SLOTS; n++, h = (h + 1) % REGEX_CACHE_SLOTS) {
		struct regex_entry *e = atomic_load(&rc->slots[h]);
		if (e == NULL) {
			if (mine == NULL) {
				mine = malloc(sizeof(*mine));
				if (mine == NULL)
					return NULL;
				mine->off = off;
				mine->cflags = cflags;
				if (regex_compile(rt->arena, rt->cfg, &mine->re, pat, cflags) != NULL) {
					free(mine);
					return NULL;
				}
			}
			struct regex_entry *expected = NULL;
			if (atomic_compare_exchange_strong(&rc->slots[h], &expected, mine))
				return &mine->re;
			e = expected;   /* another run filled the slot first */
		}
		if (e->off == off && e->cflags == cflags) {
			if (mine != NULL) {
				regfree(&mine->re);
				free(mine);
			}
			return &e->re;
		}
	}
	if (mine != NULL) {
		regfree(&mine->re);
		free(mine);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */

/* Patterns compiled for one test (those built from variables). */
struct regex_test_cache {
	size_t n;
	signed char *status;       /* 0 untried, 1 compiled, -1 failed */
	regex_t *re;
};

static const regex_t *regex_for_test(struct sieve_match_ctx *m, size_t key, const char *pat, int cflags)
{
	struct sieve_runtime *rt = m->rt;
	struct regex_test_cache *tc = m->regex_cache;
	if (tc == NULL) {
		tc = arena_alloc(rt->arena, sizeof(*tc));
		tc->n = m->nkeys;
		tc->status = arena_alloc(rt->arena, m->nkeys + 1);
		tc->re = arena_alloc(rt->arena, sizeof(regex_t) * (m->nkeys + 1));
		m->regex_cache = tc;
	}
	if (key >= tc->n)
		return NULL;
	if (tc->status[key] == 0) {
		const char *err = regex_compile(rt->arena, rt->cfg, &tc->re[key], pat, cflags);
		if (err != NULL) {
			tc->status[key] = -1;
			sieve_runtime_error(rt, m->a, "invalid regular expression '%s' for regex match: %s",
					    sieve_str_sanitize(rt->arena, pat, strlen(pat), 128), err);
		} else {
			tc->status[key] = 1;
		}
	}
	return tc->status[key] > 0 ? &tc->re[key] : NULL;
}

void sieve_regex_match_end(struct sieve_match_ctx *m)
{
	struct regex_test_cache *tc = m->regex_cache;
	if (tc == NULL)
		return;
	for (size_t i = 0; i < tc->n; i++)
		if (tc->status[i] > 0)
			regfree(&tc->re[i]);
	m->regex_cache = NULL;
}

bool sieve_regex_match_key(struct sieve_match_ctx *m, size_t key, const char *val, size_t len)
{
	struct sieve_runtime *rt = m->rt;
	const struct sieve_string *k = &m->keys[key];
	/* Match values are only needed when the variables extension is on;
	   without them REG_NOSUB lets glibc match faster. */
	int cflags = REG_EXTENDED | (m->cmp == MATCH_CMP_ASCII_CASEMAP ? REG_ICASE : 0) |
		(rt->mv_enabled ? 0 : REG_NOSUB);
	if (m->cmp != MATCH_CMP_OCTET && m->cmp != MATCH_CMP_ASCII_CASEMAP)
		return false;
	const regex_t *re = NULL;
	const struct sieve_binary *b = rt->bin;
	bool constant = k->p >= (const char *)b->cpool && k->p < (const char *)b->cpool + b->cpool_len;
	/* Pool strings are NUL-terminated in place, and their position in
	   the pool identifies them for the cache. */
	if (constant && k->p[k->len] == '\0' && memchr(k->p, '\0', k->len) == NULL)
		re = regex_cached(rt, (uint32_t)(k->p - (const char *)b->cpool), k->p, cflags);
	if (re == NULL) {
		const char *pat = k->p[k->len] == '\0' ? k->p : arena_memdup(rt->arena, k->p, k->len);
		re = regex_for_test(m, key, pat, cflags);
	}
	if (re == NULL)
		return false;

	regmatch_t pm[MATCH_MAX_VALUES];
	const char *subject = val;
	int eflags = 0;
#ifdef REG_STARTEND
	/* The value need not be NUL-terminated. */
	pm[0].rm_so = 0;
	pm[0].rm_eo = (regoff_t)len;
	eflags |= REG_STARTEND;
#else
	if (val[len] != '\0')
		subject = arena_memdup(rt->arena, val, len);
#endif
	size_t nmatch = rt->mv_enabled ? MATCH_MAX_VALUES : 0;
	if (regexec(re, subject, nmatch, pm, eflags) != 0)
		return false;
	if (rt->mv_enabled) {
		/* ${N} is group N; groups that did not take part are empty,
		   and the list ends with the last group that did. */
		struct match_values mv;
		mv.count = 0;
		for (size_t i = 0; i < MATCH_MAX_VALUES; i++) {
			if (pm[i].rm_so < 0)
				continue;
			while (mv.count < i) {
				mv.v[mv.count].p = "";
				mv.v[mv.count].len = 0;
				mv.count++;
			}
			size_t so = (size_t)pm[i].rm_so, eo = (size_t)pm[i].rm_eo;
			mv.v[i].p = arena_memdup(rt->arena, val + so, eo - so);
			mv.v[i].len = eo - so;
			mv.count = i + 1;
		}
		rt->mv = mv;
	}
	return true;
}

const struct sieve_extension_def sieve_ext_regex = {
	.name = "regex",
	.flags = SV_EF_DEFAULT_ON,
	.class_tags = regex_tags,
	.match_validate = regex_match_validate,
	.tag_links = sieve_variables_quoteregex_link,
};
