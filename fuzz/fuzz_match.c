/* fuzz_match.c: libFuzzer target for sieve/match.c.  The input is split at
 * its first NUL byte (or in the middle when there is none) into a value and
 * a key, and every comparator is run with every match type.  Besides "no
 * crash, no leak, no slow input", it checks properties that must hold for
 * any input:
 *   - compare is reflexive and antisymmetric, and :is / :value agree with it;
 *   - match values lie inside the value, ${0} is the whole value, and for
 *     the octet comparators substituting them into the key rebuilds it;
 *   - :contains K equals :matches "*K*" with K's wildcards escaped;
 *   - a value always :matches itself escaped. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/match.h"

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

static int fuzz_sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Returns "*" + s with '*', '?' and '\\' escaped + "*" (wrap) or just the
 * escaped s.  Caller frees. */
static char *fuzz_escape(const char *s, size_t len, bool wrap, size_t *outlen)
{
	char *out = malloc(2 * len + 3);
	size_t o = 0;

	if (out == NULL)
		abort();
	if (wrap)
		out[o++] = '*';
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '*' || s[i] == '?' || s[i] == '\\')
			out[o++] = '\\';
		out[o++] = s[i];
	}
	if (wrap)
		out[o++] = '*';
	*outlen = o;
	return out;
}

static unsigned char fuzz_fold(unsigned char c, bool fold)
{
	return fold && c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

/* For i;octet and i;ascii-casemap every unit is a byte, so replacing each
 * wildcard of the key by its match value must give back the value. */
static void fuzz_rebuild(const char *v, size_t vlen, const char *k, size_t klen,
			 const struct match_values *mv, bool fold)
{
	size_t vi = 0, wild = 0;

	for (size_t i = 0; i < klen; i++) {
		if (k[i] == '*' || k[i] == '?') {
			wild++;
			if (wild >= mv->count)
				return;	/* values past the limit were dropped */
			FUZZ_CHECK(mv->v[wild].p == v + vi);
			FUZZ_CHECK(k[i] == '*' || mv->v[wild].len == 1);
			vi += mv->v[wild].len;
			continue;
		}
		if (k[i] == '\\' && i + 1 < klen)
			i++;
		FUZZ_CHECK(vi < vlen);
		FUZZ_CHECK(fuzz_fold((unsigned char)k[i], fold) ==
			   fuzz_fold((unsigned char)v[vi], fold));
		vi++;
	}
	FUZZ_CHECK(vi == vlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	size_t vlen = nul != NULL ? (size_t)(nul - in) : size / 2;
	const char *v = in, *k = in + vlen + (nul != NULL ? 1 : 0);
	size_t klen = size - (size_t)(k - in);
	/* Copies, so ASan sees reads past either string. */
	char *vc = malloc(vlen ? vlen : 1), *kc = malloc(klen ? klen : 1);

	if (vc == NULL || kc == NULL)
		abort();
	memcpy(vc, v, vlen);
	memcpy(kc, k, klen);

	for (int ci = 0; ci < 4; ci++) {
		enum match_comparator c = (enum match_comparator)ci;
		struct match_values mv;
		int r1 = match_compare(c, vc, vlen, kc, klen);
		int r2 = match_compare(c, kc, klen, vc, vlen);
		bool substr = c != MATCH_CMP_ASCII_NUMERIC;
		bool m, ct;
		char *esc;
		size_t esclen;

		FUZZ_CHECK(fuzz_sign(r1) == -fuzz_sign(r2));
		FUZZ_CHECK(match_compare(c, vc, vlen, vc, vlen) == 0);
		FUZZ_CHECK(match_is(c, vc, vlen, kc, klen) == (r1 == 0));
		FUZZ_CHECK(match_is(c, vc, vlen, vc, vlen));
		FUZZ_CHECK(match_value(c, MATCH_REL_GT, vc, vlen, kc, klen) == (r1 > 0));
		FUZZ_CHECK(match_value(c, MATCH_REL_GE, vc, vlen, kc, klen) == (r1 >= 0));
		FUZZ_CHECK(match_value(c, MATCH_REL_LT, vc, vlen, kc, klen) == (r1 < 0));
		FUZZ_CHECK(match_value(c, MATCH_REL_LE, vc, vlen, kc, klen) == (r1 <= 0));
		FUZZ_CHECK(match_value(c, MATCH_REL_EQ, vc, vlen, kc, klen) == (r1 == 0));
		FUZZ_CHECK(match_value(c, MATCH_REL_NE, vc, vlen, kc, klen) == (r1 != 0));
		(void)match_count(c, MATCH_REL_EQ, vlen, kc, klen);

		memset(&mv, 0, sizeof(mv));
		m = match_matches(c, vc, vlen, kc, klen, &mv);
		ct = match_contains(c, vc, vlen, kc, klen);
		if (!substr) {
			FUZZ_CHECK(!m && !ct);
			continue;
		}
		if (m) {
			FUZZ_CHECK(mv.count >= 1 && mv.count <= MATCH_MAX_VALUES);
			FUZZ_CHECK(mv.v[0].p == vc && mv.v[0].len == vlen);
			for (size_t i = 1; i < mv.count; i++) {
				FUZZ_CHECK(mv.v[i].p >= vc);
				FUZZ_CHECK(mv.v[i].len <= vlen);
				FUZZ_CHECK((size_t)(mv.v[i].p - vc) <= vlen - mv.v[i].len);
			}
			if (c != MATCH_CMP_UNICODE_CASEMAP)
				fuzz_rebuild(vc, vlen, kc, klen, &mv,
					     c == MATCH_CMP_ASCII_CASEMAP);
		}
		esc = fuzz_escape(kc, klen, true, &esclen);
		FUZZ_CHECK(ct == match_matches(c, vc, vlen, esc, esclen, NULL));
		free(esc);
		esc = fuzz_escape(vc, vlen, false, &esclen);
		FUZZ_CHECK(match_matches(c, vc, vlen, esc, esclen, NULL));
		free(esc);
	}
	free(vc);
	free(kc);
	return 0;
}
