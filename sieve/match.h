/* match.h: comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric,
 * and RFC 5051 i;unicode-casemap) and match types (:is, :contains, :matches,
 * relational :value, and the regex hook).  Pure functions over byte strings:
 * no Sieve runtime state, so they are unit-tested and fuzzed alone.
 * :matches runs in linear time (no backtracking blow-up). */
#ifndef TAMIS_MATCH_H
#define TAMIS_MATCH_H
#include <stddef.h>
#include <stdbool.h>
#include "lib/arena.h"

enum match_comparator {
	MATCH_CMP_OCTET,
	MATCH_CMP_ASCII_CASEMAP,
	MATCH_CMP_ASCII_NUMERIC,
	MATCH_CMP_UNICODE_CASEMAP,
};

enum match_relation {
	MATCH_REL_GT, MATCH_REL_GE, MATCH_REL_LT, MATCH_REL_LE, MATCH_REL_EQ, MATCH_REL_NE,
};

/* Match values for variables (RFC 5229 section 3.2): ${0} is the whole
 * matched string, ${1}.. the parts matched by each wildcard in order. */
#define MATCH_MAX_VALUES 32
struct match_values {
	size_t count;
	struct { const char *p; size_t len; } v[MATCH_MAX_VALUES];
	/* Every entry points into the matched value (no copies are made), so
	   the values live exactly as long as that value's buffer. */
};

/* Name <-> enum, e.g. "i;ascii-casemap".  Returns -1 if unknown. */
int match_comparator_lookup(const char *name);
const char *match_comparator_name(enum match_comparator c);
/* "gt" "ge" "lt" "le" "eq" "ne" (case-insensitive) -> relation, or -1. */
int match_relation_lookup(const char *name);

/* Comparator ordering for relational :value and i;ascii-numeric equality.
 * Returns <0, 0, >0.  For i;ascii-numeric, a string that does not start with
 * a digit is "positive infinity" (RFC 4790 section 9.1.1). */
int match_compare(enum match_comparator c, const char *a, size_t alen,
		  const char *b, size_t blen);

/* :is.  i;ascii-numeric compares numerically. */
bool match_is(enum match_comparator c, const char *val, size_t vlen,
	      const char *key, size_t klen);

/* :contains.  Returns false for i;ascii-numeric (it has no substring op);
 * callers that care report that at compile time. */
bool match_contains(enum match_comparator c, const char *val, size_t vlen,
		    const char *key, size_t klen);

/* :matches with '*' and '?' and '\\' escapes, in linear time.  When `mv`
 * is non-NULL it receives the match values on success and is left untouched
 * on failure (mv->v[0] = whole value, then one entry per wildcard in key
 * order, each '*' as short as possible from the left; wildcards past
 * MATCH_MAX_VALUES-1 are dropped).  '?' is one octet for i;octet and
 * i;ascii-casemap and one UTF-8 character for i;unicode-casemap
 * (RFC 5228 2.7.1).  Always false for i;ascii-numeric. */
bool match_matches(enum match_comparator c, const char *val, size_t vlen,
		   const char *key, size_t klen, struct match_values *mv);

/* relational :value: true when `val REL key` under comparator c. */
bool match_value(enum match_comparator c, enum match_relation rel,
		 const char *val, size_t vlen, const char *key, size_t klen);
/* relational :count: compares a count with a key under the comparator. */
bool match_count(enum match_comparator c, enum match_relation rel,
		 size_t count, const char *key, size_t klen);

#endif
