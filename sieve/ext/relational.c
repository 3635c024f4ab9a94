/* relational.c: the relational extension (RFC 5231): the :count and :value
 * match types, each taking a relational operator ("gt", "ge", "lt", "le",
 * "eq", "ne").  Matching itself is in match.c and matching.c. */
#include "sieve/engine.h"

static const struct sieve_tag_def tag_count = {
	"count", SV_TC_MATCH, SV_MATCH_COUNT, SV_AT_STRING, "relational match" };
static const struct sieve_tag_def tag_value = {
	"value", SV_TC_MATCH, SV_MATCH_VALUE, SV_AT_STRING, "relational match" };
static const struct sieve_tag_def *const relational_tags[] = { &tag_count, &tag_value, NULL };

const struct sieve_extension_def sieve_ext_relational = {
	.name = "relational",
	.flags = SV_EF_DEFAULT_ON,
	.class_tags = relational_tags,
};
