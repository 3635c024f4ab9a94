/* comparator-unicode-casemap.c: the "comparator-i;unicode-casemap"
 * extension (RFC 5051): makes the i;unicode-casemap comparator available to
 * a script that requires it.  The comparator itself (titlecase folding and
 * NFKD normalization of UTF-8, equality, substring and ordering) lives in
 * sieve/match.c with the other comparators.  RFC 5228 section 2.7.3 wants
 * every comparator but i;octet and i;ascii-casemap required by name, so it
 * is not always on (Pigeonhole 2.4 makes it a dummy, always-available
 * extension instead). */
#include "sieve/engine.h"

static const struct sieve_comparator_def cmp_unicode_casemap = {
	"i;unicode-casemap", MATCH_CMP_UNICODE_CASEMAP };
static const struct sieve_comparator_def *const unicode_casemap_comparators[] = {
	&cmp_unicode_casemap, NULL };

const struct sieve_extension_def sieve_ext_comparator_unicode_casemap = {
	.name = "comparator-i;unicode-casemap",
	.flags = SV_EF_DEFAULT_ON,
	.comparators = unicode_casemap_comparators,
};
